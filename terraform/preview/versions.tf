terraform {
  required_version = ">= 1.11"

  # Partial configuration: prenv passes bucket, region, key, workspace_key_prefix and use_lockfile
  # with -backend-config. One workspace per pull request (pr-<N>).
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

# Region and credentials come from the environment (AWS_REGION, the SDK's credential chain,
# AWS_ENDPOINT_URL for an emulator): nothing account-specific is written here.
provider "aws" {
  default_tags {
    tags = {
      "prenv:repository" = local.repository
      "prenv:pr"         = tostring(var.pr_number)
      "prenv:workspace"  = local.workspace
      "prenv:managed-by" = "prenv"
    }
  }
}

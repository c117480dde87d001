terraform {
  required_version = ">= 1.11"

  # Partial configuration, like the preview root: pass bucket, region, key (e.g. base.tfstate) and
  # use_lockfile with -backend-config. Applied once, in the default workspace.
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

# Region and credentials come from the environment. The base carries no prenv:pr / prenv:workspace
# tags: it belongs to no preview, so cleanup never takes it for an orphaned preview resource.
provider "aws" {
  default_tags {
    tags = {
      "prenv:repository" = local.repository
      "prenv:component"  = "base"
      "prenv:managed-by" = "prenv"
    }
  }
}

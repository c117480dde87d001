terraform {
  required_version = ">= 1.11"

  # Local state: this root creates the state bucket. Keep terraform.tfstate safe (or migrate it into
  # the bucket afterwards with a backend "s3" block and `terraform init -migrate-state`).

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

provider "aws" {
  default_tags {
    tags = {
      "prenv:repository" = local.repository
      "prenv:component"  = "bootstrap"
      "prenv:managed-by" = "prenv"
    }
  }
}

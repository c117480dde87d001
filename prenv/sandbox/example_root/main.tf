# A light preview root that creates real AWS resources the embedded emulator supports. `prenv sandbox`
# runs it when the repository has no terraform/preview; the tests use it where the full stack's
# minutes of provider waits would add nothing.

terraform {
  required_version = ">= 1.11"
  backend "s3" {}
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

variable "pr_number" {
  type = number
  validation {
    condition     = var.pr_number >= 1 && floor(var.pr_number) == var.pr_number
    error_message = "pr_number must be a positive whole number."
  }
}

variable "workspace" {
  type = string
}

variable "name_prefix" {
  type = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be lowercase letters, digits and hyphens, at most 26 characters."
  }
}

variable "repository" {
  type = string
}

variable "image" {
  type    = string
  default = "public.ecr.aws/docker/library/nginx:1.27-alpine"
}

variable "log_retention_days" {
  type    = number
  default = 1
}

provider "aws" {
  default_tags {
    tags = {
      "prenv:repository" = var.repository
      "prenv:pr"         = tostring(var.pr_number)
      "prenv:workspace"  = var.workspace
    }
  }
}

data "aws_vpc" "default" {
  default = true
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/prenv/${var.name_prefix}"
  retention_in_days = var.log_retention_days
}

resource "aws_security_group" "this" {
  name        = "${var.name_prefix}-svc"
  description = "prenv sandbox preview for PR ${var.pr_number}"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_ssm_parameter" "image" {
  name  = "/prenv/${var.name_prefix}/image"
  type  = "String"
  value = var.image
}

output "url" {
  value = "http://${var.name_prefix}.preview.invalid/"
}

output "log_group" {
  value = aws_cloudwatch_log_group.this.name
}

output "security_group_id" {
  value = aws_security_group.this.id
}

output "image_parameter_arn" {
  value     = aws_ssm_parameter.image.arn
  sensitive = true
}

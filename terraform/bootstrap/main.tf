# Applied once by a maintainer, with their own credentials: the state bucket, GitHub's OIDC provider
# and the role the preview workflows assume. No access keys exist anywhere: workflows get short-lived
# credentials through OIDC, limited to this repository's pull_request events and its main branch.

locals {
  repository = var.repository
  hash6      = substr(sha256(lower(trimspace(var.repository))), 0, 6)
  name       = "prenv-${local.hash6}"

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  bucket     = var.state_bucket_name != "" ? var.state_bucket_name : "${local.name}-tfstate-${local.account_id}"

  oidc_host = "token.actions.githubusercontent.com"
  # Known at plan time (not read from the provider resource), so the trust policy renders in a plan.
  oidc_provider_arn = "arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.oidc_host}"
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# --- State bucket ----------------------------------------------------------------------------------

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_144:State of short-lived previews; cross-region replication is optional and costs a second bucket.
  #checkov:skip=CKV_AWS_18:Access to the state bucket is recorded by CloudTrail; a separate access-log bucket is optional.
  #checkov:skip=CKV2_AWS_62:No consumer for S3 event notifications of state writes.
  bucket = local.bucket

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms" # the account's AWS-managed key for S3
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

data "aws_iam_policy_document" "state_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      "arn:${local.partition}:s3:::${local.bucket}",
      "arn:${local.partition}:s3:::${local.bucket}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket     = aws_s3_bucket.state.id
  policy     = data.aws_iam_policy_document.state_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.state]
}

# --- GitHub OIDC -----------------------------------------------------------------------------------

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_oidc_provider ? 1 : 0
  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS trusts GitHub's OIDC endpoint through its own root CAs; the thumbprint is kept for older setups.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
}

data "aws_iam_policy_document" "trust" {
  #checkov:skip=CKV_AWS_358:False positive: the subjects are exact (repo:<owner/name>:pull_request and :ref:refs/heads/<main_branch>) but checkov cannot read owner/name inside ${var.repository}; the variable's validation refuses wildcards and tests/terraform checks the rendered policy.
  statement {
    sid     = "GitHubActionsOfThisRepository"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    # Exact subjects, no wildcard: pull_request events of this repository (previews), and its main
    # branch (the cleanup schedule). Workflows that set `environment:` get another subject and are
    # refused.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values = [
        "repo:${local.repository}:pull_request",
        "repo:${local.repository}:ref:refs/heads/${var.main_branch}",
      ]
    }
  }
}

resource "aws_iam_role" "preview" {
  name                 = "${local.name}-github-preview"
  description          = "Assumed by the prenv workflows of ${local.repository} (pull_request events and ${var.main_branch})"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_hours * 3600
  # Whatever the role is given (extensions.tf), it never gets past these guard rails.
  permissions_boundary = aws_iam_policy.github_boundary.arn
  depends_on           = [aws_iam_openid_connect_provider.github]
}

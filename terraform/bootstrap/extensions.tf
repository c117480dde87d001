# What the workflows' role may be given beyond prenv's own policies (permissions.tf), for a Terraform
# root of your own, and the permissions boundary that holds whatever it is given. The boundary allows
# everything except the guard rails below, so it never takes away what prenv's policies grant (tests/iam
# evaluates every recorded call under it) and it keeps the guard rails even with AdministratorAccess
# attached (tests/iam/test_extensions.py).

resource "aws_iam_policy" "extra" {
  for_each    = var.extra_policy_documents
  name        = "${local.name}-extra-${each.key}"
  description = "prenv previews of ${local.repository}: extra grant ${each.key} (terraform/bootstrap extra_policy_documents)"
  policy      = each.value
}

resource "aws_iam_role_policy_attachment" "extra" {
  for_each   = aws_iam_policy.extra
  role       = aws_iam_role.preview.name
  policy_arn = each.value.arn
}

resource "aws_iam_role_policy_attachment" "managed" {
  for_each   = toset(var.extra_managed_policy_arns)
  role       = aws_iam_role.preview.name
  policy_arn = each.value
}

locals {
  github_role     = "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-github-preview"
  github_boundary = "arn:${local.partition}:iam::${local.account_id}:policy/${local.name}-github-boundary"
}

data "aws_iam_policy_document" "github_boundary" {
  #checkov:skip=CKV_AWS_110:A permissions boundary, not a grant: it lets through only what the role's own policies allow, and its Deny statements are the guard rails (tests/iam/test_extensions.py).
  #checkov:skip=CKV_AWS_1:A permissions boundary, not a grant: its Allow * is the upper bound of the role's own policies.
  #checkov:skip=CKV_AWS_49:A permissions boundary, not a grant: its Allow * is the upper bound of the role's own policies.
  #checkov:skip=CKV_AWS_107:A permissions boundary, not a grant: its Allow * is the upper bound of the role's own policies.
  #checkov:skip=CKV_AWS_108:A permissions boundary, not a grant: its Allow * is the upper bound of the role's own policies.
  #checkov:skip=CKV_AWS_109:A permissions boundary, not a grant: its Allow * is the upper bound of the role's own policies.
  #checkov:skip=CKV_AWS_111:A permissions boundary, not a grant: its Allow * is the upper bound of the role's own policies.
  #checkov:skip=CKV_AWS_356:A permissions boundary, not a grant: its Allow * is the upper bound of the role's own policies.
  statement {
    sid       = "WhatTheRolesPoliciesAllow"
    actions   = ["*"]
    resources = ["*"]
  }

  statement {
    sid    = "NoLongLivedCredentials"
    effect = "Deny"
    actions = [
      "iam:CreateUser",
      "iam:CreateAccessKey",
      "iam:CreateLoginProfile",
      "iam:UpdateLoginProfile",
      "iam:CreateServiceSpecificCredential",
      "iam:UploadSSHPublicKey",
      "iam:UploadSigningCertificate",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "BoundariesStay"
    effect = "Deny"
    actions = [
      "iam:CreatePolicyVersion",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:SetDefaultPolicyVersion",
    ]
    resources = [local.arn.boundary, local.github_boundary]
  }

  statement {
    sid    = "NoRoleWithoutItsBoundary"
    effect = "Deny"
    actions = [
      "iam:DeleteRolePermissionsBoundary",
      "iam:DeleteUserPermissionsBoundary",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "RolesOnlyWithThePreviewBoundary"
    effect = "Deny"
    actions = [
      "iam:CreateRole",
      "iam:PutRolePermissionsBoundary",
    ]
    resources = ["*"]
    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.arn.boundary]
    }
  }

  statement {
    sid    = "NotItself"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:DeleteRole",
      "iam:TagRole",
      "iam:UntagRole",
    ]
    resources = [local.github_role]
  }

  statement {
    sid    = "TheStateBucketStays"
    effect = "Deny"
    actions = [
      "s3:DeleteBucket",
      "s3:DeleteBucketPolicy",
      "s3:PutBucketPolicy",
      "s3:PutBucketVersioning",
      "s3:PutLifecycleConfiguration",
      "s3:PutEncryptionConfiguration",
      "s3:PutBucketPublicAccessBlock",
      "s3:PutBucketOwnershipControls",
    ]
    resources = [local.arn.bucket]
  }

  statement {
    sid    = "TheTrustStays"
    effect = "Deny"
    actions = [
      "iam:DeleteOpenIDConnectProvider",
      "iam:UpdateOpenIDConnectProviderThumbprint",
      "iam:AddClientIDToOpenIDConnectProvider",
      "iam:RemoveClientIDFromOpenIDConnectProvider",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "github_boundary" {
  name        = "${local.name}-github-boundary"
  description = "prenv previews of ${local.repository}: the permissions boundary of the workflows' role"
  policy      = data.aws_iam_policy_document.github_boundary.json
}

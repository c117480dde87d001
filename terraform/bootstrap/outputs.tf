output "state_bucket" {
  description = "The state bucket: prenv's backend.bucket."
  value       = aws_s3_bucket.state.bucket
}

output "region" {
  description = "Region of the bucket and of the previews: prenv's backend.region and the workflow's AWS_REGION."
  value       = local.region
}

output "workspace_key_prefix" {
  description = "prenv's backend.workspace_key_prefix (the role may write state only below it)."
  value       = var.workspace_key_prefix
}

output "state_key" {
  description = "prenv's backend.key (the role may read only this key outside the workspace prefix)."
  value       = var.state_key
}

output "role_arn" {
  description = "Role the workflows assume (aws-actions/configure-aws-credentials role-to-assume); store it as a repository variable."
  value       = aws_iam_role.preview.arn
}

output "oidc_provider_arn" {
  description = "The GitHub OIDC provider the role trusts."
  value       = local.oidc_provider_arn
}

output "oidc_subjects" {
  description = "The exact OIDC subjects the role accepts."
  value       = ["repo:${local.repository}:pull_request", "repo:${local.repository}:ref:refs/heads/${var.main_branch}"]
}

output "role_boundary_arn" {
  description = "The permissions boundary of the workflows' role: its guard rails hold whatever extra_policy_documents or extra_managed_policy_arns grant."
  value       = aws_iam_policy.github_boundary.arn
}

# Who may open the preview: the base's ingress_cidrs (published as the ALB tag prenv:public) and,
# optionally, a sign-in with the organisation's identity provider on the preview's host rule (var.oidc).
# The output `access` says which; prenv's ready comment tells reviewers whether the preview is public.

locals {
  # terraform/base tags its ALB prenv:public = "false" when ingress_cidrs does not hold 0.0.0.0/0.
  ip_restricted = lookup(data.aws_lb.base.tags, "prenv:public", "true") == "false"
  sign_in       = var.oidc != null
}

# The client secret, read when the rule is planned. The ALB API takes it as a value, so it is in this
# preview's state (the encrypted, TLS-only state bucket) and marked sensitive in the plan; it is never in
# an output, a comment or a log.
data "aws_secretsmanager_secret_version" "oidc" {
  count     = local.sign_in ? 1 : 0
  secret_id = var.oidc.client_secret_arn

  lifecycle {
    precondition {
      condition     = local.domain != "" && local.https
      error_message = "oidc needs the base's domain with HTTPS: the ALB signs users in on HTTPS listeners only, and without a domain each preview has its own plain-HTTP port. Give terraform/base a domain and a certificate (route53_zone_id or certificate_arn), or remove oidc."
    }
  }
}

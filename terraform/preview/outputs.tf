output "url" {
  description = "URL of the preview."
  value       = local.url
}

output "region" {
  description = "AWS region of the preview."
  value       = local.region
}

output "ecs_cluster" {
  description = "Name of the shared ECS cluster."
  value       = data.aws_ecs_cluster.base.cluster_name
}

output "ecs_service" {
  description = "Name of the preview's ECS service."
  value       = aws_ecs_service.app.name
}

output "log_group" {
  description = "CloudWatch log group of the application's containers."
  value       = aws_cloudwatch_log_group.app.name
}

output "db_endpoint" {
  description = "Address of the preview's PostgreSQL (host name, port 5432)."
  value       = aws_db_instance.this.address
}

output "db_identifier" {
  description = "Identifier of the preview's RDS instance."
  value       = aws_db_instance.this.identifier
}

output "db_secret_arn" {
  description = "ARN of the RDS-managed secret holding the database user and password (the ARN only, never the password)."
  value       = local.secret_arn
}

output "name_prefix" {
  description = "Prefix of the preview's resource names."
  value       = local.name_prefix
}

output "target_group_arn" {
  description = "ARN of the preview's target group (target health)."
  value       = aws_lb_target_group.this.arn
}

output "access" {
  description = "Who may open the preview: public (no IP restriction, no sign-in), ip_restricted (the base's ingress_cidrs), sign_in (the identity provider's issuer, or empty)."
  value = {
    public        = !local.ip_restricted && !local.sign_in
    ip_restricted = local.ip_restricted
    sign_in       = local.sign_in ? var.oidc.issuer : ""
  }
}

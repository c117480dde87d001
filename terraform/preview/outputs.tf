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

output "database_mode" {
  description = "What database the preview has: dedicated (its own RDS instance), shared (a database on the base's shared server) or none."
  value       = var.database_mode
}

output "db_endpoint" {
  description = "Address of the preview's PostgreSQL (host name, port 5432); empty without a database."
  value       = local.db == null ? "" : local.db.host
}

output "db_identifier" {
  description = "Identifier of the preview's RDS instance; empty unless database_mode is dedicated."
  value       = local.dedicated ? local.db.identifier : ""
}

output "db_cluster" {
  description = "Identifier of the shared Aurora cluster the preview's database is on; empty unless database_mode is shared."
  value       = local.shared ? local.db.identifier : ""
}

output "db_name" {
  description = "Name of the preview's database (and, in shared mode, of its role); empty without a database."
  value       = local.db == null ? "" : local.db.name
}

output "db_secret_arn" {
  description = "ARN of the secret holding the database user and password (the ARN only, never the password); empty without a database."
  value       = local.db == null ? "" : local.db.secret_arn
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

output "name" {
  description = "Name of the shared resources, prenv-<hash6>; the preview root computes it from the repository."
  value       = local.name
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "Public subnets (the ALB)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets (tasks and databases)."
  value       = aws_subnet.private[*].id
}

output "alb_arn" {
  description = "ARN of the shared ALB (attach a WAF web ACL here if needed)."
  value       = aws_lb.this.arn
}

output "alb_dns_name" {
  description = "DNS name of the shared ALB; without a domain, previews are at http://<this>:<10000 + PR>/."
  value       = aws_lb.this.dns_name
}

output "alb_security_group_id" {
  description = "Security group of the ALB."
  value       = aws_security_group.alb.id
}

output "listener_arn" {
  description = "Listener the previews' host rules attach to (HTTPS when a certificate exists)."
  value       = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http[0].arn
}

output "ecs_cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "db_subnet_group_name" {
  description = "DB subnet group of the previews' databases."
  value       = aws_db_subnet_group.this.name
}

output "ecr_repository_url" {
  description = "Where the workflow pushes the application image (tag it with the commit SHA)."
  value       = aws_ecr_repository.app.repository_url
}

output "preview_permissions_boundary_arn" {
  description = "Permissions boundary every preview role carries."
  value       = aws_iam_policy.preview_boundary.arn
}

output "domain" {
  description = "Domain of the previews' host names (empty: one listener port per preview)."
  value       = var.domain
}

output "preview_url_pattern" {
  description = "Where preview <N> is served."
  value       = var.domain != "" ? "${local.https ? "https" : "http"}://pr-<N>.${var.domain}/" : "http://${aws_lb.this.dns_name}:<10000 + N>/"
}

output "shared_database_cluster" {
  description = "Identifier of the shared database server (database.mode shared); empty without one."
  value       = try(aws_rds_cluster.shared[0].cluster_identifier, "")
}

output "shared_database_endpoint" {
  description = "Writer endpoint of the shared database server; empty without one."
  value       = try(aws_rds_cluster.shared[0].endpoint, "")
}

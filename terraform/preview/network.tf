# Security groups: the ALB reaches the service on its port; only the service reaches the database (its
# own in dedicated mode; in shared mode the service also joins the base's db-clients group, the only
# one the shared server accepts).

resource "aws_security_group" "service" {
  name        = local.names.service_security_group
  description = "prenv preview PR ${var.pr_number}: the application tasks"
  vpc_id      = data.aws_vpc.base.id
}

resource "aws_security_group" "db" {
  count       = local.dedicated ? 1 : 0
  name        = local.names.db_security_group
  description = "prenv preview PR ${var.pr_number}: PostgreSQL, reachable only from the application"
  vpc_id      = data.aws_vpc.base.id
}

resource "aws_vpc_security_group_ingress_rule" "service_from_alb" {
  security_group_id            = aws_security_group.service.id
  description                  = "HTTP from the shared load balancer"
  referenced_security_group_id = data.aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

# HTTPS out: image pulls (ECR, public registries), Secrets Manager, CloudWatch Logs, ECS Exec (SSM).
resource "aws_vpc_security_group_egress_rule" "service_https" {
  security_group_id = aws_security_group.service.id
  description       = "HTTPS to AWS APIs and image registries"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "service_db" {
  count                        = local.dedicated ? 1 : 0
  security_group_id            = aws_security_group.service.id
  description                  = "PostgreSQL of this preview"
  referenced_security_group_id = aws_security_group.db[0].id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_ingress_rule" "db_from_service" {
  count                        = local.dedicated ? 1 : 0
  security_group_id            = aws_security_group.db[0].id
  description                  = "PostgreSQL from this preview's tasks only"
  referenced_security_group_id = aws_security_group.service.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

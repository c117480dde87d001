# One pull request's preview: target group + routing on the shared ALB, log group, task definition,
# ECS service and its database (database.tf: an RDS instance, a database on the base's shared server,
# or none). The shared base (terraform/base) is found by name: its names derive
# from the repository alone (prenv-<hash6>), so prenv passes nothing about it.

locals {
  repository  = trimspace(var.repository)
  hash6       = substr(sha256(lower(local.repository)), 0, 6)
  base_name   = "prenv-${local.hash6}"
  name_prefix = coalesce(var.name_prefix, "${local.base_name}-pr${var.pr_number}")
  workspace   = coalesce(var.workspace, terraform.workspace)

  # Names, equal to prenv/core/naming.py's names_for(); tests/terraform holds the two together.
  names = {
    target_group           = local.name_prefix
    rds_identifier         = "${local.name_prefix}-db"
    ecs_service            = "${local.name_prefix}-app"
    task_family            = "${local.name_prefix}-app"
    log_group              = "/prenv/${local.hash6}/pr${var.pr_number}"
    execution_role         = "${local.name_prefix}-exec"
    task_role              = "${local.name_prefix}-task"
    service_security_group = "${local.name_prefix}-svc"
    db_security_group      = "${local.name_prefix}-db"
  }

  # Settings the base publishes as tags of its ALB (see terraform/base/main.tf).
  domain        = lookup(data.aws_lb.base.tags, "prenv:domain", "")
  https         = lookup(data.aws_lb.base.tags, "prenv:https", "false") == "true"
  host          = "pr-${var.pr_number}.${local.domain}"
  listener_port = 10000 + var.pr_number
  url = (local.domain != ""
    ? "${local.https ? "https" : "http"}://${local.host}/"
    : "http://${data.aws_lb.base.dns_name}:${local.listener_port}/"
  )

  container_name = "app"

  account_id       = data.aws_caller_identity.current.account_id
  partition        = data.aws_partition.current.partition
  region           = data.aws_region.current.name
  base_ecr_arn     = "arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/${local.base_name}"
  log_group_arn    = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.names.log_group}"
  permissions_base = "arn:${local.partition}:iam::${local.account_id}:policy/${local.base_name}-preview-boundary"
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# --- The shared base, by name ----------------------------------------------------------------------

data "aws_vpc" "base" {
  tags = { Name = local.base_name }
}

data "aws_subnets" "private" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.base.id]
  }
  tags = { "prenv:tier" = "private" }
}

data "aws_lb" "base" {
  name = local.base_name
}

data "aws_security_group" "alb" {
  name   = "${local.base_name}-alb"
  vpc_id = data.aws_vpc.base.id
}

data "aws_ecs_cluster" "base" {
  cluster_name = local.base_name
}

data "aws_db_subnet_group" "base" {
  count = local.dedicated ? 1 : 0
  name  = local.base_name
}

data "aws_lb_listener" "shared" {
  count             = local.domain != "" ? 1 : 0
  load_balancer_arn = data.aws_lb.base.arn
  port              = local.https ? 443 : 80
}

# --- Routing: own listener port without a domain, host rule with one -------------------------------

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:Ephemeral preview: TLS ends at the shared ALB; the hop to the task stays inside the VPC, allowed only by the service's security group.
  name                 = local.names.target_group
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = data.aws_vpc.base.id
  deregistration_delay = 15

  health_check {
    path                = var.health_check_path
    matcher             = "200-399"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "port" {
  #checkov:skip=CKV_AWS_2:Ephemeral preview without a domain: no certificate can match the ALB's DNS name, so it is served over HTTP on its own port; give the base a domain and certificate for HTTPS.
  #checkov:skip=CKV_AWS_103:Ephemeral preview without a domain: an HTTP listener, so no TLS policy applies.
  count             = local.domain == "" ? 1 : 0
  load_balancer_arn = data.aws_lb.base.arn
  port              = local.listener_port
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  lifecycle {
    precondition {
      condition     = local.listener_port <= 60000
      error_message = "PR ${var.pr_number} would need listener port ${local.listener_port}; ports stop at 60000. Give terraform/base a domain to route by host name instead."
    }
  }
}

resource "aws_lb_listener_rule" "host" {
  count        = local.domain != "" ? 1 : 0
  listener_arn = data.aws_lb_listener.shared[0].arn
  priority     = var.pr_number

  # Sign-in first, when configured (access.tf).
  dynamic "action" {
    for_each = local.sign_in ? [var.oidc] : []
    content {
      type  = "authenticate-oidc"
      order = 1
      authenticate_oidc {
        issuer                     = action.value.issuer
        authorization_endpoint     = action.value.authorization_endpoint
        token_endpoint             = action.value.token_endpoint
        user_info_endpoint         = action.value.user_info_endpoint
        client_id                  = action.value.client_id
        client_secret              = data.aws_secretsmanager_secret_version.oidc[0].secret_string
        scope                      = action.value.scope
        session_timeout            = action.value.session_timeout
        on_unauthenticated_request = "authenticate"
      }
    }
  }

  action {
    type             = "forward"
    order            = local.sign_in ? 2 : null
    target_group_arn = aws_lb_target_group.this.arn
  }

  condition {
    host_header {
      values = [local.host]
    }
  }
}

# --- Logs ------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "app" {
  #checkov:skip=CKV_AWS_338:Ephemeral preview: logs live as long as the preview (log_retention_days), not a year.
  #checkov:skip=CKV_AWS_158:Ephemeral preview: encrypted at rest by CloudWatch's own key; a KMS key per PR costs more than the preview.
  name              = local.names.log_group
  retention_in_days = var.log_retention_days
}

# The shared Application Load Balancer. Previews attach to it: with a domain, one host rule each
# (pr-<N>.<domain>) on the HTTPS (or HTTP) listener; without, one listener each on port 10000 + N.
# The ALB's prenv:* tags tell the preview root which.

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "prenv shared ALB of ${local.repository}"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  #checkov:skip=CKV_AWS_260:HTTP 80 is the public entry point of the previews; it answers 404 or redirects to HTTPS when a certificate is configured.
  for_each          = toset(var.ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTP"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each          = local.https ? toset(var.ingress_cidrs) : toset([])
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "alb_preview_ports" {
  for_each          = var.domain == "" ? toset(var.ingress_cidrs) : toset([])
  security_group_id = aws_security_group.alb.id
  description       = "Preview listeners: port 10000 + PR number"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = local.preview_ports.from
  to_port           = local.preview_ports.to
}

resource "aws_vpc_security_group_egress_rule" "alb_to_targets" {
  security_group_id = aws_security_group.alb.id
  description       = "To the preview tasks inside the VPC"
  cidr_ipv4         = aws_vpc.this.cidr_block
  ip_protocol       = "tcp"
  from_port         = 1024
  to_port           = 65535
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:Preview traffic only; attach a WAF web ACL to the ALB (output alb_arn) if the previews need one.
  #checkov:skip=CKV2_AWS_20:HTTP redirects to HTTPS once a certificate exists (http_redirect); without one, HTTP is all the ALB can serve.
  #checkov:skip=CKV_AWS_91:No access-log bucket by default for preview traffic; ECS and the application log every request.
  name                       = local.name
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb.id]
  subnets                    = aws_subnet.public[*].id
  drop_invalid_header_fields = true
  enable_deletion_protection = var.alb_deletion_protection
  idle_timeout               = 60

  # Read by terraform/preview (data "aws_lb"): how previews are routed.
  tags = merge(
    {
      "prenv:https" = tostring(local.https)
      # Open to the whole internet, or only to some address ranges (the preview's `access` output).
      "prenv:public" = tostring(contains(var.ingress_cidrs, "0.0.0.0/0"))
    },
    var.domain != "" ? { "prenv:domain" = var.domain } : {},
  )
}

# HTTP without a certificate: a 404 for anything that matches no preview (host rules go here).
resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:HTTP only because no certificate is configured; with certificate_arn (or a Route53 zone) the http_redirect listener replaces this one.
  #checkov:skip=CKV_AWS_103:HTTP listener: no TLS policy applies; HTTPS uses ELBSecurityPolicy-TLS13-1-2-2021-06.
  count             = local.https ? 0 : 1
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "No preview here."
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener" "http_redirect" {
  count             = local.https ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = local.https ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = local.certificate_arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "No preview here."
      status_code  = "404"
    }
  }
}

# --- Optional DNS: *.<domain> -> ALB, and a certificate when none is given --------------------------

locals {
  dns                = var.domain != "" && var.route53_zone_id != ""
  create_certificate = local.dns && var.certificate_arn == ""
}

resource "aws_route53_record" "wildcard" {
  count   = local.dns ? 1 : 0
  zone_id = var.route53_zone_id
  name    = "*.${var.domain}"
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = false
  }
}

resource "aws_acm_certificate" "wildcard" {
  #checkov:skip=CKV2_AWS_71:Previews come and go as pr-<N>.<domain>; one wildcard certificate covers them without issuing a certificate per pull request.
  count             = local.create_certificate ? 1 : 0
  domain_name       = "*.${var.domain}"
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = local.create_certificate ? {
    for o in aws_acm_certificate.wildcard[0].domain_validation_options : o.domain_name => o
  } : {}
  zone_id         = var.route53_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "wildcard" {
  count                   = local.create_certificate ? 1 : 0
  certificate_arn         = aws_acm_certificate.wildcard[0].arn
  validation_record_fqdns = [for r in aws_route53_record.certificate_validation : r.fqdn]
}

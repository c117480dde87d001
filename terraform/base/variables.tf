variable "repository" {
  description = "The GitHub repository, owner/name. Its hash names everything here (prenv-<hash6>), which is how the preview root finds the base."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", trimspace(var.repository)))
    error_message = "repository must be the GitHub repository as owner/name."
  }
}

variable "az_count" {
  description = "Number of availability zones the VPC spans (RDS needs at least two)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4 && floor(var.az_count) == var.az_count
    error_message = "az_count must be 2, 3 or 4: RDS needs subnets in at least two availability zones."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC (/16 to /20); split into one public and one private subnet per zone."
  type        = string
  default     = "10.80.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR block from /16 to /20, such as 10.80.0.0/16."
  }
}

variable "ingress_cidrs" {
  description = "Who may reach the previews through the ALB (IPv4 CIDR blocks)."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.ingress_cidrs) > 0 && alltrue([for c in var.ingress_cidrs : can(cidrhost(c, 0)) && strcontains(c, ".")])
    error_message = "ingress_cidrs must hold at least one IPv4 CIDR block, such as 203.0.113.0/24."
  }
}

variable "domain" {
  description = "Domain under which previews get host names pr-<N>.<domain>; empty: each preview gets its own listener port on the ALB instead."
  type        = string
  default     = ""

  validation {
    condition     = var.domain == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase DNS name such as preview.example.com (or empty)."
  }
}

variable "route53_zone_id" {
  description = "Route53 hosted zone of the domain; when set, a wildcard record *.<domain> points at the ALB (and a certificate is issued unless certificate_arn is given)."
  type        = string
  default     = ""

  validation {
    condition     = var.route53_zone_id == "" || can(regex("^Z[A-Z0-9]{1,31}$", var.route53_zone_id))
    error_message = "route53_zone_id must be a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ (or empty)."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for *.<domain>; when set, HTTPS (TLS 1.2+) serves the previews and HTTP redirects to it."
  type        = string
  default     = ""

  validation {
    condition     = var.certificate_arn == "" || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (or empty)."
  }
  validation {
    condition     = var.certificate_arn == "" || var.domain != ""
    error_message = "certificate_arn needs domain: previews are routed by host name pr-<N>.<domain> under HTTPS."
  }
}

variable "alb_deletion_protection" {
  description = "Protect the shared ALB from deletion (turn off before destroying the base)."
  type        = bool
  default     = true
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow log (rejected traffic), in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch retention value from 1 to 365."
  }
}

variable "ecr_image_tag_mutability" {
  description = "IMMUTABLE (tag images with the commit SHA) or MUTABLE."
  type        = string
  default     = "IMMUTABLE"

  validation {
    condition     = contains(["IMMUTABLE", "MUTABLE"], var.ecr_image_tag_mutability)
    error_message = "ecr_image_tag_mutability must be IMMUTABLE or MUTABLE."
  }
}

# --- database.mode shared ----------------------------------------------------------------------------

variable "shared_database" {
  description = "Create the shared database server of database.mode shared: one Aurora PostgreSQL Serverless v2 cluster (Data API on, 0 ACU when idle) on which each preview gets a database and a role of its own."
  type        = bool
  default     = false
}

variable "shared_database_engine_version" {
  description = "Aurora PostgreSQL version of the shared server: 16.x, 16.3 or later (0 ACU and the Data API need it)."
  type        = string
  default     = "16.6"

  validation {
    condition = (
      can(regex("^16\\.[0-9]+$", var.shared_database_engine_version))
      && try(tonumber(split(".", var.shared_database_engine_version)[1]) >= 3, false)
    )
    error_message = "shared_database_engine_version must be Aurora PostgreSQL 16.3 or later 16.x (16 like the previews' RDS and docker-compose.yml; 16.3 is the first to scale to 0 ACU)."
  }
}

variable "shared_database_max_capacity" {
  description = "Most Aurora capacity units (ACU, about 2 GiB of memory each) the shared server scales to under load."
  type        = number
  default     = 2

  validation {
    condition     = var.shared_database_max_capacity >= 1 && var.shared_database_max_capacity <= 16 && var.shared_database_max_capacity * 2 == floor(var.shared_database_max_capacity * 2)
    error_message = "shared_database_max_capacity must be from 1 to 16 ACU, in steps of 0.5."
  }
}

variable "shared_database_auto_pause_seconds" {
  description = "Seconds without a connection after which the shared server pauses (0 ACU: no compute charge)."
  type        = number
  default     = 300

  validation {
    condition     = var.shared_database_auto_pause_seconds >= 300 && var.shared_database_auto_pause_seconds <= 86400 && floor(var.shared_database_auto_pause_seconds) == var.shared_database_auto_pause_seconds
    error_message = "shared_database_auto_pause_seconds must be a whole number from 300 to 86400 (Aurora's limits)."
  }
}

variable "shared_database_deletion_protection" {
  description = "Protect the shared database server from deletion (turn off before destroying the base)."
  type        = bool
  default     = true
}

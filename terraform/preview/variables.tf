# --- Passed by prenv (see prenv/engine/lifecycle.py) -----------------------------------------------

variable "pr_number" {
  description = "Number of the pull request this preview belongs to. Also selects its listener port or rule priority, hence the upper bound."
  type        = number

  # Without a domain the PR gets listener port 10000 + N on the shared ALB (ports 10001-60000); with a
  # domain its host rule gets priority N (ALB priorities stop at 50000). See README.md, "Routing".
  validation {
    condition     = var.pr_number >= 1 && var.pr_number <= 50000 && floor(var.pr_number) == var.pr_number
    error_message = "pr_number must be a whole number from 1 to 50000: it maps to listener port 10000 + N or to rule priority N on the shared ALB."
  }
}

variable "repository" {
  description = "The GitHub repository, owner/name. Its hash names the shared base this preview runs in."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", trimspace(var.repository)))
    error_message = "repository must be the GitHub repository as owner/name."
  }
}

variable "workspace" {
  description = "Terraform workspace of this preview (pr-<N>); defaults to the selected workspace."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of every name, prenv-<hash6>-pr<N> (prenv/core/naming.py); computed from repository and pr_number when null."
  type        = string
  default     = null

  validation {
    condition = var.name_prefix == null || (
      can(regex("^[a-z][a-z0-9-]{0,23}[a-z0-9]$", coalesce(var.name_prefix, "x")))
      && var.name_prefix == "prenv-${substr(sha256(lower(trimspace(var.repository))), 0, 6)}-pr${var.pr_number}"
    )
    error_message = "name_prefix must equal prenv-<first 6 hex of sha256(lowercase repository)>-pr<pr_number>, at most 25 characters, as prenv/core/naming.py computes it."
  }
}

variable "head_sha" {
  description = "Commit deployed; passed to the container as PRENV_HEAD_SHA."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([0-9a-f]{40}|[0-9a-f]{64})?$", var.head_sha))
    error_message = "head_sha must be a full hexadecimal commit SHA (or empty)."
  }
}

variable "image" {
  description = "Container image of the application (tag images with the commit SHA: the base's ECR repository is immutable). Null: a placeholder that keeps the app contract (busybox's httpd answering the health path) until the PR has an image of its own."
  type        = string
  default     = null

  validation {
    condition     = var.image == null || (length(trimspace(coalesce(var.image, "x"))) > 0 && !can(regex("\\s", coalesce(var.image, "x"))))
    error_message = "image must be a non-empty image reference without spaces (or null for the placeholder)."
  }
}

# --- Application -----------------------------------------------------------------------------------

variable "container_port" {
  description = "Port the application listens on inside the container (given to it as PORT). The default is the app contract's."
  type        = number
  default     = 8080

  validation {
    condition     = var.container_port >= 1024 && var.container_port <= 65535 && floor(var.container_port) == var.container_port
    error_message = "container_port must be from 1024 to 65535: the container runs as a non-root user, which cannot bind lower ports."
  }
}

variable "container_user" {
  description = "User (uid or uid:gid) the container runs as; never root. The default is the app contract's (prenv/core/contract.py), the examples/app image's USER."
  type        = string
  default     = "10001:10001"

  validation {
    condition     = can(regex("^[0-9]+(:[0-9]+)?$", var.container_user)) && !can(regex("^0(:|$)", var.container_user))
    error_message = "container_user must be a numeric uid (or uid:gid) other than 0: previews never run as root."
  }
}

variable "read_only_root_filesystem" {
  description = "Mount the container's root filesystem read-only (writable tmpfs-like volumes are mounted at /tmp and where ECS Exec writes). Turn off only if the application must write elsewhere."
  type        = bool
  default     = true
}

variable "environment" {
  description = "Extra environment variables of the container (never secrets: use secrets for those)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && !can(regex("(?i)(password|secret|token)", k))])
    error_message = "environment keys must be valid variable names, and none may look like a secret (password, secret, token)."
  }
}

variable "cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.cpu)
    error_message = "cpu must be one of the Fargate sizes 256, 512, 1024, 2048, 4096."
  }
}

variable "memory" {
  description = "Fargate task memory (MiB); must be valid for the chosen cpu."
  type        = number
  default     = 512

  validation {
    condition     = var.memory >= 512 && var.memory <= 30720 && var.memory % 512 == 0
    error_message = "memory must be a multiple of 512 MiB from 512 to 30720 (and valid for the chosen cpu)."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "desired_count" {
  description = "Number of tasks of the service."
  type        = number
  default     = 1

  validation {
    condition     = var.desired_count >= 0 && var.desired_count <= 4 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be a whole number from 0 to 4 (a preview is not a production service)."
  }
}

variable "capacity_provider" {
  description = "FARGATE_SPOT (cheaper, may be interrupted) or FARGATE."
  type        = string
  default     = "FARGATE_SPOT"

  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT"], var.capacity_provider)
    error_message = "capacity_provider must be FARGATE or FARGATE_SPOT."
  }
}

variable "wait_for_steady_state" {
  description = "Make the apply wait until the ECS service is stable (the deployment circuit breaker rolls back failures)."
  type        = bool
  default     = false
}

variable "health_check_path" {
  description = "Path the load balancer checks; it must answer 200-399. The default is the app contract's health path."
  type        = string
  default     = "/healthz"

  validation {
    condition     = length(var.health_check_path) <= 1024 && can(regex("^/[-A-Za-z0-9/._~%!$&'()*+,;=:@]*$", var.health_check_path))
    error_message = "health_check_path must be an absolute URL path starting with /."
  }
}

variable "log_retention_days" {
  description = "Retention of the preview's log group, in days."
  type        = number
  default     = 7

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90 (CloudWatch values suitable for a preview)."
  }
}

variable "pull_repository_arns" {
  description = "ECR repositories (ARNs) the task may pull from besides the base's repository."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.pull_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/[a-z0-9._/-]+$", arn))])
    error_message = "pull_repository_arns must hold ECR repository ARNs (arn:aws:ecr:<region>:<account>:repository/<name>), no wildcards."
  }
}

# --- Init steps: prenv's hooks.migrate and hooks.seed (see ecs.tf) ---------------------------------

variable "migrate_command" {
  description = "Command (an argument list, no shell) of the migrate step: a container from the app's image, with the app's environment and secrets, that must exit 0 before the app container starts, in every task. Empty: no step. prenv passes the config's hooks.migrate."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.migrate_command) == 0 || length(trimspace(try(var.migrate_command[0], ""))) > 0
    error_message = "migrate_command must start with the program to run (an argument list such as [\"python\", \"app.py\", \"migrate\"])."
  }
}

variable "seed_command" {
  description = "Command (an argument list, no shell) of the seed step: like the migrate step, after it and before the app. prenv passes the config's hooks.seed on a preview's first deploy (and with --reseed) and an empty list afterwards, so the seed runs once per preview."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.seed_command) == 0 || length(trimspace(try(var.seed_command[0], ""))) > 0
    error_message = "seed_command must start with the program to run (an argument list such as [\"python\", \"app.py\", \"seed\"])."
  }
}

# --- Database --------------------------------------------------------------------------------------

variable "database_mode" {
  description = "The preview's database: dedicated (an RDS PostgreSQL instance of its own), shared (a database and a role of its own on the base's shared server, made by prenv before the plan; needs terraform/base with shared_database = true) or none. prenv passes its config's database.mode."
  type        = string
  default     = "dedicated"

  validation {
    condition     = contains(["dedicated", "shared", "none"], var.database_mode)
    error_message = "database_mode must be dedicated, shared or none."
  }
}

variable "db_instance_class" {
  description = "RDS instance class (database_mode dedicated)."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must be an RDS instance class such as db.t4g.micro."
  }
}

variable "db_allocated_storage" {
  description = "RDS storage in GiB, gp3 (database_mode dedicated)."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage >= 20 && var.db_allocated_storage <= 200 && floor(var.db_allocated_storage) == var.db_allocated_storage
    error_message = "db_allocated_storage must be a whole number of GiB from 20 (the gp3 minimum) to 200."
  }
}

# --- Access ----------------------------------------------------------------------------------------

variable "oidc" {
  description = "Sign-in before the preview: the ALB's authenticate-oidc action on the preview's host rule, with the organisation's OpenID Connect identity provider. Needs the base's domain with HTTPS (ALBs authenticate on HTTPS listeners only). client_secret_arn names a Secrets Manager secret whose value is the client secret (the workflows' role must be allowed to read it: terraform/bootstrap's extra_policy_documents). Null: no sign-in."
  type = object({
    issuer                 = string
    authorization_endpoint = string
    token_endpoint         = string
    user_info_endpoint     = string
    client_id              = string
    client_secret_arn      = string
    scope                  = optional(string, "openid")
    session_timeout        = optional(number, 3600)
  })
  default = null

  validation {
    condition = var.oidc == null || alltrue([
      for url in(var.oidc == null ? [] : [var.oidc.issuer, var.oidc.authorization_endpoint, var.oidc.token_endpoint, var.oidc.user_info_endpoint]) :
      can(regex("^https://[^\\s/]+", url))
    ])
    error_message = "oidc: issuer, authorization_endpoint, token_endpoint and user_info_endpoint must be https:// URLs (from the identity provider's /.well-known/openid-configuration)."
  }

  validation {
    condition     = var.oidc == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", try(var.oidc.client_secret_arn, "")))
    error_message = "oidc.client_secret_arn must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }

  validation {
    condition     = var.oidc == null || (try(var.oidc.session_timeout, 3600) >= 1 && try(var.oidc.session_timeout, 3600) <= 604800)
    error_message = "oidc.session_timeout must be from 1 second to 604800 (7 days), the ALB's limits."
  }
}

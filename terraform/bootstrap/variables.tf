variable "repository" {
  description = "The GitHub repository, owner/name, exactly as GitHub spells it (the OIDC subject is case-sensitive)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be the GitHub repository as owner/name, with no wildcard."
  }
}

variable "main_branch" {
  description = "Branch whose workflows (the cleanup schedule) may also assume the role."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.main_branch)) && !strcontains(var.main_branch, "*")
    error_message = "main_branch must be a branch name, with no wildcard."
  }
}

variable "create_oidc_provider" {
  description = "Create the GitHub OIDC provider (false when the account already has one for token.actions.githubusercontent.com)."
  type        = bool
  default     = true
}

variable "state_bucket_name" {
  description = "Name of the state bucket; empty: prenv-<hash6>-tfstate-<account id>."
  type        = string
  default     = ""

  validation {
    condition     = var.state_bucket_name == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "workspace_key_prefix" {
  description = "The backend's workspace_key_prefix (prenv's backend.workspace_key_prefix): the role may read and write state only below it."
  type        = string
  default     = "prenv"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+$", var.workspace_key_prefix))
    error_message = "workspace_key_prefix must be a single path segment of letters, digits, '.', '_' and '-'."
  }
}

variable "state_key" {
  description = "The backend's key (prenv's backend.key): the role may read the default workspace's state there, which `terraform init` reads before prenv selects the PR's workspace."
  type        = string
  default     = "preview.tfstate"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.state_key)) && !strcontains(var.state_key, "*")
    error_message = "state_key must be an S3 key such as preview.tfstate (letters, digits, '.', '_', '-', '/'), with no wildcard."
  }
}

variable "noncurrent_version_days" {
  description = "Days old state versions are kept before they expire."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_days >= 1 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "noncurrent_version_days must be a whole number of days, at least 1."
  }
}

variable "max_session_hours" {
  description = "Longest session of the preview role, in hours."
  type        = number
  default     = 1

  validation {
    condition     = var.max_session_hours >= 1 && var.max_session_hours <= 12 && floor(var.max_session_hours) == var.max_session_hours
    error_message = "max_session_hours must be a whole number from 1 to 12."
  }
}

# --- Extending the role ----------------------------------------------------------------------------

variable "extra_policy_documents" {
  description = "More IAM policy documents (JSON) for the workflows' role, by a short name: what a Terraform root of your own needs beyond terraform/preview (or terraform/preview's oidc, to read its client secret). Each becomes a managed policy prenv-<hash6>-extra-<name>. The role's permissions boundary (prenv-<hash6>-github-boundary) still applies."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for name, document in var.extra_policy_documents :
      can(regex("^[A-Za-z0-9-]{1,32}$", name)) && can(jsondecode(document).Statement)
    ])
    error_message = "extra_policy_documents: each name must be 1 to 32 letters, digits or '-', and each value an IAM policy document in JSON (with a Statement), such as data.aws_iam_policy_document.x.json."
  }
}

variable "extra_managed_policy_arns" {
  description = "Managed IAM policies (ARNs) to attach to the workflows' role as well, for a root of your own. The role's permissions boundary still applies."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.extra_managed_policy_arns : can(regex("^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/.+$", arn))])
    error_message = "extra_managed_policy_arns must hold IAM policy ARNs (arn:aws:iam::<account or aws>:policy/<name>)."
  }
}

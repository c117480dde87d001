# Added to the light root by bench/cleanup_bench.py and `bench/least_workflow.py --aws-waits`: a preview
# whose create and destroy wait the way AWS's own do (an ECS service reaching a steady state, an RDS
# instance becoming available; a service draining its tasks, an instance deleting), in a process that
# uses no CPU, so the figures are measured against waiting rather than against this machine's cores.
# Terraform runs `sleep <seconds>` as an argument list (the interpreter), never through a shell.

variable "destroy_wait_seconds" {
  description = "How long destroying this preview waits, as AWS's deletions do."
  type        = number
  default     = 0

  validation {
    condition     = var.destroy_wait_seconds >= 0 && var.destroy_wait_seconds <= 600
    error_message = "destroy_wait_seconds must be between 0 and 600 seconds."
  }
}

variable "create_wait_seconds" {
  description = "How long creating this preview waits, as AWS's creations do."
  type        = number
  default     = 0

  validation {
    condition     = var.create_wait_seconds >= 0 && var.create_wait_seconds <= 600
    error_message = "create_wait_seconds must be between 0 and 600 seconds."
  }
}

resource "terraform_data" "waits" {
  input = { create = var.create_wait_seconds, destroy = var.destroy_wait_seconds }

  provisioner "local-exec" {
    interpreter = ["sleep"]
    command     = tostring(self.input.create)
  }

  provisioner "local-exec" {
    when        = destroy
    interpreter = ["sleep"]
    command     = tostring(self.input.destroy)
  }
}

# Added to the light root by bench/cleanup_bench.py: a preview whose destroy waits the way AWS's own
# deletions do (an ECS service draining its tasks, an RDS instance deleting), in a process that uses no
# CPU, so cleanup's parallel destroys are measured against waiting rather than against this machine's
# cores. Terraform runs `sleep <seconds>` as an argument list (the interpreter), never through a shell.

variable "destroy_wait_seconds" {
  description = "How long destroying this preview waits, as AWS's deletions do."
  type        = number
  default     = 0

  validation {
    condition     = var.destroy_wait_seconds >= 0 && var.destroy_wait_seconds <= 600
    error_message = "destroy_wait_seconds must be between 0 and 600 seconds."
  }
}

resource "terraform_data" "destroy_wait" {
  input = var.destroy_wait_seconds

  provisioner "local-exec" {
    when        = destroy
    interpreter = ["sleep"]
    command     = tostring(self.input)
  }
}

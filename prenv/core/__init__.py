"""Pure code: values and rules with no I/O (no AWS, GitHub, Terraform, files or environment)."""

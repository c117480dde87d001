"""prenv: per-pull-request preview environments on AWS, driven by Terraform and reported on the PR."""

__version__ = "0.1.0"

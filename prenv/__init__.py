"""prenv: per-pull-request preview environments on AWS, driven by Terraform and reported on the PR."""

__version__ = "0.1.0"
# The product token of prenv's own AWS calls and of the Terraform runs it starts (User-Agent, CloudTrail).
USER_AGENT = f"prenv/{__version__}"

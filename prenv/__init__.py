"""prenv: per-pull-request preview environments on AWS, driven by Terraform and reported on the PR."""

__version__ = "0.1.0"
# The product token of prenv's own AWS calls and of the Terraform runs it starts (User-Agent, CloudTrail).
USER_AGENT = f"prenv/{__version__}"
# `prenv setup`'s calls, made with a maintainer's administrator credentials, never the workflows' role:
# told apart from the workflows' in CloudTrail (and by the tests' IAM recorder, which evaluates `prenv/`).
SETUP_USER_AGENT = f"prenv-setup/{__version__}"

"""The session's moto environment for Terraform runs, shared with tests/terraform (one definition)."""

from tests.terraform.conftest import new_bucket, session_boto, tf_env

__all__ = ["new_bucket", "session_boto", "tf_env"]

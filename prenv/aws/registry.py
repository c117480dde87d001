"""The base's ECR repository, for `prenv image`: the registry login and whether a tag is there."""

from __future__ import annotations

from prenv.aws.client import Aws, AwsError
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.image import ImageError, Login, login_of


def login(aws: Aws) -> Login:
    """A docker login for the account's registry (ECR GetAuthorizationToken)."""
    reply = aws.call("ECR GetAuthorizationToken", "ecr", "get_authorization_token")
    data = reply.get("authorizationData") or [{}]
    try:
        return login_of(str(data[0].get("authorizationToken", "")), str(data[0].get("proxyEndpoint", "")))
    except ImageError as exc:
        raise AwsError(
            f"AWS ECR GetAuthorizationToken: {exc}", reason=FailureReason.AWS_REQUEST_FAILED
        ) from None


def has_image(aws: Aws, repository: str, tag: str) -> bool:
    """Whether `repository` holds the tag; a missing repository is a failure that says what to do."""
    try:
        aws.call(
            "ECR DescribeImages",
            "ecr",
            "describe_images",
            repositoryName=repository,
            imageIds=[{"imageTag": tag}],
        )
    except AwsError as exc:
        if exc.code == "ImageNotFoundException":
            return False
        if exc.code == "RepositoryNotFoundException":
            raise PrenvError(
                f"the base's ECR repository {repository} does not exist in this account and region",
                reason=FailureReason.IMAGE_MISSING,
                hint="apply terraform/base for this repository first (docs/setup.md), with the same region",
            ) from None
        raise
    return True

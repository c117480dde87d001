"""The AWS calls of `prenv setup` (run with the maintainer's administrator credentials, never by the
workflows' role): who the credentials are, whether the state bucket and an object exist, and what
`prenv setup --destroy` removes itself because Terraform may not (the protected, versioned bucket) or
cannot (a repository still holding images)."""

from __future__ import annotations

from typing import Any

from prenv.aws.client import Aws, AwsError
from prenv.aws.orphans import gone, tagged_resources

_MISSING = {"404", "NoSuchBucket", "NoSuchKey", "NotFound", "RepositoryNotFoundException"}


def account_id(aws: Aws) -> str:
    identity = aws.call(
        "STS GetCallerIdentity",
        "sts",
        "get_caller_identity",
        hint="give prenv setup administrator credentials for the account (--profile, or the AWS_* variables)",
    )
    return str(identity["Account"])


def _found(aws: Aws, what: str, operation: str, **kwargs: Any) -> bool:
    """Whether the S3 HEAD call finds what it asks for (a missing one is not an error)."""
    try:
        aws.call(what, "s3", operation, **kwargs)
    except AwsError as exc:
        if exc.code in _MISSING:
            return False
        raise
    return True


def bucket_exists(aws: Aws, bucket: str) -> bool:
    return _found(aws, "S3 HeadBucket", "head_bucket", Bucket=bucket)


def object_exists(aws: Aws, bucket: str, key: str) -> bool:
    return _found(aws, "S3 HeadObject", "head_object", Bucket=bucket, Key=key)


def delete_images(aws: Aws, repository_name: str) -> int:
    """Delete every image of the base's ECR repository (Terraform deletes only an empty one); how many."""
    deleted = 0
    try:
        pages = list(aws.pages("ECR ListImages", "ecr", "list_images", repositoryName=repository_name))
    except AwsError as exc:
        if exc.code in _MISSING:
            return 0
        raise
    ids: list[dict[str, Any]] = [image for page in pages for image in page.get("imageIds", [])]
    for start in range(0, len(ids), 100):  # BatchDeleteImage takes at most 100 ids
        batch = ids[start : start + 100]
        aws.call(
            "ECR BatchDeleteImage",
            "ecr",
            "batch_delete_image",
            repositoryName=repository_name,
            imageIds=batch,
        )
        deleted += len(batch)
    return deleted


def empty_and_delete_bucket(aws: Aws, bucket: str) -> int:
    """Delete every version and delete marker of the (versioned) bucket, then the bucket; how many
    objects (versions and markers) were deleted."""
    deleted = 0
    for page in aws.pages("S3 ListObjectVersions", "s3", "list_object_versions", Bucket=bucket):
        entries = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for kind in ("Versions", "DeleteMarkers")
            for item in page.get(kind, [])
        ]
        for start in range(0, len(entries), 1000):  # DeleteObjects takes at most 1000 keys
            batch = entries[start : start + 1000]
            aws.call(
                "S3 DeleteObjects",
                "s3",
                "delete_objects",
                Bucket=bucket,
                Delete={"Objects": batch, "Quiet": True},
            )
            deleted += len(batch)
    aws.call("S3 DeleteBucket", "s3", "delete_bucket", Bucket=bucket)
    return deleted


def remaining(aws: Aws, repository: str) -> list[str]:
    """The ARNs of resources still tagged with this repository in this region (AWS's tagging API), less
    those AWS keeps listing after their deletion: ECS services and task definitions (INACTIVE), and the
    base's NAT gateway (`deleted`) and ECS cluster (INACTIVE)."""
    arns = sorted(str(item["ResourceARN"]) for item in tagged_resources(aws, repository))
    return [arn for arn in arns if not gone(aws, arn) and not _deleted(aws, arn)]


def _deleted(aws: Aws, arn: str) -> bool:
    if ":natgateway/" in arn:
        found = aws.call(
            "EC2 DescribeNatGateways", "ec2", "describe_nat_gateways", NatGatewayIds=[arn.rsplit("/", 1)[1]]
        ).get("NatGateways", [])
        return all(gateway.get("State") in {"deleted", "deleting"} for gateway in found)
    if ":cluster/" in arn and arn.split(":", 3)[2] == "ecs":
        clusters = aws.call("ECS DescribeClusters", "ecs", "describe_clusters", clusters=[arn])
        return all(cluster.get("status") == "INACTIVE" for cluster in clusters.get("clusters", []))
    return False

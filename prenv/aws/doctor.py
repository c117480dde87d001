"""What `prenv doctor` asks AWS, as plain facts (`prenv.core.doctor` decides what they mean).

Read-only calls, each allowed to terraform/bootstrap's role (tests/iam proves it): who the credentials
are, the state bucket's existence, region, versioning and default encryption, the shared base's parts by
name (VPC, private subnets, ECS cluster, load balancer and who may reach it, database subnet group, ECR
repository) and whether an ECR image exists. "Not found" is a fact; a call AWS refuses is one too
(`error`), so one missing permission never hides the other checks.
"""

from __future__ import annotations

from typing import Any

from prenv.aws.client import Aws, AwsError
from prenv.core.doctor import BaseFacts, BucketFacts, EcrImage, Identity

# The error codes that mean "there is no such thing" (the rest are failures to say).
_NO_BUCKET = {"404", "NoSuchBucket", "NotFound"}
_NO_ENCRYPTION = {"ServerSideEncryptionConfigurationNotFoundError"}
_NO_LOAD_BALANCER = {"LoadBalancerNotFound"}
_NO_SUBNET_GROUP = {"DBSubnetGroupNotFoundFault"}
_NO_REPOSITORY = {"RepositoryNotFoundException"}
_NO_IMAGE = {"ImageNotFoundException", "RepositoryNotFoundException"}


def identity(aws: Aws) -> Identity:
    """Who the credentials are (STS GetCallerIdentity needs no permission). Raises AwsError."""
    reply = aws.call("STS GetCallerIdentity", "sts", "get_caller_identity")
    return Identity(arn=str(reply.get("Arn", "")), account=str(reply.get("Account", "")))


def bucket_facts(aws: Aws, bucket: str) -> BucketFacts:
    what = f"of s3://{bucket}"
    try:
        reply = aws.call(f"S3 HeadBucket {what}", "s3", "head_bucket", Bucket=bucket)
    except AwsError as exc:
        if exc.code in _NO_BUCKET:
            return BucketFacts(name=bucket, exists=False)
        return BucketFacts(name=bucket, exists=None, error=exc.one_line())
    headers = (reply.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    region = str(reply.get("BucketRegion") or headers.get("x-amz-bucket-region") or "")
    try:
        versioning = aws.call(f"S3 GetBucketVersioning {what}", "s3", "get_bucket_versioning", Bucket=bucket)
    except AwsError as exc:
        return BucketFacts(name=bucket, exists=None, region=region, error=exc.one_line())
    try:
        encryption = aws.call(f"S3 GetBucketEncryption {what}", "s3", "get_bucket_encryption", Bucket=bucket)
    except AwsError as exc:
        if exc.code not in _NO_ENCRYPTION:
            return BucketFacts(name=bucket, exists=None, region=region, error=exc.one_line())
        encryption = {}
    rules = (encryption.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    algorithms = tuple(
        str((rule.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", ""))
        for rule in rules
        if (rule.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
    )
    return BucketFacts(
        name=bucket,
        exists=True,
        region=region,
        versioning=str(versioning.get("Status", "")),
        encryption=algorithms,
    )


def _vpc(aws: Aws, name: str) -> str:
    reply = aws.call(
        "EC2 DescribeVpcs", "ec2", "describe_vpcs", Filters=[{"Name": "tag:Name", "Values": [name]}]
    )
    vpcs: list[dict[str, Any]] = reply.get("Vpcs", [])
    return str(vpcs[0]["VpcId"]) if vpcs else ""


def _private_zones(aws: Aws, vpc: str) -> tuple[str, ...]:
    reply = aws.call(
        "EC2 DescribeSubnets",
        "ec2",
        "describe_subnets",
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "tag:prenv:tier", "Values": ["private"]}],
    )
    return tuple(str(subnet.get("AvailabilityZone", "")) for subnet in reply.get("Subnets", []))


def _cluster(aws: Aws, name: str) -> str:
    reply = aws.call("ECS DescribeClusters", "ecs", "describe_clusters", clusters=[name])
    clusters: list[dict[str, Any]] = reply.get("clusters", [])
    return str(clusters[0].get("status", "")) if clusters else ""


def _load_balancer(aws: Aws, name: str) -> dict[str, Any] | None:
    try:
        reply = aws.call("ELB DescribeLoadBalancers", "elbv2", "describe_load_balancers", Names=[name])
    except AwsError as exc:
        if exc.code in _NO_LOAD_BALANCER:
            return None
        raise
    found: list[dict[str, Any]] = reply.get("LoadBalancers", [])
    return found[0] if found else None


def _tags(aws: Aws, arn: str) -> dict[str, str]:
    reply = aws.call("ELB DescribeTags", "elbv2", "describe_tags", ResourceArns=[arn])
    return {
        str(tag["Key"]): str(tag.get("Value", ""))
        for description in reply.get("TagDescriptions", [])
        for tag in description.get("Tags", [])
    }


def _ingress(aws: Aws, groups: list[str]) -> tuple[str, ...]:
    if not groups:
        return ()
    reply = aws.call("EC2 DescribeSecurityGroups", "ec2", "describe_security_groups", GroupIds=groups)
    return tuple(
        sorted(
            {
                str(block.get("CidrIp") or block.get("CidrIpv6"))
                for group in reply.get("SecurityGroups", [])
                for permission in group.get("IpPermissions", [])
                for block in [*permission.get("IpRanges", []), *permission.get("Ipv6Ranges", [])]
            }
        )
    )


def _subnet_group_zones(aws: Aws, name: str) -> tuple[str, ...] | None:
    try:
        reply = aws.call(
            "RDS DescribeDBSubnetGroups", "rds", "describe_db_subnet_groups", DBSubnetGroupName=name
        )
    except AwsError as exc:
        if exc.code in _NO_SUBNET_GROUP:
            return None
        raise
    groups: list[dict[str, Any]] = reply.get("DBSubnetGroups", [])
    if not groups:
        return None
    return tuple(
        str((subnet.get("SubnetAvailabilityZone") or {}).get("Name", ""))
        for subnet in groups[0].get("Subnets", [])
    )


def _repository(aws: Aws, name: str) -> str:
    try:
        reply = aws.call("ECR DescribeRepositories", "ecr", "describe_repositories", repositoryNames=[name])
    except AwsError as exc:
        if exc.code in _NO_REPOSITORY:
            return ""
        raise
    found: list[dict[str, Any]] = reply.get("repositories", [])
    return str(found[0].get("repositoryUri", "")) if found else ""


def base_facts(aws: Aws, name: str, region: str) -> BaseFacts:
    """terraform/base's parts named `name` (prenv-<hash6>), as the preview root looks them up."""
    try:
        vpc = _vpc(aws, name)
        balancer = _load_balancer(aws, name)
        tags = _tags(aws, str(balancer["LoadBalancerArn"])) if balancer else {}
        return BaseFacts(
            name=name,
            region=region,
            vpc=bool(vpc),
            subnet_zones=_private_zones(aws, vpc) if vpc else (),
            cluster=_cluster(aws, name),
            load_balancer=str(((balancer or {}).get("State") or {}).get("Code", "")),
            load_balancer_dns=str((balancer or {}).get("DNSName", "")),
            load_balancer_tags=tags,
            ingress=_ingress(aws, list((balancer or {}).get("SecurityGroups", []))),
            db_subnet_group_zones=_subnet_group_zones(aws, name),
            ecr_repository=_repository(aws, name),
        )
    except AwsError as exc:
        return BaseFacts(name=name, region=region, error=exc.one_line())


def image_exists(aws: Aws, image: EcrImage) -> bool:
    """Whether the ECR image exists (its tag or digest). Raises AwsError when ECR refuses to say."""
    reference = {"imageDigest": image.digest} if image.digest else {"imageTag": image.tag}
    try:
        aws.call(
            "ECR DescribeImages",
            "ecr",
            "describe_images",
            registryId=image.account,
            repositoryName=image.repository,
            imageIds=[reference],
        )
    except AwsError as exc:
        if exc.code in _NO_IMAGE:
            return False
        raise
    return True

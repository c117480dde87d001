"""A stand-in for terraform/base made with boto3 in moto, for fast plans (and an apply) of
terraform/preview.

It creates just what the preview root looks up and needs (same names and tags as terraform/base),
instantly: applying the real base takes over a minute of provider waits. tests/terraform/test_stack.py
applies the real base.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prenv.core.naming import repository_hash


@dataclass(frozen=True)
class FakeBase:
    name: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    alb_security_group_id: str
    alb_dns_name: str
    listener_arn: str
    shared_cluster_arn: str = ""  # shared_database: the Aurora cluster of database.mode shared
    db_clients_group_id: str = ""


def create_fake_base(
    client: Callable[[str], Any],
    repository: str,
    *,
    domain: str = "",
    https: bool = False,
    public: bool | None = None,
    shared_database: bool = False,
) -> FakeBase:
    """The base of `repository` as terraform/base names it (`prenv-<hash6>`). `https`: the shared
    listener is HTTPS on 443 (a certificate in ACM); `public`: the ALB's prenv:public tag (None: none,
    as a base from before the tag); `shared_database`: also its shared Aurora cluster and the security
    group the previews join to reach it."""
    name = f"prenv-{repository_hash(repository)}"
    ec2 = client("ec2")
    tags = [{"Key": "prenv:repository", "Value": repository}]
    vpc = ec2.create_vpc(
        CidrBlock="10.90.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}, *tags]}],
    )["Vpc"]["VpcId"]
    subnets = tuple(
        ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=f"10.90.{16 * index}.0/20",
            AvailabilityZone=zone,
            TagSpecifications=[
                {"ResourceType": "subnet", "Tags": [{"Key": "prenv:tier", "Value": "private"}]}
            ],
        )["Subnet"]["SubnetId"]
        for index, zone in enumerate(("us-east-1a", "us-east-1b"))
    )
    alb_sg = ec2.create_security_group(GroupName=f"{name}-alb", Description="fake base ALB", VpcId=vpc)[
        "GroupId"
    ]
    alb_tags = [{"Key": "prenv:https", "Value": "true" if https else "false"}]
    if public is not None:
        alb_tags.append({"Key": "prenv:public", "Value": "true" if public else "false"})
    if domain:
        alb_tags.append({"Key": "prenv:domain", "Value": domain})
    elbv2 = client("elbv2")
    alb = elbv2.create_load_balancer(
        Name=name, Subnets=list(subnets), SecurityGroups=[alb_sg], Type="application", Tags=alb_tags
    )["LoadBalancers"][0]
    secure: dict[str, Any] = {"Protocol": "HTTP", "Port": 80}
    if https:
        certificate = client("acm").request_certificate(DomainName=f"*.{domain}", ValidationMethod="DNS")
        secure = {
            "Protocol": "HTTPS",
            "Port": 443,
            "Certificates": [{"CertificateArn": certificate["CertificateArn"]}],
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        }
    listener = elbv2.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"],
        **secure,
        DefaultActions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"},
            }
        ],
    )["Listeners"][0]
    client("ecs").create_cluster(clusterName=name)
    # What an apply of a preview and `prenv image` need besides: the preview roles' permissions boundary
    # (terraform/base's, with a stand-in document: moto does not enforce it) and the ECR repository.
    client("iam").create_policy(
        PolicyName=f"{name}-preview-boundary",
        PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", '
        '"Resource": "*"}]}',
    )
    client("ecr").create_repository(repositoryName=name, imageTagMutability="IMMUTABLE")
    client("rds").create_db_subnet_group(
        DBSubnetGroupName=name, DBSubnetGroupDescription="fake base", SubnetIds=list(subnets)
    )
    cluster_arn, clients = "", ""
    if shared_database:
        clients = ec2.create_security_group(
            GroupName=f"{name}-db-clients", Description="fake base db clients", VpcId=vpc
        )["GroupId"]
        cluster_arn = client("rds").create_db_cluster(
            DBClusterIdentifier=f"{name}-shared",
            Engine="aurora-postgresql",
            EngineVersion="16.6",
            MasterUsername="prenv_admin",
            ManageMasterUserPassword=True,
            DBSubnetGroupName=name,
            StorageEncrypted=True,
            EnableHttpEndpoint=True,
            ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 2},
        )["DBCluster"]["DBClusterArn"]
    return FakeBase(
        name=name,
        vpc_id=vpc,
        subnet_ids=subnets,
        alb_security_group_id=alb_sg,
        alb_dns_name=alb["DNSName"],
        listener_arn=listener["ListenerArn"],
        shared_cluster_arn=cluster_arn,
        db_clients_group_id=clients,
    )

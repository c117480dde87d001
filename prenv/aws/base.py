"""The shared base as it runs in AWS, for the previews' share of its cost: its load balancer (found by
name) and the NAT gateways of its VPC, as plain resources `prenv.core.cost.as_plan` prices.

Read-only; two or three calls per deploy. None when there is no such load balancer (a root that does
not run in prenv's base): the share is then left out, and said so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prenv.aws.client import Aws, AwsError

Resource = tuple[str, str, Mapping[str, Any]]  # address, resource type, attributes as Terraform names them
_HINT = "the preview's cost is then given without its share of the base"


def base_resources(aws: Aws, base_name: str) -> list[Resource] | None:
    """The base's priced parts, or None when it has no load balancer called `base_name`."""
    try:
        reply = aws.call(
            f"ELB DescribeLoadBalancers of {base_name}",
            "elbv2",
            "describe_load_balancers",
            hint=_HINT,
            Names=[base_name],
        )
    except AwsError as exc:
        if exc.code == "LoadBalancerNotFound":
            return None
        raise
    found: list[Resource] = []
    vpcs: list[str] = []
    for lb in reply.get("LoadBalancers", []):
        subnets = [z.get("SubnetId", "") for z in lb.get("AvailabilityZones") or []]
        values = {
            "load_balancer_type": lb.get("Type", "application"),
            "internal": lb.get("Scheme") == "internal",
            "subnets": subnets,
        }
        found.append((f"aws_lb.{lb.get('LoadBalancerName', base_name)}", "aws_lb", values))
        vpcs.append(str(lb.get("VpcId", "")))
    vpc_ids = sorted({v for v in vpcs if v})
    if not vpc_ids:
        return found
    filters = [{"Name": "vpc-id", "Values": vpc_ids}, {"Name": "state", "Values": ["available"]}]
    for page in aws.pages(
        f"EC2 DescribeNatGateways of {', '.join(vpc_ids)}",
        "ec2",
        "describe_nat_gateways",
        hint=_HINT,
        Filters=filters,
    ):
        for nat in page.get("NatGateways", []):
            found.append((f"aws_nat_gateway.{nat.get('NatGatewayId', '')}", "aws_nat_gateway", {}))
            if nat.get("ConnectivityType", "public") != "public":
                continue
            for address in nat.get("NatGatewayAddresses") or []:
                if address.get("PublicIp"):
                    eip = address.get("AllocationId") or address["PublicIp"]
                    found.append((f"aws_eip.{eip}", "aws_eip", {}))
    return found

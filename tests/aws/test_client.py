"""The AWS adapter: clients from the settings read from the given environment, and AWS errors as one
clear line (a request prenv built wrong stays a bug)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.stub import Stubber

from prenv.aws.client import Aws, AwsError, client_factory
from prenv.commands.wiring import aws_settings
from tests.app.pg import free_port

ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-secret"}


@pytest.fixture
def ecs() -> Iterator[tuple[Any, Stubber]]:
    settings = aws_settings({**ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    client = client_factory(settings, "eu-west-1")("ecs")
    with Stubber(client) as stubber:
        yield client, stubber


def test_clients_use_the_given_environment_not_the_process_one() -> None:
    settings = aws_settings(
        {
            **ENV,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1111",
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": "http://127.0.0.1:2222",
        }
    )
    make = client_factory(settings, "eu-west-1")
    assert make("ecs").meta.endpoint_url == "http://127.0.0.1:1111"
    assert make("logs").meta.endpoint_url == "http://127.0.0.1:2222"
    assert make("ecs").meta.region_name == "eu-west-1"
    assert make("ecs")._request_signer._credentials.access_key == "AKIDEXAMPLE"


def test_access_denied_is_one_line_with_what_to_do(ecs: tuple[Any, Stubber]) -> None:
    client, stubber = ecs
    denied = "User: arn:aws:sts::1:assumed-role/reviewer is not authorized to perform: ecs:DescribeServices"
    stubber.add_client_error(
        "describe_services", service_error_code="AccessDeniedException", service_message=denied
    )
    with pytest.raises(AwsError) as caught:
        Aws(ecs=client).ecs_service("previews", "svc")
    assert caught.value.message == f"AWS ECS DescribeServices failed: AccessDeniedException: {denied}"
    assert caught.value.hint == (
        "the credentials lack a read permission prenv needs (see docs/local.md, troubleshooting)"
    )
    assert caught.value.reason == "aws-request-failed"
    assert caught.value.code == "AccessDeniedException"


def test_not_found_is_an_answer_not_a_failure(ecs: tuple[Any, Stubber]) -> None:
    client, stubber = ecs
    stubber.add_client_error("describe_services", service_error_code="ClusterNotFoundException")
    stubber.add_response("describe_services", {"services": [], "failures": [{"reason": "MISSING"}]})
    aws = Aws(ecs=client)
    assert aws.ecs_service("gone", "svc") is None
    assert aws.ecs_service("previews", "svc") is None


def test_an_unreachable_endpoint_says_so() -> None:
    env = {**ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_MAX_ATTEMPTS": "1"}
    aws = Aws(client_factory(aws_settings(env), "eu-west-1"))
    with pytest.raises(AwsError) as caught:
        aws.db_instance("db")
    assert caught.value.message.startswith("cannot reach AWS for RDS DescribeDBInstances: Could not connect")
    assert caught.value.reason == "aws-unavailable"
    assert caught.value.hint == "check the network, AWS_REGION and AWS_ENDPOINT_URL"


def test_tasks_are_listed_in_pages_and_described_in_batches(ecs: tuple[Any, Stubber]) -> None:
    client, stubber = ecs
    arns = [f"arn:aws:ecs:eu-west-1:1:task/c/t{i}" for i in range(101)]
    list_params = {"cluster": "c", "serviceName": "svc", "desiredStatus": "STOPPED"}
    stubber.add_response("list_tasks", {"taskArns": arns[:60], "nextToken": "n"}, list_params)
    stubber.add_response("list_tasks", {"taskArns": arns[60:]}, {**list_params, "nextToken": "n"})
    described = [{"taskArn": arn, "group": "service:svc"} for arn in arns]
    described[5]["group"] = "service:other"  # not this service's: dropped
    stubber.add_response("describe_tasks", {"tasks": described[:100]}, {"cluster": "c", "tasks": arns[:100]})
    stubber.add_response("describe_tasks", {"tasks": described[100:]}, {"cluster": "c", "tasks": arns[100:]})
    tasks = Aws(ecs=client).ecs_tasks("c", "svc", "STOPPED")
    assert len(tasks) == 100
    assert "arn:aws:ecs:eu-west-1:1:task/c/t5" not in [t["taskArn"] for t in tasks]
    stubber.assert_no_pending_responses()


def test_a_request_prenv_built_wrong_is_a_bug_not_aws_being_down() -> None:
    from botocore.exceptions import ParamValidationError

    unreachable = f"http://127.0.0.1:{free_port()}"  # never asked: botocore refuses to send the request
    aws = Aws(client_factory(aws_settings({**ENV, "AWS_ENDPOINT_URL": unreachable}), "eu-west-1"))
    with pytest.raises(ParamValidationError):
        aws.call("ECS DescribeServices", "ecs", "describe_services", cluster=7)


def test_listings_are_classified_page_by_page() -> None:
    settings = aws_settings(
        {**ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_MAX_ATTEMPTS": "1"}
    )
    aws = Aws(client_factory(settings, "eu-west-1"))
    with pytest.raises(AwsError) as caught:
        list(aws.pages("ECS ListClusters", "ecs", "list_clusters"))
    assert caught.value.message.startswith("cannot reach AWS for ECS ListClusters: Could not connect")
    assert caught.value.reason == "aws-unavailable"


def test_threads_that_ask_for_one_service_at_once_share_one_client() -> None:
    # A deploy reads S3 beside terraform init while the main thread may read it too: one client is made.
    made: list[str] = []
    gate = threading.Barrier(4)

    def factory(service: str) -> object:
        made.append(service)
        time.sleep(0.05)  # a boto3 client takes a while to set up: the others ask meanwhile
        return object()

    aws = Aws(factory)

    def ask() -> object:
        gate.wait()
        return aws.client("s3")

    with ThreadPoolExecutor(max_workers=4) as pool:
        clients = list(pool.map(lambda _: ask(), range(4)))
    assert made == ["s3"]
    assert all(c is clients[0] for c in clients)

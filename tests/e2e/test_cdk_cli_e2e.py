"""The pinned CDK CLI against the emulator: bootstrap, deploy, diff, update, a failed update
rolled back, destroy, as a user runs them (``emulator.cdk_cli``).

One emulator of its own (the other e2e modules' deployments publish assets without a
bootstrap stack, whose bucket ``cdk bootstrap`` would then find taken), one bootstrap, and one
small stack (``lifecycle_stack``) deployed in versions, each synthesized once and deployed with
``--app <assembly>``; each fixture is one CLI command, taken after the previous one, and the
tests check what it left in the emulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import DeployedStack, Emulator, http_request, start_emulator
from emulator.cdk_cli import CliResult, bootstrap, cdk_deploy, deploy_result, run_cdk
from tests.emulator_support import ready_or_skip

from .lifecycle_stack import STACK_NAME, Version, synthesize

FIRST = Version(code="v1")
SECOND = Version(code="v2", route="/hello", time_to_live=True, batch_size=5)
REFUSED = Version(code="v3", route="/hello", refused_check=True)
KEPT_ITEM = {"pk": {"S": "kept#1"}}
#: A stack whose creation fails at its last resource: a custom resource without a provider.
REFUSED_STACK = "RefusedAtCreation"
REFUSED_TEMPLATE = {
    "Resources": {
        "Scratch": {"Type": "AWS::SQS::Queue"},
        "Kept": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain"},
        "Check": {
            "Type": "AWS::CloudFormation::CustomResource",
            "DependsOn": ["Scratch", "Kept"],
            "Properties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:no-provider"
            },
        },
    }
}


@pytest.fixture(scope="module")
def booting_cli_emulator() -> Iterator[Emulator]:
    with start_emulator(wait=False) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def assemblies(
    booting_cli_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")  # synthesized while the emulator boots
    return {v.code: synthesize(root / v.code, v) for v in (FIRST, SECOND, REFUSED)}


@pytest.fixture(scope="module")
def cli_emulator(booting_cli_emulator: Emulator, assemblies: dict[str, Path]) -> Emulator:
    emulator = ready_or_skip(booting_cli_emulator)
    bootstrap(emulator)
    return emulator


@pytest.fixture(scope="module")
def first(cli_emulator: Emulator, assemblies: dict[str, Path]) -> tuple[DeployedStack, CliResult]:
    stack, result = cdk_deploy(cli_emulator, assemblies["v1"], STACK_NAME)
    cli_emulator.client("dynamodb").put_item(TableName=stack.outputs["TableName"], Item=KEPT_ITEM)
    return stack, result


@pytest.fixture(scope="module")
def second(
    cli_emulator: Emulator, assemblies: dict[str, Path], first: tuple[DeployedStack, CliResult]
) -> tuple[DeployedStack, CliResult]:
    return cdk_deploy(cli_emulator, assemblies["v2"], STACK_NAME)


@pytest.fixture(scope="module")
def refused(
    cli_emulator: Emulator, assemblies: dict[str, Path], second: tuple[DeployedStack, CliResult]
) -> CliResult:
    return deploy_result(cli_emulator, assemblies["v3"], STACK_NAME)


@pytest.fixture(scope="module")
def destroyed(
    cli_emulator: Emulator,
    assemblies: dict[str, Path],
    second: tuple[DeployedStack, CliResult],
    refused: CliResult,
) -> CliResult:
    return run_cdk(cli_emulator, "destroy", "--app", str(assemblies["v2"]), "--force", STACK_NAME)


def stack_status(emulator: Emulator, stack_name: str = STACK_NAME) -> str:
    stacks = emulator.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    return str(stacks[0]["StackStatus"])


def events(emulator: Emulator, stack_name: str = STACK_NAME) -> list[dict[str, Any]]:
    cloudformation = emulator.client("cloudformation")
    return list(cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"])


def greeting(emulator: Emulator, stack: DeployedStack, route: str) -> Any:
    response = http_request(emulator, "GET", stack.outputs["ApiUrl"] + route)
    return response.json() if response.status == 200 else response.status


def time_to_live(emulator: Emulator, stack: DeployedStack) -> str:
    described = emulator.client("dynamodb").describe_time_to_live(
        TableName=stack.outputs["TableName"]
    )
    return str(described["TimeToLiveDescription"]["TimeToLiveStatus"])


def kept_item(emulator: Emulator, stack: DeployedStack) -> dict[str, Any] | None:
    table = stack.outputs["TableName"]
    return emulator.client("dynamodb").get_item(TableName=table, Key=KEPT_ITEM).get("Item")


def test_deploy_creates_every_resource_and_the_cli_prints_their_events(
    cli_emulator: Emulator, first: tuple[DeployedStack, CliResult]
) -> None:
    stack, result = first

    assert "CREATE_COMPLETE" in result.output
    for resource_type in (
        "AWS::DynamoDB::GlobalTable",
        "AWS::Lambda::Function",
        "AWS::ApiGatewayV2::Route",
    ):
        assert any(
            resource_type in line and "CREATE_COMPLETE" in line
            for line in result.output.splitlines()
        ), resource_type
    created = {
        e["LogicalResourceId"]
        for e in events(cli_emulator)
        if e["ResourceStatus"] == "CREATE_COMPLETE"
    }
    assert set(stack.physical_ids) <= created
    assert greeting(cli_emulator, stack, "/greetings") == {"version": "v1"}


def test_a_failing_creation_rolls_back_and_keeps_only_what_is_retained(
    cli_emulator: Emulator,
) -> None:
    # The CLI's CREATE change set and CreateStack create a stack the same way.
    cloudformation = cli_emulator.client("cloudformation")
    cloudformation.create_stack(StackName=REFUSED_STACK, TemplateBody=json.dumps(REFUSED_TEMPLATE))

    assert stack_status(cli_emulator, REFUSED_STACK) == "ROLLBACK_COMPLETE"
    history = [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", ""))
        for e in reversed(events(cli_emulator, REFUSED_STACK))
    ]
    failed = [(lid, reason) for lid, status, reason in history if status == "CREATE_FAILED"]
    assert [lid for lid, _ in failed] == ["Check"]
    assert "no-provider" in failed[0][1]
    assert (REFUSED_STACK, "ROLLBACK_COMPLETE", "") in history
    assert ("Scratch", "DELETE_COMPLETE", "") in history
    assert ("Kept", "DELETE_SKIPPED", "") in history
    queues = cli_emulator.client("sqs").list_queues(QueueNamePrefix=REFUSED_STACK)["QueueUrls"]
    assert [url.rsplit("/", 1)[1].split("-")[1] for url in queues] == ["Kept"]


def test_diff_after_a_deploy_shows_no_difference(
    cli_emulator: Emulator, assemblies: dict[str, Path], first: tuple[DeployedStack, CliResult]
) -> None:
    result = run_cdk(cli_emulator, "diff", "--app", str(assemblies["v1"]), STACK_NAME)

    assert result.ok, result.output
    assert "There were no differences" in result.output


def test_update_runs_the_new_code_behind_the_moved_route(
    cli_emulator: Emulator, second: tuple[DeployedStack, CliResult]
) -> None:
    stack, _ = second

    assert stack_status(cli_emulator) == "UPDATE_COMPLETE"
    assert greeting(cli_emulator, stack, "/hello") == {"version": "v2"}
    assert greeting(cli_emulator, stack, "/greetings") == 404


def test_update_changes_the_event_source_mapping_in_place(
    cli_emulator: Emulator,
    first: tuple[DeployedStack, CliResult],
    second: tuple[DeployedStack, CliResult],
) -> None:
    mappings = second[0].physical_ids_of_type("AWS::Lambda::EventSourceMapping")

    assert mappings == first[0].physical_ids_of_type("AWS::Lambda::EventSourceMapping")
    (uuid,) = mappings.values()
    assert cli_emulator.client("lambda").get_event_source_mapping(UUID=uuid)["BatchSize"] == 5


def test_update_turns_on_time_to_live_in_place_and_keeps_the_items(
    cli_emulator: Emulator,
    first: tuple[DeployedStack, CliResult],
    second: tuple[DeployedStack, CliResult],
) -> None:
    stack, result = second

    assert stack.outputs["TableName"] == first[0].outputs["TableName"]
    assert time_to_live(cli_emulator, stack) == "ENABLED"
    assert kept_item(cli_emulator, stack) == KEPT_ITEM
    assert any(
        "AWS::DynamoDB::GlobalTable" in line and "UPDATE_COMPLETE" in line
        for line in result.output.splitlines()
    )


def test_a_failing_update_is_rolled_back_with_its_reason_and_the_data_intact(
    cli_emulator: Emulator, second: tuple[DeployedStack, CliResult], refused: CliResult
) -> None:
    stack, _ = second

    assert not refused.ok
    assert "the release check refused this deployment" in refused.output
    assert stack_status(cli_emulator) == "UPDATE_ROLLBACK_COMPLETE"
    failed = [e for e in events(cli_emulator) if e["ResourceStatus"].endswith("_FAILED")]
    assert failed[0]["LogicalResourceId"].startswith("ReleaseCheck")
    assert "refused" in failed[0]["ResourceStatusReason"]
    assert time_to_live(cli_emulator, stack) == "ENABLED"
    assert kept_item(cli_emulator, stack) == KEPT_ITEM
    assert greeting(cli_emulator, stack, "/hello") == {"version": "v2"}


def test_destroy_deletes_the_stack_and_keeps_what_is_retained(
    cli_emulator: Emulator, second: tuple[DeployedStack, CliResult], destroyed: CliResult
) -> None:
    stack, _ = second

    assert destroyed.ok, destroyed.output
    with pytest.raises(ClientError):
        stack_status(cli_emulator)
    assert kept_item(cli_emulator, stack) == KEPT_ITEM
    cli_emulator.client("s3").head_bucket(Bucket=stack.outputs["BucketName"])
    api_id = stack.outputs["ApiUrl"].split("//")[1].split(".")[0]
    with pytest.raises(ClientError):
        cli_emulator.client("apigatewayv2").get_api(ApiId=api_id)
    with pytest.raises(ClientError):
        cli_emulator.client("sqs").get_queue_attributes(QueueUrl=stack.outputs["QueueUrl"])
    with pytest.raises(ClientError):
        cli_emulator.client("lambda").get_function(FunctionName=stack.outputs["FunctionName"])

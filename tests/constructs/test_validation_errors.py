"""Invalid props fail at construction with an error naming the construct, the prop and the value.

No synthesis here: every case builds in a throwaway stack and expects ConstructPropsError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn

from constructs_lib import (
    ConstructPropsError,
    ConstructsLibDeprecationWarning,
    DynamoTable,
    LambdaFunction,
    LeastPrivilegeRole,
    S3Trigger,
    StreamMapping,
    Workflow,
    failure_queue,
)
from tests.constructs import ACCOUNT, HANDLER, HANDLER_SOURCE, REGION

Build = Callable[[cdk.Stack], Any]

FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-stream"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
STREAM_ARN = f"{TABLE_ARN}/stream/2024-01-01T00:00:00.000"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-events"
BUCKET_OBJECTS = "arn:aws:s3:::orders-uploads/*"


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "S")


def assert_refused(stack: cdk.Stack, build: Build, path: str, prop: str, shown: str) -> None:
    """``build`` raises ConstructPropsError naming ``path``, ``prop`` and the value ``shown``."""
    with pytest.raises(ConstructPropsError) as caught:
        build(stack)
    message = str(caught.value)
    for part in (path, f"{prop}=", shown):
        assert part in message, message
    assert caught.value.prop == prop


# --- LeastPrivilegeRole -------------------------------------------------------------------


def allow(actions: Any, resources: Any) -> Build:
    return lambda stack: LeastPrivilegeRole(stack, "Role").allow(actions, resources)


@pytest.mark.parametrize(
    ("build", "prop", "shown"),
    [
        pytest.param(allow(["*"], [TABLE_ARN]), "actions", "'*'", id="every action"),
        pytest.param(allow(["s3:*"], [TABLE_ARN]), "actions", "'s3:*'", id="every s3 action"),
        pytest.param(allow(["s3:Get*"], [BUCKET_OBJECTS]), "actions", "'s3:Get*'", id="s3:Get*"),
        pytest.param(allow(["NoColon"], [TABLE_ARN]), "actions", "'NoColon'", id="no service"),
        pytest.param(allow([], [TABLE_ARN]), "actions", "[]", id="no action"),
        pytest.param(
            allow("dynamodb:GetItem", [TABLE_ARN]),
            "actions",
            "'dynamodb:GetItem'",
            id="actions as one string",
        ),
        pytest.param(allow(["dynamodb:GetItem"], ["*"]), "resources", "'*'", id="every resource"),
        pytest.param(allow(["dynamodb:GetItem"], []), "resources", "[]", id="no resource"),
        pytest.param(
            lambda stack: LeastPrivilegeRole(stack, "Role").allow_unscoped(["xray:*"], reason="x"),
            "actions",
            "'xray:*'",
            id="unscoped wildcard action",
        ),
        pytest.param(
            lambda stack: LeastPrivilegeRole(stack, "Role").allow_unscoped(
                ["xray:PutTraceSegments"], reason="  "
            ),
            "reason",
            "'  '",
            id="unscoped without a reason",
        ),
        pytest.param(
            lambda stack: LeastPrivilegeRole(stack, "Role", assumed_by="lambda"),
            "assumed_by",
            "'lambda'",
            id="principal that is no service",
        ),
    ],
)
def test_role_refuses_wildcards_empty_lists_and_unknown_principals(
    stack: cdk.Stack, build: Build, prop: str, shown: str
) -> None:
    assert_refused(stack, build, "S/Role", prop, shown)


def test_role_refuses_resources_given_as_one_string(stack: cdk.Stack) -> None:
    assert_refused(
        stack, allow(["sqs:SendMessage"], QUEUE_ARN), "S/Role", "resources", repr(QUEUE_ARN)
    )


# --- LambdaFunction ------------------------------------------------------------------------


def function(**props: Any) -> Build:
    props.setdefault("code", lambda_.Code.from_inline(HANDLER_SOURCE))
    props.setdefault("handler", HANDLER)
    return lambda stack: LambdaFunction(stack, "Fn", **props)


@pytest.mark.parametrize(
    ("build", "prop", "shown"),
    [
        pytest.param(function(memory_size=64), "memory_size", "64", id="memory 64 MB"),
        pytest.param(function(memory_size=20000), "memory_size", "20000", id="memory 20000 MB"),
        pytest.param(
            function(timeout=cdk.Duration.seconds(0)), "timeout", "0 seconds", id="timeout 0 s"
        ),
        pytest.param(
            function(timeout=cdk.Duration.minutes(16)), "timeout", "16 minutes", id="timeout 16 min"
        ),
        pytest.param(function(handler=""), "handler", "''", id="empty handler"),
        pytest.param(
            function(powertools_layer_version="latest"),
            "powertools_layer_version",
            "'latest'",
            id="latest Powertools",
        ),
        pytest.param(function(code="index.py"), "code", "'index.py'", id="code that is no Code"),
        pytest.param(
            function(role=f"arn:aws:iam::{ACCOUNT}:role/worker"),
            "role",
            f"'arn:aws:iam::{ACCOUNT}:role/worker'",
            id="role as an ARN",
        ),
        pytest.param(
            function(log_retention=logs.RetentionDays.INFINITE),
            "log_retention",
            "INFINITE",
            id="logs kept forever",
        ),
        pytest.param(
            function(reserved_concurrent_executions=-1),
            "reserved_concurrent_executions",
            "-1",
            id="negative reserved concurrency",
        ),
        pytest.param(
            function(provisioned_concurrent_executions=2),
            "provisioned_concurrent_executions",
            "2",
            id="provisioned concurrency without alias",
        ),
        pytest.param(
            function(
                alias_name="live",
                provisioned_concurrent_executions=6,
                reserved_concurrent_executions=5,
            ),
            "provisioned_concurrent_executions",
            "6",
            id="provisioned above reserved concurrency",
        ),
        pytest.param(function(alias_name=" "), "alias_name", "' '", id="blank alias name"),
    ],
)
def test_function_refuses_out_of_range_or_inconsistent_props(
    stack: cdk.Stack, build: Build, prop: str, shown: str
) -> None:
    assert_refused(stack, build, "S/Fn", prop, shown)


def test_function_accepts_unresolved_memory_and_timeout(stack: cdk.Stack) -> None:
    memory = cdk.CfnParameter(stack, "Memory", type="Number")
    function(
        memory_size=memory.value_as_number,
        timeout=cdk.Duration.seconds(cdk.Token.as_number(cdk.Fn.ref("Memory"))),
    )(stack)


# --- DynamoTable ---------------------------------------------------------------------------


def table(**props: Any) -> Build:
    props.setdefault("partition_key", "pk")
    return lambda stack: DynamoTable(stack, "Orders", **props)


@pytest.mark.parametrize(
    ("build", "prop", "shown"),
    [
        pytest.param(table(partition_key=""), "partition_key", "''", id="empty partition key"),
        pytest.param(table(sort_key="pk"), "sort_key", "'pk'", id="sort key is partition key"),
        pytest.param(table(sort_key=""), "sort_key", "''", id="empty sort key"),
        pytest.param(
            table(time_to_live_attribute=""), "time_to_live_attribute", "''", id="empty TTL"
        ),
    ],
)
def test_table_refuses_missing_or_clashing_key_names(
    stack: cdk.Stack, build: Build, prop: str, shown: str
) -> None:
    assert_refused(stack, build, "S/Orders", prop, shown)


def test_table_refuses_a_snapshot_removal_policy(stack: cdk.Stack) -> None:
    assert_refused(
        stack,
        table(removal_policy=cdk.RemovalPolicy.SNAPSHOT),
        "S/Orders",
        "removal_policy",
        "SNAPSHOT",
    )


# --- StreamMapping -------------------------------------------------------------------------


def imported_function(stack: cdk.Stack) -> lambda_.IFunction:
    return lambda_.Function.from_function_arn(stack, "Target", FUNCTION_ARN)


def streamed_table(stack: cdk.Stack) -> dynamodb.ITable:
    return dynamodb.Table.from_table_attributes(
        stack, "Orders", table_arn=TABLE_ARN, table_stream_arn=STREAM_ARN
    )


def mapping(**props: Any) -> Build:
    def build(stack: cdk.Stack) -> StreamMapping:
        given = {"function": imported_function(stack), **props}
        if "table" not in given:
            given["table"] = streamed_table(stack)
        elif callable(given["table"]):
            given["table"] = given["table"](stack)
        return StreamMapping(stack, "Mapping", **given)

    return build


@pytest.mark.parametrize(
    ("build", "prop", "shown"),
    [
        pytest.param(
            mapping(table=lambda stack: DynamoTable(stack, "Orders", partition_key="pk").table),
            "table",
            "S/Orders/Table",
            id="table without stream",
        ),
        pytest.param(
            mapping(table=lambda stack: dynamodb.Table.from_table_name(stack, "Orders", "orders")),
            "table",
            "S/Orders",
            id="imported without stream ARN",
        ),
        pytest.param(
            mapping(table=lambda stack: DynamoTable(stack, "Orders", partition_key="pk")),
            "table",
            "S/Orders",
            id="construct instead of its table",
        ),
        pytest.param(mapping(batch_size=0), "batch_size", "0", id="batch size 0"),
        pytest.param(mapping(batch_size=10001), "batch_size", "10001", id="batch size 10001"),
        pytest.param(mapping(retry_attempts=-1), "retry_attempts", "-1", id="endless retries"),
        pytest.param(
            mapping(max_record_age=cdk.Duration.seconds(30)),
            "max_record_age",
            "30 seconds",
            id="record age 30 s",
        ),
        pytest.param(
            mapping(max_record_age=cdk.Duration.days(8)),
            "max_record_age",
            "8 days",
            id="record age 8 days",
        ),
        pytest.param(
            mapping(max_batching_window=cdk.Duration.minutes(6)),
            "max_batching_window",
            "6 minutes",
            id="batching window 6 min",
        ),
        pytest.param(
            mapping(parallelization_factor=11),
            "parallelization_factor",
            "11",
            id="parallelization 11",
        ),
        pytest.param(
            mapping(starting_position=lambda_.StartingPosition.AT_TIMESTAMP),
            "starting_position",
            "AT_TIMESTAMP",
            id="start at a timestamp",
        ),
        pytest.param(mapping(filters={}), "filters", "{}", id="filters as a dict"),
        pytest.param(mapping(filters=[]), "filters", "[]", id="no filter"),
        pytest.param(mapping(filters=[{}]), "filters", "{}", id="empty filter pattern"),
        pytest.param(
            mapping(filters=[{"eventName": ["insert"]}]),
            "filters",
            "'insert'",
            id="lowercase event name",
        ),
        pytest.param(
            mapping(filters=[{"NewImage": {"status": {"S": ["NEW"]}}}]),
            "filters",
            "'NewImage'",
            id="item attribute at the top level",
        ),
        pytest.param(mapping(function="orders-stream"), "function", "'orders-stream'", id="name"),
    ],
)
def test_stream_mapping_refuses_streamless_tables_and_out_of_range_props(
    stack: cdk.Stack, build: Build, prop: str, shown: str
) -> None:
    assert_refused(stack, build, "S/Mapping", prop, shown)


# --- S3Trigger -----------------------------------------------------------------------------


def trigger(**props: Any) -> Build:
    def build(stack: cdk.Stack) -> S3Trigger:
        given = {"function": imported_function(stack), **props}
        if callable(given.get("bucket")):
            given["bucket"] = given["bucket"](stack)
        return S3Trigger(stack, "Trigger", **given)

    return build


@pytest.mark.parametrize(
    ("build", "prop", "shown"),
    [
        pytest.param(trigger(prefix="uploads/*"), "prefix", "'uploads/*'", id="prefix with *"),
        pytest.param(trigger(prefix=""), "prefix", "''", id="empty prefix"),
        pytest.param(trigger(prefix="/uploads/"), "prefix", "'/uploads/'", id="leading slash"),
        pytest.param(trigger(suffix="*.json"), "suffix", "'*.json'", id="suffix with *"),
        pytest.param(trigger(retry_attempts=200), "retry_attempts", "200", id="200 retries"),
        pytest.param(trigger(retry_attempts=-1), "retry_attempts", "-1", id="negative retries"),
        pytest.param(
            trigger(max_event_age=cdk.Duration.seconds(30)),
            "max_event_age",
            "30 seconds",
            id="event age 30 s",
        ),
        pytest.param(
            trigger(max_event_age=cdk.Duration.days(2)),
            "max_event_age",
            "2 days",
            id="event age 2 days",
        ),
        pytest.param(trigger(bucket="orders-uploads"), "bucket", "'orders-uploads'", id="name"),
        pytest.param(
            trigger(bucket=lambda stack: DynamoTable(stack, "Orders", partition_key="pk").table),
            "bucket",
            "S/Orders/Table",
            id="a table",
        ),
        pytest.param(
            lambda stack: S3Trigger(stack, "Trigger", function=None),
            "function",
            "None",
            id="no function",
        ),
    ],
)
def test_s3_trigger_refuses_keys_that_never_match_non_buckets_and_out_of_range_retries(
    stack: cdk.Stack, build: Build, prop: str, shown: str
) -> None:
    assert_refused(stack, build, "S/Trigger", prop, shown)


# --- Workflow ------------------------------------------------------------------------------


def workflow(**props: Any) -> Build:
    def build(stack: cdk.Stack) -> Workflow:
        given = {"definition": sfn.Pass(stack, "Start"), **props}
        return Workflow(stack, "Flow", **given)

    return build


@pytest.mark.parametrize(
    ("build", "prop", "shown"),
    [
        pytest.param(
            workflow(timeout=cdk.Duration.seconds(0)), "timeout", "0 seconds", id="timeout 0 s"
        ),
        pytest.param(
            workflow(timeout=cdk.Duration.days(366)), "timeout", "366 days", id="timeout 366 days"
        ),
        pytest.param(
            workflow(
                state_machine_type=sfn.StateMachineType.EXPRESS, timeout=cdk.Duration.minutes(10)
            ),
            "timeout",
            "10 minutes",
            id="express for 10 min",
        ),
        pytest.param(workflow(definition="{}"), "definition", "'{}'", id="definition as text"),
        pytest.param(
            workflow(log_retention=logs.RetentionDays.INFINITE),
            "log_retention",
            "INFINITE",
            id="logs kept forever",
        ),
    ],
)
def test_workflow_refuses_out_of_range_timeouts_and_non_chainable_definitions(
    stack: cdk.Stack, build: Build, prop: str, shown: str
) -> None:
    assert_refused(stack, build, "S/Flow", prop, shown)


def test_s3_trigger_says_why_a_leading_slash_never_matches(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match=r"has the key 'uploads/a\.json'.*'uploads/'"):
        trigger(prefix="/uploads/")(stack)


# --- renamed props --------------------------------------------------------------------------


def test_on_failure_queue_still_works_for_one_release_and_warns(stack: cdk.Stack) -> None:
    queue = failure_queue(stack, "Failed", holds="test events")
    with pytest.warns(ConstructsLibDeprecationWarning, match=r"use dead_letter_queue="):
        function = LambdaFunction(
            stack,
            "Fn",
            code=lambda_.Code.from_inline(HANDLER_SOURCE),
            handler=HANDLER,
            on_failure_queue=queue,
        )
    assert function.dead_letter_queue is queue


def test_on_failure_queue_and_dead_letter_queue_together_are_refused(stack: cdk.Stack) -> None:
    queue = failure_queue(stack, "Failed", holds="test events")
    assert_refused(
        stack,
        trigger(on_failure_queue=queue, dead_letter_queue=queue),
        "S/Trigger",
        "on_failure_queue",
        "Queue",
    )


def test_a_role_that_is_none_of_the_allowed_kinds_names_them(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match=r"an aws_iam\.IRole or a LeastPrivilegeRole"):
        function(role="worker")(stack)


def test_a_filter_that_can_never_match_says_where_item_attributes_sit(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match=r"item attributes sit under 'dynamodb'"):
        mapping(filters=[{"NewImage": {"status": {"S": ["NEW"]}}}])(stack)

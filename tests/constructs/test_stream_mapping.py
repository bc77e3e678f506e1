"""StreamMapping: bounded retries, bisection, an on-failure queue, reads on one stream only."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match

from constructs_lib import DynamoTable, StreamMapping
from tests.constructs import (
    ACCOUNT,
    REGION,
    cfn_lint_findings,
    findings_in,
    get_att,
    inline_function,
    logical_id_of,
    only,
    resources_under,
    unjustified_acknowledgments,
)
from tests.support import ENV, Synthesized, as_list, nag_app, resources_of_type, synthesize

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
STREAM_ARN = f"{TABLE_ARN}/stream/2024-01-01T00:00:00.000"
STREAM_READ = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()

    defaults = cdk.Stack(app, "Defaults", env=ENV)
    table = DynamoTable(
        defaults, "Orders", partition_key="pk", stream=dynamodb.StreamViewType.NEW_IMAGE
    )
    StreamMapping(
        defaults,
        "Changes",
        function=inline_function(defaults, "Reader").function,
        table=table.table,
    )

    options = cdk.Stack(app, "Options", env=ENV)
    table = DynamoTable(
        options, "Orders", partition_key="pk", stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES
    )
    reader = inline_function(options, "Reader")
    StreamMapping(
        options,
        "Inserts",
        function=reader.function,
        table=table.table,
        filters=[{"eventName": ["INSERT"]}],
        batch_size=100,
        starting_position=lambda_.StartingPosition.LATEST,
        retry_attempts=5,
        max_record_age=cdk.Duration.hours(2),
        bisect_batch_on_error=False,
        max_batching_window=cdk.Duration.seconds(5),
        parallelization_factor=2,
        # Failed records join the function's failed invocations in one queue.
        dead_letter_queue=reader.dead_letter_queue,
    )

    imported = cdk.Stack(app, "Imported", env=ENV)
    StreamMapping(
        imported,
        "Changes",
        function=inline_function(imported, "Reader").function,
        table=dynamodb.Table.from_table_attributes(
            imported, "Orders", table_arn=TABLE_ARN, table_stream_arn=STREAM_ARN
        ),
    )

    by_name = cdk.Stack(app, "ImportedByName", env=ENV)
    StreamMapping(
        by_name,
        "Changes",
        function=inline_function(by_name, "Reader").function,
        table=dynamodb.Table.from_table_attributes(
            by_name, "Orders", table_name="orders", table_stream_arn=STREAM_ARN
        ),
    )

    return synthesize(app)


def template(synth: Synthesized, stack: str) -> dict[str, Any]:
    return synth.templates[stack]


def mapping_of(synth: Synthesized, stack: str) -> dict[str, Any]:
    return only(resources_of_type(template(synth, stack), "AWS::Lambda::EventSourceMapping"))[1]


def queue_id(synth: Synthesized, stack: str, prefix: str) -> str:
    return logical_id_of(template(synth, stack), "AWS::SQS::Queue", prefix)


def table_id(synth: Synthesized, stack: str) -> str:
    return logical_id_of(template(synth, stack), "AWS::DynamoDB::Table")


def reader_policy(synth: Synthesized, stack: str) -> tuple[str, list[dict[str, Any]]]:
    """The logical id and statements of the function's role policy."""
    policy_id, policy = only(resources_of_type(template(synth, stack), "AWS::IAM::Policy"))
    return policy_id, policy["Properties"]["PolicyDocument"]["Statement"]


def statements_with(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if action in as_list(s["Action"])]


# --- failure handling ---------------------------------------------------------------------


MAPPING = "AWS::Lambda::EventSourceMapping"


def test_stream_mapping_bisects_and_retries_three_times_within_an_hour(
    synth: Synthesized,
) -> None:
    synth.template("Defaults").has_resource_properties(
        MAPPING,
        {
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 3,
            "MaximumRecordAgeInSeconds": 3600,
        },
    )


def test_stream_mapping_lets_the_function_report_failed_records(synth: Synthesized) -> None:
    synth.template("Defaults").has_resource_properties(
        MAPPING, {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    )


def test_stream_mapping_reads_from_the_trim_horizon_in_batches_of_ten(synth: Synthesized) -> None:
    synth.template("Defaults").has_resource_properties(
        MAPPING,
        {
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 10,
            "EventSourceArn": get_att(table_id(synth, "Defaults"), "StreamArn"),
            "FilterCriteria": Match.absent(),
        },
    )


def test_stream_mapping_sends_failed_records_to_an_encrypted_retained_queue(
    synth: Synthesized,
) -> None:
    on_failure_id = queue_id(synth, "Defaults", "ChangesOnFailureQueue")
    queue = template(synth, "Defaults")["Resources"][on_failure_id]
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["DeletionPolicy"] == "Retain"
    destination = mapping_of(synth, "Defaults")["Properties"]["DestinationConfig"]
    assert destination == {"OnFailure": {"Destination": get_att(on_failure_id)}}
    _, policy = only(resources_under(template(synth, "Defaults"), "ChangesOnFailureQueuePolicy"))
    assert {
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": get_att(on_failure_id),
    } in policy["Properties"]["PolicyDocument"]["Statement"]


def test_stream_mapping_uses_a_given_failure_queue_and_creates_none(synth: Synthesized) -> None:
    given_id = queue_id(synth, "Options", "ReaderDeadLetterQueue")
    destination = mapping_of(synth, "Options")["Properties"]["DestinationConfig"]
    assert destination == {"OnFailure": {"Destination": get_att(given_id)}}
    assert not resources_under(template(synth, "Options"), "InsertsOnFailureQueue")


def test_stream_mapping_passes_its_options_through(synth: Synthesized) -> None:
    synth.template("Options").has_resource_properties(
        MAPPING,
        {
            "BatchSize": 100,
            "StartingPosition": "LATEST",
            "MaximumRetryAttempts": 5,
            "MaximumRecordAgeInSeconds": 7200,
            "BisectBatchOnFunctionError": False,
            "MaximumBatchingWindowInSeconds": 5,
            "ParallelizationFactor": 2,
        },
    )


def test_stream_mapping_filters_records_by_pattern(synth: Synthesized) -> None:
    synth.template("Options").has_resource_properties(
        MAPPING,
        {
            "FilterCriteria": {
                "Filters": [{"Pattern": Match.serialized_json({"eventName": ["INSERT"]})}]
            }
        },
    )


# --- permissions ----------------------------------------------------------------------------


def test_stream_mapping_grants_read_on_that_stream_only(synth: Synthesized) -> None:
    _, statements = reader_policy(synth, "Defaults")
    reads = [s for s in statements if set(as_list(s["Action"])) & set(STREAM_READ)]
    assert reads == [
        {
            "Action": STREAM_READ,
            "Effect": "Allow",
            "Resource": get_att(table_id(synth, "Defaults"), "StreamArn"),
        }
    ]


def test_stream_mapping_grants_list_streams_on_that_table_streams_only(
    synth: Synthesized,
) -> None:
    _, statements = reader_policy(synth, "Defaults")
    assert statements_with(statements, "dynamodb:ListStreams") == [
        {
            "Action": "dynamodb:ListStreams",
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [get_att(table_id(synth, "Defaults")), "/stream/*"]]},
        }
    ]


def test_stream_mapping_grants_nothing_on_star_but_xray(synth: Synthesized) -> None:
    for stack in ("Defaults", "Options", "Imported"):
        _, statements = reader_policy(synth, stack)
        for statement in statements:
            if "*" in as_list(statement["Resource"]):
                assert all(a.startswith("xray:") for a in as_list(statement["Action"]))


def test_stream_mapping_may_send_to_its_failure_queue_only(synth: Synthesized) -> None:
    # The function's own dead-letter queue, and the mapping's on-failure queue.
    _, statements = reader_policy(synth, "Defaults")
    sends = statements_with(statements, "sqs:SendMessage")
    assert {s["Resource"]["Fn::GetAtt"][0] for s in sends} == {
        queue_id(synth, "Defaults", "ChangesOnFailureQueue"),
        queue_id(synth, "Defaults", "ReaderDeadLetterQueue"),
    }


def test_stream_mapping_is_created_after_the_function_may_read(synth: Synthesized) -> None:
    policy_id, _ = reader_policy(synth, "Defaults")
    assert policy_id in as_list(mapping_of(synth, "Defaults")["DependsOn"])


def test_stream_mapping_reads_an_imported_table_stream(synth: Synthesized) -> None:
    assert not resources_of_type(template(synth, "Imported"), "AWS::DynamoDB::Table")
    assert mapping_of(synth, "Imported")["Properties"]["EventSourceArn"] == STREAM_ARN
    _, statements = reader_policy(synth, "Imported")
    assert [s["Resource"] for s in statements_with(statements, "dynamodb:GetRecords")] == [
        STREAM_ARN
    ]
    (list_streams,) = statements_with(statements, "dynamodb:ListStreams")
    assert list_streams["Resource"] == f"{TABLE_ARN}/stream/*"


# --- reviews: cdk-nag and cfn-lint ------------------------------------------------------


@pytest.mark.parametrize(
    "stack",
    [
        "Defaults",
        "Options",
        "Imported",
        "ImportedByName",
    ],
)
def test_stream_mapping_stack_has_no_unacknowledged_nag_finding(
    synth: Synthesized, stack: str
) -> None:
    assert findings_in(synth, stack) == [], synth.finding_summary()


def test_stream_mapping_acknowledgments_are_granular_and_give_reasons(synth: Synthesized) -> None:
    assert unjustified_acknowledgments(synth) == []


def test_stream_mapping_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []

"""StreamMapping: a DynamoDB stream feeding a function, with bounded, visible failure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import defaults
from ._acknowledge import AWS_SOLUTIONS, acknowledge, nag_resource_name
from ._alarms import AlarmOptions, stream_mapping_alarms
from ._queues import failure_queue
from ._validation import (
    FUNCTION_MEMBERS,
    TABLE_MEMBERS,
    check_duration,
    check_int_range,
    check_interface,
    fail,
)

#: Read actions Lambda's event source poller needs on a DynamoDB stream.
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)


class StreamMapping(Construct):
    """Map a DynamoDB table's stream to a Lambda function.

    Records that still fail after bisecting the batch and retrying go to an encrypted SQS
    on-failure queue with the batch's shard and sequence numbers; the function reports the
    records it could not process (``ReportBatchItemFailures``) so that only those are
    retried. Read permissions are granted on this table's stream only (aws-cdk's
    ``grant_stream_read`` grants ``dynamodb:ListStreams`` on ``*``).

    Parameters
    ----------
    function:
        Any ``aws_lambda.IFunction`` (function, alias, imported function). Required.
    table:
        Any ``aws_dynamodb.ITable`` with a stream; an imported table must be imported with
        ``table_stream_arn``. Required.
    batch_size:
        Records per invocation, 1..10000. Default: 10.
    starting_position:
        Default: ``StartingPosition.TRIM_HORIZON`` (no record written before the mapping
        is enabled is skipped).
    filters:
        Event filter patterns, e.g. ``[{"eventName": ["INSERT"]}]``. Default: every record.
    on_failure_queue:
        Destination for records that failed every retry. Default: a new SQS queue,
        SQS-encrypted, TLS-only, 14 days' retention, retained.
    retry_attempts:
        0..10000. Default: 3.
    max_record_age:
        60 seconds..7 days. Default: 1 hour.
    bisect_batch_on_error:
        Split a failing batch in two to isolate the bad record. Default: ``True``.
    max_batching_window:
        0..300 seconds. Default: none (invoke as soon as records arrive).
    parallelization_factor:
        Concurrent batches per shard, 1..10. Default: 1 (records of a key stay in order).
    alarms:
        :class:`~constructs_lib.AlarmOptions`. Default: alarms on ``IteratorAge`` (the
        function's, at 50 % of ``max_record_age``; left out
        for a token age) and ``DeadLetterQueueMessages``.

    Attributes
    ----------
    event_source_mapping: ``aws_lambda.EventSourceMapping``
    dead_letter_queue: ``aws_sqs.IQueue`` (the on-failure destination)
    alarms: ``dict`` of alarm name to ``cloudwatch.Alarm``
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        table: dynamodb.ITable,
        batch_size: int = defaults.STREAM_BATCH_SIZE,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        filters: Sequence[Mapping[str, Any]] | None = None,
        on_failure_queue: sqs.IQueue | None = None,
        retry_attempts: int = defaults.STREAM_RETRY_ATTEMPTS,
        max_record_age: Duration | None = None,
        bisect_batch_on_error: bool = True,
        max_batching_window: Duration | None = None,
        parallelization_factor: int = 1,
        alarms: AlarmOptions | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        max_record_age = max_record_age or Duration.seconds(defaults.STREAM_MAX_RECORD_AGE_SECONDS)

        # validate
        check_interface(
            self, "function", function, FUNCTION_MEMBERS, "an aws_lambda.IFunction"
        )
        check_interface(self, "table", table, TABLE_MEMBERS, "an aws_dynamodb.ITable")
        stream_arn = table.table_stream_arn
        if stream_arn is None:
            raise fail(
                self,
                "table",
                table.node.path,
                "allowed: a table with a stream (set stream= on the table, or import it "
                "with table_stream_arn=)",
            )
        check_int_range(self, "batch_size", batch_size, *defaults.STREAM_BATCH_SIZE_RANGE)
        check_int_range(
            self, "retry_attempts", retry_attempts, *defaults.STREAM_RETRY_ATTEMPTS_RANGE
        )
        check_duration(
            self, "max_record_age", max_record_age, *defaults.STREAM_MAX_RECORD_AGE_RANGE_SECONDS
        )
        check_duration(
            self,
            "max_batching_window",
            max_batching_window,
            *defaults.STREAM_MAX_BATCHING_WINDOW_RANGE_SECONDS,
        )
        check_int_range(
            self,
            "parallelization_factor",
            parallelization_factor,
            *defaults.STREAM_PARALLELIZATION_RANGE,
        )
        if starting_position == lambda_.StartingPosition.AT_TIMESTAMP:
            raise fail(
                self,
                "starting_position",
                "AT_TIMESTAMP",
                "allowed: TRIM_HORIZON or LATEST (DynamoDB streams have no AT_TIMESTAMP)",
            )
        filter_criteria = self._filter_criteria(filters)

        # build
        self.dead_letter_queue: sqs.IQueue = on_failure_queue or failure_queue(
            self, "OnFailureQueue", holds="stream records this mapping could not process"
        )
        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "Mapping",
            target=function,
            event_source_arn=stream_arn,
            starting_position=starting_position,
            batch_size=batch_size,
            bisect_batch_on_error=bisect_batch_on_error,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            max_batching_window=max_batching_window,
            parallelization_factor=parallelization_factor,
            report_batch_item_failures=True,
            on_failure=event_sources.SqsDlq(self.dead_letter_queue),
            filters=filter_criteria,
        )

        # grant: read this stream only; send failures to this queue only
        grants = [
            iam.Grant.add_to_principal(
                grantee=function,
                actions=list(STREAM_READ_ACTIONS),
                resource_arns=[stream_arn],
            ),
            iam.Grant.add_to_principal(
                grantee=function,
                actions=["dynamodb:ListStreams"],
                # ListStreams is authorized on the table's stream ARNs, not on '*'.
                resource_arns=[f"{table.table_arn}/stream/*"],
            ),
            self.dead_letter_queue.grant_send_messages(function),
        ]
        # Lambda checks the function's permissions when the mapping is created.
        for grant in grants:
            grant.apply_before(self.event_source_mapping)
        self._acknowledge_list_streams(function, table)

        # expose
        self.alarms = stream_mapping_alarms(
            self,
            alarms,
            function=function,
            max_record_age=max_record_age,
            dead_letter_queue=self.dead_letter_queue,
        )

    def _filter_criteria(
        self, filters: Sequence[Mapping[str, Any]] | None
    ) -> list[Mapping[str, Any]] | None:
        if filters is None:
            return None
        if isinstance(filters, Mapping) or not filters:
            raise fail(
                self,
                "filters",
                filters,
                "allowed: a non-empty list of event filter patterns, e.g. "
                "[{'eventName': ['INSERT']}]",
            )
        criteria = []
        for pattern in filters:
            if not isinstance(pattern, Mapping) or not pattern:
                raise fail(self, "filters", pattern, "allowed: a non-empty dict per pattern")
            criteria.append(lambda_.FilterCriteria.filter(dict(pattern)))
        return criteria

    def _acknowledge_list_streams(
        self, function: lambda_.IFunction, table: dynamodb.ITable
    ) -> None:
        # The finding sits on the function's role policy, so that is where it is acknowledged.
        role = function.role
        if not isinstance(role, iam.Role):
            return
        resource = nag_resource_name(self, f"{table.table_arn}/stream/*")
        if resource is None:
            return
        acknowledge(
            role,
            AWS_SOLUTIONS,
            f"AwsSolutions-IAM5[Resource::{resource}]",
            "dynamodb:ListStreams is granted on this table's streams (table/<name>/stream/*), "
            "the narrowest resource DynamoDB authorizes it on: stream labels are generated "
            "by DynamoDB and change whenever the stream is re-enabled.",
        )

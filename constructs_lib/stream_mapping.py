"""StreamMapping: a DynamoDB stream feeding a function, with bounded, visible failure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import defaults
from ._acknowledge import acknowledge_wildcard_resource
from ._alarms import AlarmOptions, stream_mapping_alarms
from ._deprecation import renamed_prop
from ._interfaces import function_of, table_of
from ._validation import check_duration, check_int_range, fail
from .queues import failure_queue

if TYPE_CHECKING:
    from .function import LambdaFunction
    from .table import DynamoTable

#: Where a new mapping starts reading: :data:`defaults.STREAM_STARTING_POSITION`.
DEFAULT_STARTING_POSITION: lambda_.StartingPosition = getattr(
    lambda_.StartingPosition, defaults.STREAM_STARTING_POSITION
)
#: The top-level fields of a DynamoDB stream record as Lambda filters it.
STREAM_RECORD_FIELDS = (
    "awsRegion",
    "dynamodb",
    "eventID",
    "eventName",
    "eventSource",
    "eventSourceARN",
    "eventVersion",
    "userIdentity",
)
#: The event names DynamoDB Streams sends.
STREAM_EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
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
        Any ``aws_lambda.IFunction`` (function, alias, imported function) or a
        :class:`LambdaFunction` (its ``invoke_target``). Required.
    table:
        Any ``aws_dynamodb.ITable`` with a stream, or a :class:`DynamoTable`; an imported
        table must be imported with ``table_stream_arn``. Required.
    batch_size:
        Records per invocation, 1..10000. Default: 10.
    starting_position:
        Default: ``StartingPosition.TRIM_HORIZON`` (no record written before the mapping
        is enabled is skipped).
    filters:
        Event filter patterns, e.g. ``[{"eventName": ["INSERT"]}]``. A pattern that can match
        no record is refused: a top-level field a stream record does not have (item
        attributes sit under ``"dynamodb"``), or an ``eventName`` other than ``INSERT``,
        ``MODIFY``, ``REMOVE``. Default: every record.
    dead_letter_queue:
        On-failure destination for records that failed every retry. Default: a new SQS
        queue, SQS-encrypted, TLS-only, 14 days' retention, retained. (Called
        ``on_failure_queue`` before; that name still works for one release and warns.)
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
        function's, at 50 % of ``max_record_age``; left out for a token age) and
        ``DeadLetterQueueMessages``.

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
        function: lambda_.IFunction | LambdaFunction,
        table: dynamodb.ITable | DynamoTable,
        batch_size: int = defaults.STREAM_BATCH_SIZE,
        starting_position: lambda_.StartingPosition = DEFAULT_STARTING_POSITION,
        filters: Sequence[Mapping[str, Any]] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = defaults.STREAM_RETRY_ATTEMPTS,
        max_record_age: Duration | None = None,
        bisect_batch_on_error: bool = defaults.STREAM_BISECT_BATCH_ON_ERROR,
        max_batching_window: Duration | None = None,
        parallelization_factor: int = defaults.STREAM_PARALLELIZATION_FACTOR,
        on_failure_queue: sqs.IQueue | None = None,
        alarms: AlarmOptions | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        dead_letter_queue = renamed_prop(
            self, "on_failure_queue", on_failure_queue, "dead_letter_queue", dead_letter_queue
        )
        max_record_age = max_record_age or Duration.seconds(defaults.STREAM_MAX_RECORD_AGE_SECONDS)

        # validate
        function = function_of(self, "function", function)
        table = table_of(self, "table", table)
        stream_arn = self._stream_arn(table)
        self._check_ranges(
            batch_size, retry_attempts, max_record_age, max_batching_window, parallelization_factor
        )
        self._check_starting_position(starting_position)
        filter_criteria = self._filter_criteria(filters)

        # build
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue or failure_queue(
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
        self._grant_reads_and_failures(function, table, stream_arn)

        # expose
        self.alarms = stream_mapping_alarms(
            self, alarms, function=function, max_record_age=max_record_age,
            queue=self.dead_letter_queue,
        )  # fmt: skip

    def _check_starting_position(self, starting_position: lambda_.StartingPosition) -> None:
        if starting_position == lambda_.StartingPosition.AT_TIMESTAMP:
            raise fail(
                self,
                "starting_position",
                "AT_TIMESTAMP",
                "allowed: TRIM_HORIZON or LATEST (DynamoDB streams have no AT_TIMESTAMP)",
            )

    def _stream_arn(self, table: dynamodb.ITable) -> str:
        stream_arn = table.table_stream_arn
        if stream_arn is None:
            raise fail(
                self,
                "table",
                table.node.path,
                "allowed: a table with a stream (set stream= on the table, or import it "
                "with table_stream_arn=)",
            )
        return stream_arn

    def _check_ranges(
        self,
        batch_size: int,
        retry_attempts: int,
        max_record_age: Duration,
        max_batching_window: Duration | None,
        parallelization_factor: int,
    ) -> None:
        # aws-cdk checks most of these ranges too (not batch_size), but names the TypeScript
        # props (maxRecordAge) and no construct: these name the Python prop, the construct
        # path and the range.
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

    def _grant_reads_and_failures(
        self, function: lambda_.IFunction, table: dynamodb.ITable, stream_arn: str
    ) -> None:
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
            self._check_pattern_can_match(pattern)
            criteria.append(lambda_.FilterCriteria.filter(dict(pattern)))
        return criteria

    def _check_pattern_can_match(self, pattern: Mapping[str, Any]) -> None:
        # A pattern naming a field a stream record does not have at its top level (NewImage
        # sits under "dynamodb"), or an event name DynamoDB never sends, matches no record:
        # every record would be dropped without a trace.
        unknown = sorted(set(pattern) - set(STREAM_RECORD_FIELDS))
        if unknown:
            raise fail(
                self,
                "filters",
                dict(pattern),
                f"unknown top-level field {unknown[0]!r}, which no stream record has; allowed: "
                + ", ".join(STREAM_RECORD_FIELDS)
                + " (item attributes sit under 'dynamodb', e.g. "
                "{'dynamodb': {'NewImage': {'status': {'S': ['NEW']}}}})",
            )
        names = pattern.get("eventName")
        literal_names = names if isinstance(names, list) else []
        for name in literal_names:
            if isinstance(name, str) and name not in STREAM_EVENT_NAMES:
                raise fail(
                    self,
                    "filters",
                    dict(pattern),
                    f"eventName {name!r} never occurs; allowed: "
                    + ", ".join(STREAM_EVENT_NAMES)
                    + " (uppercase)",
                )

    def _acknowledge_list_streams(
        self, function: lambda_.IFunction, table: dynamodb.ITable
    ) -> None:
        # The finding sits on the function's role policy, so that is where it is acknowledged.
        role = function.role
        if not isinstance(role, iam.Role):
            return
        acknowledge_wildcard_resource(
            role,
            f"{table.table_arn}/stream/*",
            "dynamodb:ListStreams is granted on this table's streams (table/<name>/stream/*), "
            "the narrowest resource DynamoDB authorizes it on: stream labels are generated "
            "by DynamoDB and change whenever the stream is re-enabled.",
        )

"""The alarms each construct creates by default, and the one prop that adjusts them.

Every construct takes ``alarms=AlarmOptions(...)`` and exposes ``.alarms``, a dict from a
stable name (``"ErrorRate"``, ``"DeadLetterQueueMessages"``) to the ``cloudwatch.Alarm``.
Metric factories (one per construct kind, below) are kept apart from the alarm wiring
(:class:`AlarmGroup`); :class:`~constructs_lib.operations_hub.OperationsHub` finds the
groups under a scope and routes their alarms to one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from . import defaults
from ._validation import fail

if TYPE_CHECKING:
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_events as events
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs
    from aws_cdk import aws_stepfunctions as sfn

    from .function import LambdaFunction

#: The construct id of the group that holds a construct's alarms.
ALARM_GROUP_ID = "Alarms"
#: (evaluation periods, datapoints to alarm) by ``AlarmSpec.lost_work``.
_EVALUATION = {
    False: (defaults.SUSTAINED_EVALUATION_PERIODS, defaults.SUSTAINED_DATAPOINTS_TO_ALARM),
    True: (defaults.LOST_WORK_EVALUATION_PERIODS, defaults.LOST_WORK_DATAPOINTS_TO_ALARM),
}


@dataclass(frozen=True)
class AlarmSetting:
    """Adjust one alarm of a construct; a field left ``None`` keeps the default.

    Parameters
    ----------
    threshold:
        In the alarm's own unit (percent, milliseconds or a count; see each construct).
        Default: the construct's default, derived from its settings where one applies.
    evaluation_periods, datapoints_to_alarm:
        The alarm fires when ``datapoints_to_alarm`` of the last ``evaluation_periods``
        periods breach. Default: 3 of 5 for sustained conditions, 1 of 1 for lost work
        (:data:`constructs_lib.defaults.SUSTAINED_EVALUATION_PERIODS` and following).
    period:
        10 s, 30 s or a multiple of 60 s. Default: 1 minute.
    enabled:
        ``False`` leaves this alarm out. Default: ``True``.
    """

    threshold: float | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    period: Duration | None = None
    enabled: bool = True


@dataclass(frozen=True)
class AlarmOptions:
    """The ``alarms`` prop of every construct.

    Parameters
    ----------
    enabled:
        ``False`` creates no alarm at all for the construct. Default: ``True``.
    overrides:
        ``{alarm name: AlarmSetting}``, e.g. ``{"ErrorRate": AlarmSetting(threshold=1),
        "Throttles": AlarmSetting(enabled=False)}``. An unknown name is refused, naming
        the names the construct has. Default: none, every alarm with its default.
    """

    enabled: bool = True
    overrides: Mapping[str, AlarmSetting] = field(default_factory=dict)


@dataclass(frozen=True)
class AlarmSpec:
    """One default alarm: what it watches and when it fires.

    ``metric`` builds the metric for a period; ``lost_work`` selects the 1-of-1 evaluation
    (each datapoint is work no retry will redo) instead of the sustained 3-of-5. A
    ``threshold`` of None (derived from a setting given as a token) leaves the alarm out
    unless the user gives one.
    """

    name: str
    description: str
    metric: Callable[[Duration], cloudwatch.IMetric]
    threshold: float | None
    lost_work: bool = False


class AlarmGroup(Construct):
    """The alarms of one library construct (construct id ``Alarms`` under it).

    Attributes
    ----------
    owner: the construct the alarms watch
    owner_path: ``owner.node.path``
    alarms: ``dict`` of alarm name to ``cloudwatch.Alarm``
    """

    def __init__(self, owner: Construct) -> None:
        super().__init__(owner, ALARM_GROUP_ID)
        self.owner = owner
        # Read once: each read is a call into the jsii runtime, and every alarm names it.
        self.owner_path: str = owner.node.path
        self.alarms: dict[str, cloudwatch.Alarm] = {}

    def add(self, spec: AlarmSpec, setting: AlarmSetting) -> cloudwatch.Alarm:
        periods, points = _EVALUATION[spec.lost_work]
        evaluation_periods = setting.evaluation_periods or periods
        datapoints = setting.datapoints_to_alarm or min(evaluation_periods, points)
        if datapoints > evaluation_periods:
            raise fail(
                self.owner,
                "alarms",
                datapoints,
                f"allowed as {spec.name} datapoints_to_alarm: 1..{evaluation_periods} "
                "(its evaluation_periods)",
            )
        period = setting.period or Duration.seconds(defaults.ALARM_PERIOD_SECONDS)
        threshold = setting.threshold if setting.threshold is not None else spec.threshold
        assert threshold is not None  # build_alarms leaves out alarms without one
        alarm = cloudwatch.Alarm(
            self,
            spec.name,
            metric=spec.metric(period),
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData[defaults.ALARM_TREAT_MISSING_DATA],
            alarm_description=f"{self.owner_path}: {spec.description}",
        )
        self.alarms[spec.name] = alarm
        return alarm


def build_alarms(
    owner: Construct, options: AlarmOptions | None, specs: Iterable[AlarmSpec]
) -> dict[str, cloudwatch.Alarm]:
    """Create ``owner``'s alarms from ``specs`` as ``options`` adjust them; return them by name."""
    options = AlarmOptions() if options is None else options
    specs = list(specs)
    _check_options(owner, options, [spec.name for spec in specs])
    if not options.enabled:
        return {}
    group = AlarmGroup(owner)
    for spec in specs:
        setting = options.overrides.get(spec.name, AlarmSetting())
        if setting.enabled and (spec.threshold is not None or setting.threshold is not None):
            group.add(spec, setting)
    return group.alarms


def _check_options(owner: Construct, options: object, names: list[str]) -> None:
    if not isinstance(options, AlarmOptions):
        raise fail(owner, "alarms", options, "allowed: a constructs_lib.AlarmOptions")
    for name, setting in dict(options.overrides).items():
        if name not in names:
            raise fail(owner, "alarms", name, "allowed alarm names: " + ", ".join(names))
        if not isinstance(setting, AlarmSetting):
            raise fail(owner, "alarms", setting, f"allowed for {name!r}: an AlarmSetting")
        _check_setting(owner, name, setting)


def _check_setting(owner: Construct, name: str, setting: AlarmSetting) -> None:
    threshold = setting.threshold
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold < 0
    ):
        raise fail(owner, "alarms", threshold, f"allowed as {name} threshold: a number >= 0")
    periods = setting.evaluation_periods
    if periods is not None and (not isinstance(periods, int) or not 1 <= periods <= 100):
        raise fail(owner, "alarms", periods, f"allowed as {name} evaluation_periods: 1..100")
    datapoints = setting.datapoints_to_alarm
    if datapoints is not None and (not isinstance(datapoints, int) or datapoints < 1):
        raise fail(owner, "alarms", datapoints, f"allowed as {name} datapoints_to_alarm: >= 1")
    period = setting.period
    if period is not None and not (
        isinstance(period, Duration)
        and (period.is_unresolved() or _is_alarm_period(period.to_seconds()))
    ):
        raise fail(
            owner, "alarms", period, f"allowed as {name} period: 10 s, 30 s or a multiple of 60 s"
        )


def _is_alarm_period(seconds: float) -> bool:
    return seconds in (10, 30) or (seconds >= 60 and seconds % 60 == 0)


def _percent_of(duration: Duration, percent: float) -> float | None:
    """``percent`` of ``duration`` in milliseconds; None for a token (no threshold derivable)."""
    if duration.is_unresolved():
        return None
    return duration.to_milliseconds() * percent / 100


def _metric(
    namespace: str, name: str, dimensions: Mapping[str, str], statistic: str
) -> Callable[[Duration], cloudwatch.IMetric]:
    def build(period: Duration) -> cloudwatch.IMetric:
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=name,
            dimensions_map=dict(dimensions),
            statistic=statistic,
            period=period,
        )

    return build


def _percent(
    label: str, metric: Callable[[Duration], cloudwatch.IMetric]
) -> Callable[[Duration], cloudwatch.IMetric]:
    """An average of a 0/1-per-request metric, as a percent of requests (metric math)."""

    def build(period: Duration) -> cloudwatch.IMetric:
        return cloudwatch.MathExpression(
            expression="100 * rate",
            using_metrics={"rate": metric(period)},
            label=label,
            period=period,
        )

    return build


def _dead_letter_messages(queue: sqs.IQueue, holds: str) -> AlarmSpec:
    return AlarmSpec(
        "DeadLetterQueueMessages",
        f"{holds} are waiting in the dead-letter queue; inspect and redrive them.",
        lambda period: queue.metric_approximate_number_of_messages_visible(
            statistic="Maximum", period=period
        ),
        threshold=1,
        lost_work=True,
    )


# --- metric factories, one per construct kind ----------------------------------------------


def function_alarms(
    owner: LambdaFunction, options: AlarmOptions | None, *, per_version: bool = False
) -> dict[str, cloudwatch.Alarm]:
    """LambdaFunction: ErrorRate, Throttles, Duration, DeadLetterQueueMessages, DeadLetterErrors.

    ``per_version`` (a function released through its alias) measures the error rate and
    duration on the alias's current version only (the ``ExecutedVersion`` dimension), and
    throttles and dead-letter errors on the alias: a canary's alarms judge the new version.
    """
    function = owner.function
    name = function.function_name
    scope: dict[str, str] = {"FunctionName": name}
    executed = scope
    if per_version and owner.alias is not None:
        scope = {**scope, "Resource": f"{name}:{owner.alias.alias_name}"}
        executed = {**scope, "ExecutedVersion": owner.alias.version.version}
    timeout = function.timeout or Duration.seconds(defaults.FUNCTION_TIMEOUT_SECONDS)
    return build_alarms(
        owner,
        options,
        [
            AlarmSpec(
                "ErrorRate",
                "percent of invocations that end in an error (Errors / Invocations).",
                _error_rate(executed),
                defaults.FUNCTION_ERROR_RATE_PERCENT,
            ),
            AlarmSpec(
                "Throttles",
                "invocations throttled (concurrency exhausted).",
                _metric("AWS/Lambda", "Throttles", scope, "Sum"),
                defaults.FUNCTION_THROTTLES,
            ),
            AlarmSpec(
                "Duration",
                f"p99 duration at {defaults.FUNCTION_DURATION_PERCENT_OF_TIMEOUT} % of the "
                "timeout: the slowest invocations are about to time out.",
                _metric("AWS/Lambda", "Duration", executed, "p99"),
                _percent_of(timeout, defaults.FUNCTION_DURATION_PERCENT_OF_TIMEOUT),
            ),
            _dead_letter_messages(
                owner.dead_letter_queue, "Asynchronous invocations that failed every retry"
            ),
            AlarmSpec(
                "DeadLetterErrors",
                "failed asynchronous events could not be written to the dead-letter queue "
                "and are lost.",
                _metric("AWS/Lambda", "DeadLetterErrors", scope, "Sum"),
                1,
                lost_work=True,
            ),
        ],
    )


def _error_rate(dimensions: Mapping[str, str]) -> Callable[[Duration], cloudwatch.IMetric]:
    errors = _metric("AWS/Lambda", "Errors", dimensions, "Sum")
    invocations = _metric("AWS/Lambda", "Invocations", dimensions, "Sum")

    def build(period: Duration) -> cloudwatch.IMetric:
        return cloudwatch.MathExpression(
            # No invocation, no error rate: 0 rather than a division by zero.
            expression="IF(invocations > 0, 100 * errors / invocations, 0)",
            using_metrics={"errors": errors(period), "invocations": invocations(period)},
            label="Error rate (%)",
            period=period,
        )

    return build


def stream_mapping_alarms(
    owner: Construct,
    options: AlarmOptions | None,
    *,
    function: lambda_.IFunction,
    max_record_age: Duration,
    queue: sqs.IQueue,
) -> dict[str, cloudwatch.Alarm]:
    """StreamMapping: IteratorAge (derived from max_record_age), DeadLetterQueueMessages."""
    percent = defaults.STREAM_ITERATOR_AGE_PERCENT_OF_MAX_RECORD_AGE
    return build_alarms(
        owner,
        options,
        [
            AlarmSpec(
                "IteratorAge",
                f"the oldest stream record read is {percent} % of the maximum record age old: "
                "the function falls behind and records risk expiring unprocessed.",
                lambda period: function.metric("IteratorAge", statistic="Maximum", period=period),
                _percent_of(max_record_age, percent),
            ),
            _dead_letter_messages(queue, "Stream records that failed every retry"),
        ],
    )


def s3_trigger_alarms(
    owner: Construct,
    options: AlarmOptions | None,
    *,
    rule: events.IRule,
    queue: sqs.IQueue,
    quarantine: tuple[str, str] | None = None,
) -> dict[str, cloudwatch.Alarm]:
    """S3Trigger: FailedInvocations (of the rule), DeadLetterQueueMessages, and
    QuarantinedObjects when ``quarantine`` (bucket name, request-metrics filter id) is given."""
    specs = [
        AlarmSpec(
            "FailedInvocations",
            "EventBridge gave up delivering object-created events to the function.",
            _metric("AWS/Events", "FailedInvocations", {"RuleName": rule.rule_name}, "Sum"),
            1,
            lost_work=True,
        ),
        _dead_letter_messages(queue, "Object-created events the function refused"),
    ]
    if quarantine is not None:
        bucket_name, filter_id = quarantine
        specs.append(
            AlarmSpec(
                "QuarantinedObjects",
                "The function put rejected files or elements into the quarantine; inspect, "
                "fix and upload them again.",
                _metric(
                    "AWS/S3",
                    "PutRequests",
                    {"BucketName": bucket_name, "FilterId": filter_id},
                    "Sum",
                ),
                1,
                lost_work=True,
            )
        )
    return build_alarms(owner, options, specs)


class _ApiStage(Protocol):
    """What the API alarms read from a REST or HTTP API stage (both have these methods)."""

    def metric_server_error(
        self, *, statistic: str | None = ..., period: Duration | None = ...
    ) -> cloudwatch.Metric: ...

    def metric_latency(
        self, *, statistic: str | None = ..., period: Duration | None = ...
    ) -> cloudwatch.Metric: ...


def api_alarms(
    owner: Construct, options: AlarmOptions | None, *, stage: _ApiStage
) -> dict[str, cloudwatch.Alarm]:
    """RestApiEndpoint / HttpApiEndpoint: ServerErrorRate, Latency (p99), on the stage."""
    return build_alarms(
        owner,
        options,
        [
            AlarmSpec(
                "ServerErrorRate",
                "percent of requests answered with a 5xx.",
                _percent(
                    "5xx rate (%)",
                    lambda period: stage.metric_server_error(statistic="Average", period=period),
                ),
                defaults.API_SERVER_ERROR_RATE_PERCENT,
            ),
            AlarmSpec(
                "Latency",
                "p99 latency (ms) of the API's responses.",
                lambda period: stage.metric_latency(statistic="p99", period=period),
                defaults.API_LATENCY_P99_MS,
            ),
        ],
    )


def table_alarms(
    owner: Construct, options: AlarmOptions | None, *, table: dynamodb.ITable
) -> dict[str, cloudwatch.Alarm]:
    """DynamoTable: ThrottledRequests, SystemErrors, summed over the item operations."""
    return build_alarms(
        owner,
        options,
        [
            AlarmSpec(
                "ThrottledRequests",
                "requests throttled by DynamoDB (any item or query operation).",
                _sum_over_operations(table, "ThrottledRequests"),
                defaults.TABLE_THROTTLED_REQUESTS,
            ),
            AlarmSpec(
                "SystemErrors",
                "requests DynamoDB failed with a 500 (any item or query operation).",
                _sum_over_operations(table, "SystemErrors"),
                defaults.TABLE_SYSTEM_ERRORS,
            ),
        ],
    )


def _sum_over_operations(
    table: dynamodb.ITable, metric_name: str
) -> Callable[[Duration], cloudwatch.IMetric]:
    def build(period: Duration) -> cloudwatch.IMetric:
        metrics = {
            operation.lower(): cloudwatch.Metric(
                namespace="AWS/DynamoDB",
                metric_name=metric_name,
                dimensions_map={"TableName": table.table_name, "Operation": operation},
                statistic="Sum",
                period=period,
            )
            for operation in defaults.TABLE_ALARM_OPERATIONS
        }
        # An operation nobody calls has no data: count it as 0 so that the sum exists.
        return cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in metrics),
            using_metrics=metrics,
            label=f"{metric_name} (all operations)",
            period=period,
        )

    return build


#: Workflow alarms: (name = AWS/States metric, what it means, lost work?). Each one fires at 1.
_WORKFLOW_ALARMS = (
    ("ExecutionsFailed", "executions failed.", True),
    ("ExecutionsTimedOut", "executions ran past the workflow's timeout.", True),
    ("ExecutionsAborted", "executions were stopped before they finished.", True),
    ("ExecutionThrottled", "state transitions throttled.", False),
)


def workflow_alarms(
    owner: Construct, options: AlarmOptions | None, *, state_machine: sfn.IStateMachine
) -> dict[str, cloudwatch.Alarm]:
    """Workflow: ExecutionsFailed, ExecutionsTimedOut, ExecutionsAborted, ExecutionThrottled."""
    dimensions = {"StateMachineArn": state_machine.state_machine_arn}
    return build_alarms(
        owner,
        options,
        [
            AlarmSpec(
                name,
                description,
                _metric("AWS/States", name, dimensions, "Sum"),
                defaults.WORKFLOW_EXECUTIONS_THROTTLED if not lost_work else 1,
                lost_work=lost_work,
            )
            for name, description, lost_work in _WORKFLOW_ALARMS
        ],
    )

"""Alarms on by default: per construct, tuned to its settings, adjustable through ``alarms``."""

from __future__ import annotations

import dataclasses
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from constructs_lib import (
    AlarmOptions,
    AlarmSetting,
    ConstructPropsError,
    DynamoTable,
    HttpApiEndpoint,
    IdempotencyStore,
    RestApiEndpoint,
    S3Trigger,
    StreamMapping,
    Workflow,
)
from tests.constructs import (
    cfn_lint_findings,
    findings_in,
    get_att,
    inline_function,
    ref,
    unjustified_acknowledgments,
)
from tests.support import ENV, Synthesized, nag_app, synthesize

STACKS = ("Defaults", "Overrides")
PUBLIC = "An open test endpoint; nothing behind it."


def every_construct(stack: cdk.Stack, **alarms: AlarmOptions) -> None:
    """One construct of each kind, ``alarms`` given per construct id."""
    function = inline_function(
        stack, "Api", timeout=cdk.Duration.seconds(20), alarms=alarms.get("Api")
    )
    table = DynamoTable(
        stack,
        "Orders",
        partition_key="pk",
        stream=dynamodb.StreamViewType.NEW_IMAGE,
        alarms=alarms.get("Orders"),
    )
    StreamMapping(
        stack,
        "NewOrders",
        function=function.function,
        table=table.table,
        max_record_age=cdk.Duration.hours(2),
        alarms=alarms.get("NewOrders"),
    )
    S3Trigger(stack, "Uploads", function=function.function, alarms=alarms.get("Uploads"))
    routes = {"GET /orders": function.function}
    RestApiEndpoint(
        stack, "Rest", routes=routes, public=True, public_reason=PUBLIC, alarms=alarms.get("Rest")
    )
    HttpApiEndpoint(
        stack, "Http", routes=routes, public=True, public_reason=PUBLIC, alarms=alarms.get("Http")
    )
    Workflow(stack, "Flow", definition=sfn.Pass(stack, "Step"), alarms=alarms.get("Flow"))
    IdempotencyStore(stack, "Keys", alarms=alarms.get("Keys")).enable_for(function)


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()
    every_construct(cdk.Stack(app, "Defaults", env=ENV))
    every_construct(
        cdk.Stack(app, "Overrides", env=ENV),
        Api=AlarmOptions(
            overrides={
                "ErrorRate": AlarmSetting(
                    threshold=1,
                    evaluation_periods=10,
                    datapoints_to_alarm=8,
                    period=cdk.Duration.minutes(5),
                ),
                "Throttles": AlarmSetting(enabled=False),
            }
        ),
        Orders=AlarmOptions(enabled=False),
        Rest=AlarmOptions(overrides={"Latency": AlarmSetting(threshold=800)}),
        Keys=AlarmOptions(overrides={"SystemErrors": AlarmSetting(threshold=5)}),
    )
    return synthesize(app)


@pytest.fixture(scope="module")
def defaults(synth: Synthesized) -> Template:
    return synth.template("Defaults")


@pytest.fixture(scope="module")
def overrides(synth: Synthesized) -> Template:
    return synth.template("Overrides")


def alarm(template: Template, owner: str, name: str) -> dict[str, Any]:
    """The properties of alarm ``name`` of the construct with id ``owner``."""
    found = template.find_resources("AWS::CloudWatch::Alarm")
    matches = [
        resource["Properties"]
        for logical_id, resource in found.items()
        if logical_id.startswith(f"{owner}Alarms{name}")
    ]
    assert len(matches) == 1, sorted(found)
    return matches[0]


def evaluation(threshold: float, periods: int, datapoints: int) -> dict[str, Any]:
    """What every library alarm shares: >= threshold, never alarmed by missing data."""
    return {
        "Threshold": threshold,
        "EvaluationPeriods": periods,
        "DatapointsToAlarm": datapoints,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }


def plain_metric(
    namespace: str, metric: str, dimensions: list[dict[str, Any]], statistic: str
) -> dict[str, Any]:
    stat_key = "ExtendedStatistic" if statistic.startswith("p") else "Statistic"
    return {
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": dimensions,
        stat_key: statistic,
        "Period": 60,
    }


def dimension(name: str, value: Any) -> dict[str, Any]:
    return {"Name": name, "Value": value}


def test_every_construct_has_its_alarms_by_default(defaults: Template) -> None:
    names = {
        logical_id.split("Alarms")[0] + "." + logical_id.split("Alarms")[1][:-8]
        for logical_id in defaults.find_resources("AWS::CloudWatch::Alarm")
    }
    assert names == {
        "Api.ErrorRate",
        "Api.Throttles",
        "Api.Duration",
        "Api.DeadLetterQueueMessages",
        "Api.DeadLetterErrors",
        "Orders.ThrottledRequests",
        "Orders.SystemErrors",
        "NewOrders.IteratorAge",
        "NewOrders.DeadLetterQueueMessages",
        "Uploads.FailedInvocations",
        "Uploads.DeadLetterQueueMessages",
        "Rest.ServerErrorRate",
        "Rest.Latency",
        "Http.ServerErrorRate",
        "Http.Latency",
        "Flow.ExecutionsFailed",
        "Flow.ExecutionsTimedOut",
        "Flow.ExecutionsAborted",
        "Flow.ExecutionThrottled",
        "KeysRecords.ThrottledRequests",
        "KeysRecords.SystemErrors",
    }


def test_function_error_rate_is_errors_over_invocations(defaults: Template) -> None:
    properties = alarm(defaults, "Api", "ErrorRate")
    assert properties | evaluation(5, 5, 3) == properties
    function = {"Name": "FunctionName", "Value": ref_of(defaults, "AWS::Lambda::Function", "Api")}
    expression, *metrics = properties["Metrics"]
    assert expression["Expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
    assert {m["Id"]: m["MetricStat"] for m in metrics} == {
        metric_id: {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": metric_name,
                "Dimensions": [function],
            },
            "Period": 60,
            "Stat": "Sum",
        }
        for metric_id, metric_name in (("errors", "Errors"), ("invocations", "Invocations"))
    }


def ref_of(template: Template, resource_type: str, prefix: str) -> dict[str, Any]:
    (logical_id,) = [k for k in template.find_resources(resource_type) if k.startswith(prefix)]
    return ref(logical_id)


def test_function_duration_alarm_derives_from_the_timeout(defaults: Template) -> None:
    function = [dimension("FunctionName", ref_of(defaults, "AWS::Lambda::Function", "Api"))]
    properties = alarm(defaults, "Api", "Duration")
    # 90 % of the 20 s timeout, as p99 over 3 of 5 minutes.
    expected = evaluation(18_000, 5, 3) | plain_metric("AWS/Lambda", "Duration", function, "p99")
    assert properties | expected == properties


def test_function_throttles_and_lost_events(defaults: Template) -> None:
    function = [dimension("FunctionName", ref_of(defaults, "AWS::Lambda::Function", "Api"))]
    throttles = alarm(defaults, "Api", "Throttles")
    assert (
        throttles | evaluation(1, 5, 3) | plain_metric("AWS/Lambda", "Throttles", function, "Sum")
        == throttles
    )
    dead_letter_errors = alarm(defaults, "Api", "DeadLetterErrors")
    assert (
        dead_letter_errors
        | evaluation(1, 1, 1)
        | plain_metric("AWS/Lambda", "DeadLetterErrors", function, "Sum")
        == dead_letter_errors
    )


@pytest.mark.parametrize("owner", ["Api", "NewOrders", "Uploads"])
def test_dead_letter_queue_messages_alarm_on_the_first_message(
    defaults: Template, owner: str
) -> None:
    queue = ref_of(defaults, "AWS::SQS::Queue", owner)
    properties = alarm(defaults, owner, "DeadLetterQueueMessages")
    expected = evaluation(1, 1, 1) | plain_metric(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [dimension("QueueName", {"Fn::GetAtt": [queue["Ref"], "QueueName"]})],
        "Maximum",
    )
    assert properties | expected == properties


def test_stream_iterator_age_alarm_derives_from_the_maximum_record_age(
    defaults: Template,
) -> None:
    function = [dimension("FunctionName", ref_of(defaults, "AWS::Lambda::Function", "Api"))]
    properties = alarm(defaults, "NewOrders", "IteratorAge")
    # Half of the 2 h maximum record age, in milliseconds.
    expected = evaluation(3_600_000, 5, 3) | plain_metric(
        "AWS/Lambda", "IteratorAge", function, "Maximum"
    )
    assert properties | expected == properties


def test_s3_trigger_alarms_on_the_rule_failed_invocations(defaults: Template) -> None:
    rule = ref_of(defaults, "AWS::Events::Rule", "Uploads")
    properties = alarm(defaults, "Uploads", "FailedInvocations")
    expected = evaluation(1, 1, 1) | plain_metric(
        "AWS/Events", "FailedInvocations", [dimension("RuleName", rule)], "Sum"
    )
    assert properties | expected == properties


def test_rest_api_alarms_on_the_stage_5xx_rate_and_p99_latency(defaults: Template) -> None:
    stage = [
        dimension("ApiName", "Api"),
        dimension("Stage", ref_of(defaults, "AWS::ApiGateway::Stage", "Rest")),
    ]
    errors = alarm(defaults, "Rest", "ServerErrorRate")
    assert errors | evaluation(5, 5, 3) == errors
    assert errors["Metrics"][0]["Expression"] == "100 * rate"
    assert errors["Metrics"][1]["MetricStat"] == {
        "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": "5XXError", "Dimensions": stage},
        "Period": 60,
        "Stat": "Average",
    }
    latency = alarm(defaults, "Rest", "Latency")
    expected = evaluation(3000, 5, 3) | plain_metric("AWS/ApiGateway", "Latency", stage, "p99")
    assert latency | expected == latency


def test_http_api_alarms_on_the_default_stage(defaults: Template) -> None:
    stage = [
        dimension("ApiId", ref_of(defaults, "AWS::ApiGatewayV2::Api", "Http")),
        dimension("Stage", "$default"),
    ]
    errors = alarm(defaults, "Http", "ServerErrorRate")
    assert errors["Metrics"][1]["MetricStat"]["Metric"] == {
        "Namespace": "AWS/ApiGateway",
        "MetricName": "5xx",
        "Dimensions": stage,
    }
    latency = alarm(defaults, "Http", "Latency")
    assert latency | plain_metric("AWS/ApiGateway", "Latency", stage, "p99") == latency


@pytest.mark.parametrize("metric_name", ["ThrottledRequests", "SystemErrors"])
def test_table_alarms_sum_every_item_operation(defaults: Template, metric_name: str) -> None:
    table = ref_of(defaults, "AWS::DynamoDB::Table", "Orders")
    properties = alarm(defaults, "Orders", metric_name)
    assert properties | evaluation(1, 5, 3) == properties
    expression, *metrics = properties["Metrics"]
    operations = [m["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for m in metrics]
    assert len(operations) == 10 and {"PutItem", "Query", "TransactWriteItems"} <= set(operations)
    assert expression["Expression"].count("FILL(") == 10
    assert all(
        m["MetricStat"]["Metric"]["Dimensions"][1] == dimension("TableName", table)
        and m["MetricStat"]["Metric"]["MetricName"] == metric_name
        for m in metrics
    )


def test_idempotency_store_has_the_alarms_of_its_table(
    defaults: Template, overrides: Template
) -> None:
    table = ref_of(defaults, "AWS::DynamoDB::Table", "KeysRecords")
    for metric_name in ("ThrottledRequests", "SystemErrors"):
        properties = alarm(defaults, "KeysRecords", metric_name)
        assert properties | evaluation(1, 5, 3) == properties
        dimensions = [m["MetricStat"]["Metric"]["Dimensions"] for m in properties["Metrics"][1:]]
        assert all(d[1] == dimension("TableName", table) for d in dimensions)
    assert alarm(overrides, "KeysRecords", "SystemErrors")["Threshold"] == 5
    assert alarm(overrides, "KeysRecords", "ThrottledRequests")["Threshold"] == 1


@pytest.mark.parametrize(
    ("name", "metric_name", "datapoints"),
    [
        ("ExecutionsFailed", "ExecutionsFailed", 1),
        ("ExecutionsTimedOut", "ExecutionsTimedOut", 1),
        ("ExecutionsAborted", "ExecutionsAborted", 1),
        ("ExecutionThrottled", "ExecutionThrottled", 3),
    ],
)
def test_workflow_alarms(defaults: Template, name: str, metric_name: str, datapoints: int) -> None:
    machine = ref_of(defaults, "AWS::StepFunctions::StateMachine", "Flow")
    properties = alarm(defaults, "Flow", name)
    periods = 1 if datapoints == 1 else 5
    expected = evaluation(1, periods, datapoints) | plain_metric(
        "AWS/States", metric_name, [dimension("StateMachineArn", machine)], "Sum"
    )
    assert properties | expected == properties


def test_alarms_have_no_action_until_a_hub_wires_them(defaults: Template) -> None:
    defaults.all_resources_properties(
        "AWS::CloudWatch::Alarm", Match.object_like({"AlarmActions": Match.absent()})
    )


def test_overrides_change_threshold_periods_and_datapoints(overrides: Template) -> None:
    properties = alarm(overrides, "Api", "ErrorRate")
    assert properties | evaluation(1, 10, 8) == properties
    assert {m["MetricStat"]["Period"] for m in properties["Metrics"][1:]} == {300}
    latency = alarm(overrides, "Rest", "Latency")
    assert latency["Threshold"] == 800


def test_an_alarm_or_all_of_a_construct_can_be_switched_off(overrides: Template) -> None:
    ids = list(overrides.find_resources("AWS::CloudWatch::Alarm"))
    assert not [i for i in ids if i.startswith("ApiAlarmsThrottles")]
    assert not [i for i in ids if i.startswith("OrdersAlarms")]
    assert [i for i in ids if i.startswith("ApiAlarmsDuration")]


def test_constructs_expose_their_alarms_by_name() -> None:
    stack = cdk.Stack(cdk.App(), "Expose")
    function = inline_function(
        stack, alarms=AlarmOptions(overrides={"Duration": AlarmSetting(enabled=False)})
    )
    assert sorted(function.alarms) == [
        "DeadLetterErrors",
        "DeadLetterQueueMessages",
        "ErrorRate",
        "Throttles",
    ]
    assert stack.resolve(function.alarms["ErrorRate"].alarm_arn) == get_att(
        stack.get_logical_id(function.alarms["ErrorRate"].node.default_child), "Arn"
    )
    assert inline_function(stack, "Quiet", alarms=AlarmOptions(enabled=False)).alarms == {}
    store = IdempotencyStore(stack, "Keys")
    assert sorted(store.alarms) == ["SystemErrors", "ThrottledRequests"]
    assert store.alarms["SystemErrors"].node.path == "Expose/Keys/Records/Alarms/SystemErrors"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (AlarmOptions(overrides={"Errors": AlarmSetting()}), "allowed alarm names: ErrorRate"),
        (AlarmOptions(overrides={"ErrorRate": AlarmSetting(threshold=-1)}), "a number >= 0"),
        (
            AlarmOptions(overrides={"ErrorRate": AlarmSetting(datapoints_to_alarm=6)}),
            "datapoints_to_alarm: 1..5",
        ),
        (
            AlarmOptions(overrides={"DeadLetterErrors": AlarmSetting(datapoints_to_alarm=3)}),
            "DeadLetterErrors datapoints_to_alarm: 1..1",
        ),
        (
            AlarmOptions(overrides={"ErrorRate": AlarmSetting(period=cdk.Duration.seconds(90))}),
            "multiple of 60 s",
        ),
        ({"ErrorRate": 1}, "allowed: a constructs_lib.AlarmOptions"),
    ],
)
def test_invalid_alarm_options_name_the_construct_and_the_prop(options: Any, message: str) -> None:
    stack = cdk.Stack(cdk.App(), "Invalid")
    with pytest.raises(ConstructPropsError, match="Invalid/Fn: alarms=") as error:
        inline_function(stack, "Fn", alarms=options)
    assert message in str(error.value)


def test_alarms_leave_no_open_finding(synth: Synthesized) -> None:
    for stack in STACKS:
        assert findings_in(synth, stack) == []
    assert unjustified_acknowledgments(synth) == []


def test_alarms_are_cfn_lint_clean(synth: Synthesized) -> None:
    # The default alarms of every construct kind; overrides change values, not the shape.
    defaults_only = dataclasses.replace(synth, templates={"Defaults": synth.templates["Defaults"]})
    assert cfn_lint_findings(defaults_only) == []

"""OperationsHub: the alarms under a scope reach one topic, one dashboard, one health alarm."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Capture, Match, Template

from constructs_lib import AlarmOptions, DynamoTable, OperationsHub
from tests.constructs import findings_in, get_att, inline_function, ref, unjustified_acknowledgments
from tests.support import ENV, Synthesized, nag_app, synthesize

ALARM_SOURCE = {
    "StringEquals": {"aws:SourceAccount": "111122223333"},
    "ArnLike": {
        "aws:SourceArn": {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:us-east-1:111122223333:alarm:*"],
            ]
        }
    },
}


def watched_constructs(stack: cdk.Stack) -> None:
    inline_function(stack, "Api")
    DynamoTable(stack, "Orders", partition_key="pk")
    # A construct with its alarms off contributes nothing.
    inline_function(stack, "Quiet", alarms=AlarmOptions(enabled=False))


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()
    # The hub before the constructs: it finds them at synthesis all the same.
    before = cdk.Stack(app, "HubFirst", env=ENV)
    OperationsHub(before, "Operations")
    watched_constructs(before)

    after = cdk.Stack(app, "HubLast", env=ENV)
    watched_constructs(after)
    topic = sns.Topic(after, "Pager", enforce_ssl=True)
    cdk.Validations.of(topic).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-SNS2",
            reason="A test topic given to the hub; its encryption is the user's choice.",
        )
    )
    OperationsHub(after, "Operations", alarm_action=topic, dashboard_name="orders")
    return synthesize(app)


@pytest.fixture(scope="module")
def first(synth: Synthesized) -> Template:
    return synth.template("HubFirst")


@pytest.fixture(scope="module")
def last(synth: Synthesized) -> Template:
    return synth.template("HubLast")


def logical_id(template: Template, resource_type: str, prefix: str = "") -> str:
    (found,) = [k for k in template.find_resources(resource_type) if k.startswith(prefix)]
    return found


def library_alarm_ids(template: Template) -> list[str]:
    return sorted(k for k in template.find_resources("AWS::CloudWatch::Alarm") if "Alarms" in k)


@pytest.mark.parametrize("stack", ["HubFirst", "HubLast"])
def test_every_library_alarm_notifies_the_one_topic_on_alarm_and_ok(
    synth: Synthesized, stack: str
) -> None:
    template = synth.template(stack)
    topic = ref(logical_id(template, "AWS::SNS::Topic"))
    assert len(library_alarm_ids(template)) == 7  # 5 of the function + 2 of the table
    template.all_resources_properties(
        "AWS::CloudWatch::Alarm", {"AlarmActions": [topic], "OKActions": [topic]}
    )


def test_the_default_topic_is_encrypted_with_its_own_rotated_key(first: Template) -> None:
    key = logical_id(first, "AWS::KMS::Key")
    first.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": get_att(key, "Arn")})
    first.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})
    first.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_the_key_lets_cloudwatch_encrypt_for_this_accounts_alarms_only(first: Template) -> None:
    first.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "AllowCloudWatchAlarmsToEncryptNotifications",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                            "Resource": "*",
                            "Condition": ALARM_SOURCE,
                        }
                    ]
                )
            }
        },
    )


def test_the_topic_lets_cloudwatch_publish_for_this_accounts_alarms_only(
    first: Template,
) -> None:
    topic = ref(logical_id(first, "AWS::SNS::Topic"))
    first.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [topic],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "AllowCloudWatchAlarmsToPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": topic,
                            "Condition": ALARM_SOURCE,
                        }
                    ]
                )
            },
        },
    )


def test_a_given_topic_is_used_and_no_key_is_created(last: Template) -> None:
    last.resource_count_is("AWS::SNS::Topic", 1)
    last.resource_count_is("AWS::KMS::Key", 0)
    assert logical_id(last, "AWS::SNS::Topic").startswith("Pager")


def test_one_composite_alarm_is_in_alarm_while_any_alarm_is(first: Template) -> None:
    rule = Capture()
    first.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {"AlarmRule": rule})
    first.resource_count_is("AWS::CloudWatch::CompositeAlarm", 1)
    parts = rule.as_object()["Fn::Join"][1]
    named = sorted(part["Fn::GetAtt"][0] for part in parts if isinstance(part, dict))
    assert named == library_alarm_ids(first)
    text = "".join(part for part in parts if isinstance(part, str))
    assert text.count("ALARM(") == 7 and text.count(" OR ") == 6


def dashboard_body(template: Template) -> tuple[str, list[Any]]:
    body = Capture()
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardBody": body})
    parts = body.as_object()["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "<ref>" for p in parts)
    return text, parts


def test_the_dashboard_has_a_row_per_construct_with_its_alarms(first: Template) -> None:
    first.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    text, parts = dashboard_body(first)
    widgets = json.loads(text)["widgets"]
    status = [w for w in widgets if w["type"] == "alarm"]
    assert [w["properties"]["title"] for w in status] == [
        "Service health",
        "HubFirst/Api",
        "HubFirst/Orders",
    ]
    # Each construct's row: its status widget, then one graph per alarm, at the same height.
    rows = {w["y"] for w in widgets if w["type"] == "metric"}
    assert len(rows) == 2
    graphs = sorted(w["properties"]["title"] for w in widgets if w["type"] == "metric")
    assert graphs == sorted(
        [
            *("ErrorRate", "Throttles", "Duration", "DeadLetterQueueMessages", "DeadLetterErrors"),
            *("ThrottledRequests", "SystemErrors"),
        ]
    )
    referenced = {p["Fn::GetAtt"][0] for p in parts if isinstance(p, dict) and "Fn::GetAtt" in p}
    assert set(library_alarm_ids(first)) <= referenced


def test_a_dashboard_name_can_be_given(last: Template) -> None:
    last.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": "orders"})


def test_the_hub_exposes_what_it_found() -> None:
    stack = cdk.Stack(cdk.App(), "Exposed", env=ENV)
    hub = OperationsHub(stack, "Operations")
    watched_constructs(stack)
    cdk.App.of(stack).synth()  # type: ignore[union-attr]
    assert sorted(hub.alarms) == ["Exposed/Api", "Exposed/Orders"]
    assert sorted(hub.alarms["Exposed/Orders"]) == ["SystemErrors", "ThrottledRequests"]
    assert hub.topic is not None and hub.key is not None


def test_a_hub_with_no_alarm_under_its_scope_fails_synthesis() -> None:
    stack = cdk.Stack(cdk.App(), "Nothing", env=ENV)
    OperationsHub(stack, "Operations")
    inline_function(stack, "Quiet", alarms=AlarmOptions(enabled=False))
    with pytest.raises(RuntimeError, match="Nothing/Operations: found no alarm"):
        cdk.App.of(stack).synth()  # type: ignore[union-attr]


def test_the_hub_leaves_no_open_finding(synth: Synthesized) -> None:
    for stack in ("HubFirst", "HubLast"):
        assert findings_in(synth, stack) == []
    assert unjustified_acknowledgments(synth) == []

"""OrdersSample operations: every alarm to one topic and one dashboard, the API released canary."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.sample import ALARM_EMAIL, NOTIFY_EMAIL


@pytest.fixture(scope="module")
def template(emailing_sample_template: Template) -> Template:
    return emailing_sample_template


def only_id(template: Template, resource_type: str, prefix: str) -> str:
    (found,) = [k for k in template.find_resources(resource_type) if k.startswith(prefix)]
    return found


def test_every_alarm_of_the_sample_notifies_the_one_alarm_topic(template: Template) -> None:
    topic = {"Ref": only_id(template, "AWS::SNS::Topic", "OperationsTopic")}
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    # 6 functions x 5, two tables (orders, idempotency) x 2, stream mapping 2, trigger 3
    # (with its quarantine), two APIs x 2, workflow 4.
    assert len(alarms) == 47
    template.all_resources_properties(
        "AWS::CloudWatch::Alarm", {"AlarmActions": [topic], "OKActions": [topic]}
    )


def test_the_sample_has_one_dashboard_and_one_health_alarm(template: Template) -> None:
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    template.resource_count_is("AWS::CloudWatch::CompositeAlarm", 1)


def test_alarm_email_is_subscribed_to_the_alarm_topic_only(template: Template) -> None:
    alarm_topic = {"Ref": only_id(template, "AWS::SNS::Topic", "OperationsTopic")}
    order_topic = {"Ref": only_id(template, "AWS::SNS::Topic", "Notifications")}
    subscriptions = template.find_resources("AWS::SNS::Subscription")
    endpoints = {
        (
            s["Properties"]["Protocol"],
            s["Properties"]["Endpoint"],
            json.dumps(s["Properties"]["TopicArn"]),
        )
        for s in subscriptions.values()
    }
    assert endpoints == {
        ("email", ALARM_EMAIL, json.dumps(alarm_topic)),
        ("email", NOTIFY_EMAIL, json.dumps(order_topic)),
    }


def test_the_api_function_is_released_canary_and_rolled_back_on_its_alarms(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {
            "DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            "AutoRollbackConfiguration": Match.object_like({"Enabled": True}),
            "AlarmConfiguration": Match.object_like({"Enabled": True}),
        },
    )
    alias = only_id(template, "AWS::Lambda::Alias", "ApiFunction")
    template.has_resource("AWS::Lambda::Alias", {"UpdatePolicy": Match.object_like({})})
    assert template.find_resources("AWS::Lambda::Alias")[alias]["Properties"]["Name"] == "live"


def test_both_apis_call_the_live_alias(template: Template) -> None:
    alias = {"Ref": only_id(template, "AWS::Lambda::Alias", "ApiFunction")}
    permissions: dict[str, Any] = template.find_resources(
        "AWS::Lambda::Permission", {"Properties": {"Principal": "apigateway.amazonaws.com"}}
    )
    assert permissions
    assert all(p["Properties"]["FunctionName"] == alias for p in permissions.values())

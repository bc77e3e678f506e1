"""S3Trigger: S3 → EventBridge → function, with no notifications helper and a secured bucket."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from constructs_lib import ConstructPropsError, S3Trigger
from tests.constructs import (
    ACCOUNT,
    cfn_lint_findings,
    findings_in,
    get_att,
    inline_function,
    logical_id_of,
    ref,
    unjustified_acknowledgments,
    users_bucket,
)
from tests.support import (
    ENV,
    Synthesized,
    as_list,
    nag_app,
    policy_statements,
    resources_of_type,
    synthesize,
)

IMPORTED_BUCKET = "orders-uploads"
TLS_ONLY = {"Bool": {"aws:SecureTransport": "false"}}


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()

    trigger = cdk.Stack(app, "Trigger", env=ENV)
    S3Trigger(
        trigger,
        "Uploads",
        function=inline_function(trigger, "Ingest").function,
        prefix="uploads/",
        suffix=".json",
    )

    variants = cdk.Stack(app, "Variants", env=ENV)
    S3Trigger(
        variants,
        "PrefixOnly",
        function=inline_function(variants, "Ingest").function,
        prefix="uploads/",
    )
    S3Trigger(
        variants, "SuffixOnly", function=inline_function(variants, "Images").function, suffix=".png"
    )
    S3Trigger(
        variants,
        "Quarantined",
        function=inline_function(variants, "Screened").function,
        prefix="uploads/",
        suffix=".json",
        quarantine_prefix="quarantine/",
    )
    existing = users_bucket(variants, "Existing")
    S3Trigger(
        variants,
        "OnExisting",
        function=inline_function(variants, "Archive").function,
        bucket=existing,
        prefix="archive/",
    )

    imported = cdk.Stack(app, "Imported", env=ENV)
    S3Trigger(
        imported,
        "Uploads",
        function=inline_function(imported, "Ingest").function,
        bucket=s3.Bucket.from_bucket_name(imported, "Bucket", IMPORTED_BUCKET),
        prefix="uploads/",
        quarantine_prefix="rejected/",
    )

    return synthesize(app)


def template(synth: Synthesized, stack: str) -> dict[str, Any]:
    return synth.templates[stack]


def one_of_type(synth: Synthesized, stack: str, resource_type: str, prefix: str = "") -> str:
    return logical_id_of(template(synth, stack), resource_type, prefix)


def resource(synth: Synthesized, stack: str, logical_id: str) -> dict[str, Any]:
    return template(synth, stack)["Resources"][logical_id]


def bucket_policy_statements(synth: Synthesized, stack: str, bucket_id: str) -> list[Any]:
    policies = resources_of_type(template(synth, stack), "AWS::S3::BucketPolicy").values()
    (policy,) = [p for p in policies if p["Properties"]["Bucket"] == ref(bucket_id)]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def rule_of(synth: Synthesized, stack: str, prefix: str) -> dict[str, Any]:
    return resource(synth, stack, one_of_type(synth, stack, "AWS::Events::Rule", prefix))


def bucket_id(synth: Synthesized, stack: str = "Trigger") -> str:
    return one_of_type(synth, stack, "AWS::S3::Bucket", "UploadsBucket")


def logs_bucket_id(synth: Synthesized) -> str:
    return one_of_type(synth, "Trigger", "AWS::S3::Bucket", "UploadsAccessLogs")


# --- no hidden helper -----------------------------------------------------------------


def test_s3_trigger_adds_no_notifications_helper_function_or_role(synth: Synthesized) -> None:
    resources = template(synth, "Trigger")["Resources"]
    types = [r["Type"] for r in resources.values()]
    assert "Custom::S3BucketNotifications" not in types
    assert types.count("AWS::Lambda::Function") == 1  # the user's function
    (role_id,) = resources_of_type(template(synth, "Trigger"), "AWS::IAM::Role")
    (function,) = resources_of_type(template(synth, "Trigger"), "AWS::Lambda::Function").values()
    assert function["Properties"]["Role"] == get_att(role_id)


def test_s3_trigger_switches_on_eventbridge_on_the_bucket(synth: Synthesized) -> None:
    properties = resource(synth, "Trigger", bucket_id(synth))["Properties"]
    assert properties["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


# --- the bucket it creates ----------------------------------------------------------------


def test_s3_trigger_bucket_is_private_encrypted_versioned_and_retained(
    synth: Synthesized,
) -> None:
    bucket = resource(synth, "Trigger", bucket_id(synth))
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] == "Retain"


def test_s3_trigger_bucket_refuses_requests_without_tls(synth: Synthesized) -> None:
    statements = bucket_policy_statements(synth, "Trigger", bucket_id(synth))
    denials = [s for s in statements if s["Effect"] == "Deny" and s.get("Condition") == TLS_ONLY]
    assert len(denials) == 1
    assert denials[0]["Action"] == "s3:*"


def test_s3_trigger_bucket_logs_access_to_a_retained_log_bucket(synth: Synthesized) -> None:
    properties = resource(synth, "Trigger", bucket_id(synth))["Properties"]
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == ref(logs_bucket_id(synth))
    logs_bucket = resource(synth, "Trigger", logs_bucket_id(synth))
    assert logs_bucket["DeletionPolicy"] == "Retain"
    assert logs_bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]


def test_s3_trigger_log_bucket_admits_log_delivery_from_that_bucket_only(
    synth: Synthesized,
) -> None:
    statements = bucket_policy_statements(synth, "Trigger", logs_bucket_id(synth))
    (delivery,) = [s for s in statements if s["Effect"] == "Allow"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"] == {
        "ArnLike": {"aws:SourceArn": get_att(bucket_id(synth))},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    assert any(s["Effect"] == "Deny" and s.get("Condition") == TLS_ONLY for s in statements)


# --- the rule and its target -----------------------------------------------------------


def test_s3_trigger_rule_matches_objects_created_under_prefix_with_suffix(
    synth: Synthesized,
) -> None:
    pattern = rule_of(synth, "Trigger", "Uploads")["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [ref(bucket_id(synth))]},
            "object": {"key": [{"wildcard": "uploads/*.json"}]},
        },
    }


def test_s3_trigger_rule_matches_a_prefix_alone(synth: Synthesized) -> None:
    detail = rule_of(synth, "Variants", "PrefixOnly")["Properties"]["EventPattern"]["detail"]
    assert detail["object"] == {"key": [{"prefix": "uploads/"}]}


def test_s3_trigger_rule_matches_a_suffix_alone(synth: Synthesized) -> None:
    detail = rule_of(synth, "Variants", "SuffixOnly")["Properties"]["EventPattern"]["detail"]
    assert detail["object"] == {"key": [{"suffix": ".png"}]}


def test_s3_trigger_retries_delivery_then_dead_letters_it(synth: Synthesized) -> None:
    (target,) = rule_of(synth, "Trigger", "Uploads")["Properties"]["Targets"]
    queue_id = one_of_type(synth, "Trigger", "AWS::SQS::Queue", "UploadsDeadLetterQueue")
    function_id = one_of_type(synth, "Trigger", "AWS::Lambda::Function")
    assert target["Arn"] == get_att(function_id)
    assert target["DeadLetterConfig"] == {"Arn": get_att(queue_id)}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 8}
    queue = resource(synth, "Trigger", queue_id)
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["DeletionPolicy"] == "Retain"


def test_s3_trigger_dead_letter_queue_admits_that_rule_only(synth: Synthesized) -> None:
    rule_id = one_of_type(synth, "Trigger", "AWS::Events::Rule")
    policy_id = one_of_type(synth, "Trigger", "AWS::SQS::QueuePolicy", "UploadsDeadLetterQueue")
    statements = resource(synth, "Trigger", policy_id)["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": get_att(rule_id)}}
    assert any(s["Effect"] == "Deny" and s.get("Condition") == TLS_ONLY for s in statements)


def test_s3_trigger_lets_only_its_rule_invoke_the_function(synth: Synthesized) -> None:
    permission_id = one_of_type(synth, "Trigger", "AWS::Lambda::Permission")
    properties = resource(synth, "Trigger", permission_id)["Properties"]
    assert properties["Principal"] == "events.amazonaws.com"
    assert properties["Action"] == "lambda:InvokeFunction"
    assert properties["SourceArn"] == get_att(one_of_type(synth, "Trigger", "AWS::Events::Rule"))


# --- what the function may read --------------------------------------------------------


def s3_statements(synth: Synthesized, stack: str) -> list[dict[str, Any]]:
    return [
        s
        for s in policy_statements(template(synth, stack))
        if any(a.startswith("s3:") for a in as_list(s["Action"]))
    ]


def object_read(resource: object) -> dict[str, Any]:
    """The one statement S3Trigger adds to the function's policy, on ``resource``."""
    return {
        "PolicyDocument": {
            "Statement": Match.array_with(
                [
                    {
                        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                        "Effect": "Allow",
                        "Resource": resource,
                    }
                ]
            )
        }
    }


def test_s3_trigger_function_may_get_objects_matching_prefix_and_suffix_only(
    synth: Synthesized,
) -> None:
    assert s3_statements(synth, "Trigger") == [
        {
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [get_att(bucket_id(synth)), "/uploads/*.json"]]},
        }
    ]


def test_s3_trigger_with_suffix_alone_may_get_objects_with_that_suffix_only(
    synth: Synthesized,
) -> None:
    suffix_bucket = one_of_type(synth, "Variants", "AWS::S3::Bucket", "SuffixOnlyBucket")
    synth.template("Variants").has_resource_properties(
        "AWS::IAM::Policy", object_read({"Fn::Join": ["", [get_att(suffix_bucket), "/*.png"]]})
    )


def test_s3_trigger_with_prefix_alone_may_get_objects_under_it(synth: Synthesized) -> None:
    prefix_bucket = one_of_type(synth, "Variants", "AWS::S3::Bucket", "PrefixOnlyBucket")
    synth.template("Variants").has_resource_properties(
        "AWS::IAM::Policy", object_read({"Fn::Join": ["", [get_att(prefix_bucket), "/uploads/*"]]})
    )


# --- existing and imported buckets -----------------------------------------------------------


def test_s3_trigger_switches_on_eventbridge_on_an_existing_bucket(synth: Synthesized) -> None:
    existing_id = one_of_type(synth, "Variants", "AWS::S3::Bucket", "Existing")
    properties = resource(synth, "Variants", existing_id)["Properties"]
    assert properties["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    buckets = resources_of_type(template(synth, "Variants"), "AWS::S3::Bucket")
    assert not [k for k in buckets if k.startswith("OnExisting")]
    detail = rule_of(synth, "Variants", "OnExisting")["Properties"]["EventPattern"]["detail"]
    assert detail["bucket"] == {"name": [ref(existing_id)]}
    assert {
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Effect": "Allow",
        "Resource": {"Fn::Join": ["", [get_att(existing_id), "/archive/*"]]},
    } in s3_statements(synth, "Variants")


def test_s3_trigger_works_with_an_imported_bucket(synth: Synthesized) -> None:
    assert not resources_of_type(template(synth, "Imported"), "AWS::S3::Bucket")
    detail = rule_of(synth, "Imported", "Uploads")["Properties"]["EventPattern"]["detail"]
    assert detail["bucket"] == {"name": [IMPORTED_BUCKET]}
    (statement, _quarantine_write) = s3_statements(synth, "Imported")
    assert statement["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert statement["Resource"]["Fn::Join"][1][-1] == f":s3:::{IMPORTED_BUCKET}/uploads/*"


# --- quarantine ------------------------------------------------------------------------------


def quarantine_bucket(synth: Synthesized) -> str:
    return one_of_type(synth, "Variants", "AWS::S3::Bucket", "QuarantinedBucket")


def test_s3_trigger_function_may_put_objects_under_the_quarantine_prefix_only(
    synth: Synthesized,
) -> None:
    bucket = quarantine_bucket(synth)
    puts = [s for s in s3_statements(synth, "Variants") if "s3:PutObject" in as_list(s["Action"])]
    assert puts == [
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [get_att(bucket), "/quarantine/*"]]},
        }
    ]


def test_s3_trigger_counts_puts_under_the_quarantine_prefix_and_alarms_on_the_first(
    synth: Synthesized,
) -> None:
    bucket = quarantine_bucket(synth)
    assert resource(synth, "Variants", bucket)["Properties"]["MetricsConfigurations"] == [
        {"Id": "Quarantine", "Prefix": "quarantine/"}
    ]
    synth.template("Variants").has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/S3",
            "MetricName": "PutRequests",
            "Dimensions": Match.array_with(
                [
                    {"Name": "BucketName", "Value": ref(bucket)},
                    {"Name": "FilterId", "Value": "Quarantine"},
                ]
            ),
            "Statistic": "Sum",
            "Threshold": 1,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        },
    )


def test_s3_trigger_quarantine_on_an_imported_bucket_is_granted_without_an_alarm(
    synth: Synthesized,
) -> None:
    statements = s3_statements(synth, "Imported")
    assert [
        s["Resource"]["Fn::Join"][1][-1] for s in statements if s["Action"] == "s3:PutObject"
    ] == [f":s3:::{IMPORTED_BUCKET}/rejected/*"]
    alarms = resources_of_type(template(synth, "Imported"), "AWS::CloudWatch::Alarm").values()
    assert not [a for a in alarms if a["Properties"].get("Namespace") == "AWS/S3"]


@pytest.mark.parametrize(
    ("props", "allowed"),
    [
        ({"quarantine_prefix": "uploads/rejected/"}, "outside the trigger's prefix"),
        ({"quarantine_prefix": "up"}, "outside the trigger's prefix"),
        ({"quarantine_prefix": "q/*"}, "without '*'"),
        ({"prefix": None, "quarantine_prefix": "quarantine/"}, "only with a prefix"),
    ],
    ids=["under the prefix", "above the prefix", "wildcard", "no trigger prefix"],
)
def test_s3_trigger_refuses_a_quarantine_its_rule_would_ingest(
    props: dict[str, Any], allowed: str
) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    function = inline_function(stack, "Ingest").function
    with pytest.raises(ConstructPropsError) as caught:
        S3Trigger(stack, "Trigger", function=function, **{"prefix": "uploads/", **props})
    assert caught.value.prop == "quarantine_prefix"
    assert "S/Trigger" in str(caught.value) and allowed in str(caught.value)


# --- reviews: cdk-nag and cfn-lint ------------------------------------------------------


@pytest.mark.parametrize(
    "stack",
    [
        "Trigger",
        "Variants",
        "Imported",
    ],
)
def test_s3_trigger_stack_has_no_unacknowledged_nag_finding(synth: Synthesized, stack: str) -> None:
    assert findings_in(synth, stack) == [], synth.finding_summary()


def test_s3_trigger_acknowledgments_are_granular_and_give_reasons(synth: Synthesized) -> None:
    assert unjustified_acknowledgments(synth) == []


def test_s3_trigger_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []

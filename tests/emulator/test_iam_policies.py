"""The emulator's IAM policy evaluator and request mapper, on their own (no server)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest

from emulator.iam_enforcement import Denial, denial_response
from emulator.iam_policies import (
    evaluate,
    kms_decision,
    parse_statements,
    principal_matches,
)
from emulator.iam_requests import ApiCall, access_key_and_scope, describe_request

ACCOUNT = "123456789012"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/OrdersSample-WorkflowRole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/OrdersSample-WorkflowRole/StepFunctions"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_an_allow_statement_allows_its_action_on_its_resource_only() -> None:
    statements = parse_statements(policy(allow(["dynamodb:PutItem", "dynamodb:GetItem"], TABLE)))

    assert evaluate(statements, "dynamodb:PutItem", TABLE).allowed
    assert not evaluate(statements, "dynamodb:DeleteItem", TABLE).allowed
    assert not evaluate(statements, "dynamodb:PutItem", TABLE + "-other").allowed
    assert not evaluate(statements, "dynamodb:PutItem", TABLE + "/index/ByCustomer").allowed


def test_an_explicit_deny_wins_over_any_allow() -> None:
    statements = parse_statements(
        policy(
            allow("dynamodb:*", TABLE),
            {"Effect": "Deny", "Action": "dynamodb:Put*", "Resource": "*"},
        )
    )

    decision = evaluate(statements, "dynamodb:PutItem", TABLE)
    assert (decision.allowed, decision.explicit_deny) == (False, True)
    assert evaluate(statements, "dynamodb:GetItem", TABLE).allowed


def test_action_wildcards_match_case_insensitively_and_resources_case_sensitively() -> None:
    statements = parse_statements(
        policy(
            allow("kms:GenerateDataKey*", KEY), allow("s3:Get?bject", "arn:aws:s3:::b/uploads/*")
        )
    )

    assert evaluate(statements, "kms:GenerateDataKey", KEY).allowed
    assert evaluate(statements, "KMS:generatedatakeywithoutplaintext", KEY).allowed
    assert not evaluate(statements, "kms:Decrypt", KEY).allowed
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::b/uploads/a/b.json").allowed
    assert not evaluate(statements, "s3:GetObject", "arn:aws:s3:::b/Uploads/a.json").allowed


def test_not_action_and_not_resource_allow_everything_but_what_they_name() -> None:
    statements = parse_statements(
        policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": TABLE})
    )

    assert evaluate(statements, "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q").allowed
    assert not evaluate(statements, "iam:PassRole", "*").allowed
    assert not evaluate(statements, "dynamodb:PutItem", TABLE).allowed


def test_a_lambda_permission_matches_its_service_principal_and_source_arn_with_arn_like() -> None:
    source = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:api1/*/POST/orders"
    statements = parse_statements(
        policy(
            allow(
                "lambda:InvokeFunction",
                "arn:aws:lambda:us-east-1:1:function:f",
                Principal={"Service": "apigateway.amazonaws.com"},
                Condition={"ArnLike": {"AWS:SourceArn": source}},
            )
        )
    )
    [statement] = statements

    assert principal_matches(statement, "Service", "apigateway.amazonaws.com")
    assert not principal_matches(statement, "Service", "events.amazonaws.com")
    function = "arn:aws:lambda:us-east-1:1:function:f"
    ok = {"aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:api1/$default/POST/orders"}
    other_route = {
        "aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:api1/$default/GET/orders"
    }
    assert evaluate(statements, "lambda:InvokeFunction", function, ok).allowed
    assert not evaluate(statements, "lambda:InvokeFunction", function, other_route).allowed
    assert not evaluate(statements, "lambda:InvokeFunction", function, {}).allowed


def test_a_condition_operator_the_evaluator_does_not_know_never_allows() -> None:
    statements = parse_statements(
        policy(
            allow("sqs:SendMessage", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
        )
    )

    assert not evaluate(statements, "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q").allowed


ROOT_KEY_POLICY = parse_statements(
    policy(allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
)


def test_a_key_policy_that_delegates_to_the_account_needs_the_identity_policy() -> None:
    granted = parse_statements(policy(allow(["kms:GenerateDataKey", "kms:Decrypt"], KEY)))

    decision, by = kms_decision(ROOT_KEY_POLICY, granted, SESSION, "kms:GenerateDataKey", KEY)
    assert (decision.allowed, by) == (True, "identity policy")
    decision, by = kms_decision(ROOT_KEY_POLICY, (), SESSION, "kms:GenerateDataKey", KEY)
    assert (decision.allowed, by) == (False, "identity policy")


def test_a_key_policy_naming_the_role_allows_without_an_identity_policy() -> None:
    key_policy = parse_statements(policy(allow("kms:Decrypt", "*", Principal={"AWS": ROLE})))

    assert kms_decision(key_policy, (), SESSION, "kms:Decrypt", KEY)[0].allowed
    assert not kms_decision(key_policy, (), SESSION, "kms:GenerateDataKey", KEY)[0].allowed


def test_an_identity_policy_alone_cannot_use_a_key_whose_policy_does_not_delegate() -> None:
    key_policy = parse_statements(
        policy(allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/Admin"}))
    )
    granted = parse_statements(policy(allow("kms:*", KEY)))

    decision, by = kms_decision(key_policy, granted, SESSION, "kms:Decrypt", KEY)
    assert (decision.allowed, by) == (False, "key policy")


def _environ(target: str = "", body: bytes = b"", path: str = "/", **extra: str) -> dict[str, Any]:
    environ = {
        "HTTP_AUTHORIZATION": (
            "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-east-1/svc/aws4_request, "
            "SignedHeaders=host, Signature=x"
        ),
        "PATH_INFO": path,
        "REQUEST_METHOD": "POST",
        "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(body),
        **extra,
    }
    if target:
        environ["HTTP_X_AMZ_TARGET"] = target
    return environ


@pytest.mark.parametrize(
    ("service", "environ", "checks"),
    [
        (
            "dynamodb",
            _environ(
                "DynamoDB_20120810.Query", b'{"TableName": "Orders", "IndexName": "ByCustomer"}'
            ),
            [("dynamodb:Query", TABLE + "/index/ByCustomer")],
        ),
        (
            "sqs",
            _environ(
                "AmazonSQS.SendMessage", b'{"QueueUrl": "http://127.0.0.1:5000/123456789012/dlq"}'
            ),
            [("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq")],
        ),
        (
            "sns",
            _environ(body=b"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At"),
            [("sns:Publish", "arn:aws:sns:us-east-1:1:t")],
        ),
        (
            "s3",
            _environ(
                path="/uploads/uploads/a.json", REQUEST_METHOD="GET", QUERY_STRING="versionId=3"
            ),
            [("s3:GetObjectVersion", "arn:aws:s3:::uploads/uploads/a.json")],
        ),
        (
            "lambda",
            _environ(path="/2015-03-31/functions/Ship/invocations", QUERY_STRING="Qualifier=live"),
            [("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:Ship:live")],
        ),
        (
            "logs",
            _environ("Logs_20140328.PutLogEvents", b'{"logGroupName": "/g", "logStreamName": "s"}'),
            [("logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/g:log-stream:s")],
        ),
        (
            "kms",
            _environ(
                "TrentService.Decrypt",
                json.dumps(
                    {"CiphertextBlob": base64.b64encode(KEY.split("/")[1].encode() + b"x").decode()}
                ).encode(),
            ),
            [("kms:Decrypt", KEY.split("/")[1])],
        ),
        (
            "events",
            _environ("AWSEvents.PutEvents", b'{"Entries": [{"Source": "s", "DetailType": "d"}]}'),
            [("events:PutEvents", f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default")],
        ),
        (
            "ssm",
            _environ("AmazonSSM.GetParameter", b'{"Name": "/orders/limit"}'),
            [("ssm:GetParameter", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/orders/limit")],
        ),
        ("xray", _environ(path="/TraceSegments"), [("xray:PutTraceSegments", "*")]),
        (
            "monitoring",
            _environ(path="/service/GraniteServiceVersion20100801/operation/PutMetricData"),
            [("cloudwatch:PutMetricData", "*")],
        ),
    ],
)
def test_a_request_is_named_by_its_action_and_real_resource_arn(
    service: str, environ: dict[str, Any], checks: list[tuple[str, str]]
) -> None:
    body = environ["wsgi.input"].read()

    call = describe_request(environ, body, service, ACCOUNT, "us-east-1")

    assert list(call.checks) == checks


def test_the_access_key_and_scope_come_from_the_sigv4_authorization_header() -> None:
    assert access_key_and_scope(_environ()) == ("ASIAEXAMPLE", "us-east-1", "svc")
    assert access_key_and_scope({"QUERY_STRING": ""}) is None


@pytest.mark.parametrize(
    ("call", "kms", "status", "code"),
    [
        (ApiCall("dynamodb", "json", "PutItem", ()), False, 400, "AccessDeniedException"),
        (ApiCall("sns", "query", "Publish", ()), False, 403, "AuthorizationError"),
        (ApiCall("sns", "query", "Publish", ()), True, 400, "KMSAccessDenied"),
        (ApiCall("s3", "rest-xml", "GetObject", ()), False, 403, "AccessDenied"),
        (ApiCall("lambda", "rest-json", "InvokeFunction", ()), False, 403, "AccessDeniedException"),
    ],
)
def test_a_denial_is_answered_in_the_services_protocol_with_the_message(
    call: ApiCall, kms: bool, status: int, code: str
) -> None:
    message = f"User: {SESSION} is not authorized to perform: x:Y on resource: * because ..."

    answered_status, headers, body = denial_response(call, Denial("x:Y", "*", message, kms))

    assert answered_status == status
    assert code in (headers.get("x-amzn-ErrorType", "") + body.decode())
    assert SESSION in body.decode()


def test_a_call_on_a_resource_encrypted_with_a_customer_key_needs_the_services_kms_actions() -> (
    None
):
    import boto3
    from moto import mock_aws

    from emulator.kms_requirements import kms_requirements

    with mock_aws():
        key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]
        sns = boto3.client("sns", region_name="us-east-1")
        encrypted = sns.create_topic(Name="t", Attributes={"KmsMasterKeyId": key["Arn"]})
        aws_managed = sns.create_topic(Name="m", Attributes={"KmsMasterKeyId": "alias/aws/sns"})
        plain = sns.create_topic(Name="p")

        def needs(action: str, topic: dict[str, Any]) -> list[tuple[str, str]]:
            return kms_requirements(action, topic["TopicArn"], ACCOUNT, "us-east-1")

        assert needs("sns:Publish", encrypted) == [
            ("kms:GenerateDataKey", key["Arn"]),
            ("kms:Decrypt", key["Arn"]),
        ]
        assert needs("sns:GetTopicAttributes", encrypted) == []
        assert needs("sns:Publish", aws_managed) == needs("sns:Publish", plain) == []

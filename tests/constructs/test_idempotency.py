"""IdempotencyStore: the table Powertools' idempotency utility expects, and exactly its access."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Capture, Match
from moto import mock_aws

from constructs_lib import ConstructPropsError, IdempotencyStore
from constructs_lib.idempotency import PERSISTENCE_ACTIONS
from tests.constructs import (
    cfn_lint_findings,
    findings_in,
    inline_function,
    logical_id_of,
    unjustified_acknowledgments,
)
from tests.support import (
    ENV,
    Synthesized,
    as_list,
    nag_app,
    policy_statements,
    synthesize,
)

STACKS = ("Defaults", "Options")
ACTIONS = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()

    defaults = cdk.Stack(app, "Defaults", env=ENV)
    # The library's LambdaFunction itself, and an aws_lambda.Function (Options), are taken.
    IdempotencyStore(defaults, "Idempotency").enable_for(inline_function(defaults, "Api"))

    options = cdk.Stack(app, "Options", env=ENV)
    key = kms.Key(options, "Key", enable_key_rotation=True)
    store = IdempotencyStore(
        options,
        "Idempotency",
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        table_name="orders-idempotency",
    )
    store.enable_for(inline_function(options, "Api").function, environment_variable="KEYS_TABLE")
    inline_function(options, "Bystander")

    return synthesize(app)


def table_id(synth: Synthesized, stack: str) -> str:
    return logical_id_of(synth.templates[stack], "AWS::DynamoDB::Table", "Idempotency")


def test_table_has_the_persistence_layers_key_and_time_to_live(synth: Synthesized) -> None:
    synth.template("Defaults").has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": True,
        },
    )


def test_table_is_retained_by_default(synth: Synthesized) -> None:
    synth.template("Defaults").has_resource(
        "AWS::DynamoDB::Table", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )


def test_table_is_encrypted_with_a_given_key(synth: Synthesized) -> None:
    key_id = logical_id_of(synth.templates["Options"], "AWS::KMS::Key")
    synth.template("Options").has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "orders-idempotency",
            "SSESpecification": {
                "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
                "SSEEnabled": True,
                "SSEType": "KMS",
            },
        },
    )
    synth.template("Options").has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete"})


@pytest.mark.parametrize(
    ("stack", "variable"), [("Defaults", "IDEMPOTENCY_TABLE_NAME"), ("Options", "KEYS_TABLE")]
)
def test_enable_for_tells_the_function_the_table_name(
    synth: Synthesized, stack: str, variable: str
) -> None:
    synth.template(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like({variable: {"Ref": table_id(synth, stack)}})
            }
        },
    )


@pytest.mark.parametrize("stack", STACKS)
def test_enable_for_grants_the_four_persistence_actions_on_that_table_only(
    synth: Synthesized, stack: str
) -> None:
    table_arn = {"Fn::GetAtt": [table_id(synth, stack), "Arn"]}
    on_table = [
        statement
        for statement in policy_statements(synth.templates[stack])
        if any(action.startswith("dynamodb:") for action in as_list(statement["Action"]))
    ]

    assert on_table == [{"Action": ACTIONS, "Effect": "Allow", "Resource": [table_arn]}], (
        "one statement: these actions, this table, no index or '*' resource"
    )


def test_enable_for_grants_the_customer_managed_key_to_that_function_only(
    synth: Synthesized,
) -> None:
    key_id = logical_id_of(synth.templates["Options"], "AWS::KMS::Key")
    roles = Capture()
    synth.template("Options").has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": [
                                    "kms:Decrypt",
                                    "kms:DescribeKey",
                                    "kms:Encrypt",
                                    "kms:GenerateDataKey",
                                ],
                                "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
                            }
                        )
                    ]
                )
            },
            "Roles": roles,
        },
    )
    assert "Api" in roles.as_array()[0]["Ref"]
    kms_statements = [
        statement
        for statement in policy_statements(synth.templates["Options"])
        if any(action.startswith("kms:") for action in as_list(statement["Action"]))
    ]
    assert len(kms_statements) == 1, "the bystander function gets no key access"


@pytest.mark.parametrize("stack", STACKS)
def test_idempotency_store_has_no_unacknowledged_nag_finding(
    synth: Synthesized, stack: str
) -> None:
    assert findings_in(synth, stack) == [], synth.finding_summary()


def test_idempotency_store_acknowledgments_are_granular_and_give_reasons(
    synth: Synthesized,
) -> None:
    assert unjustified_acknowledgments(synth) == []


def test_idempotency_store_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []


# --- invalid props ----------------------------------------------------------------------------


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Props", env=ENV)


def test_enable_for_refuses_an_imported_function_naming_it(stack: cdk.Stack) -> None:
    imported = lambda_.Function.from_function_name(stack, "Imported", "orders-api")
    store = IdempotencyStore(stack, "Idempotency")

    with pytest.raises(ConstructPropsError) as caught:
        store.enable_for(imported)  # type: ignore[arg-type]

    assert caught.value.construct_path == "Props/Idempotency"
    assert caught.value.prop == "function"
    assert caught.value.value == "Props/Imported"
    assert "aws_lambda.Function" in caught.value.allowed


@pytest.mark.parametrize("name", ["", "1ST", "TABLE-NAME", "TABLE NAME", None])
def test_enable_for_refuses_an_impossible_environment_variable_name(
    stack: cdk.Stack, name: Any
) -> None:
    store = IdempotencyStore(stack, "Idempotency")
    function = inline_function(stack, "Api").function

    with pytest.raises(ConstructPropsError) as caught:
        store.enable_for(function, environment_variable=name)

    assert (caught.value.construct_path, caught.value.prop) == (
        "Props/Idempotency",
        "environment_variable",
    )
    assert caught.value.value == name
    assert "letters, digits and underscores" in caught.value.allowed


def test_idempotency_store_refuses_a_snapshot_removal_policy(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError) as caught:
        IdempotencyStore(stack, "Idempotency", removal_policy=cdk.RemovalPolicy.SNAPSHOT)

    assert caught.value.prop == "removal_policy"
    assert "Idempotency" in caught.value.construct_path


# --- the granted actions are the ones the persistence layer calls ------------------------------


@pytest.fixture
def recorded_operations() -> Iterator[tuple[Any, set[str]]]:
    """A moto table laid out as IdempotencyStore lays it out, and the DynamoDB operations
    a client makes on it."""
    with (
        pytest.MonkeyPatch.context() as patch,
        mock_aws(),
    ):
        for name, value in {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }.items():
            patch.setenv(name, value)
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="records",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        operations: set[str] = set()
        client.meta.events.register(
            "before-call.dynamodb.*",
            lambda model, **_: operations.add(f"dynamodb:{model.name}"),
        )
        yield client, operations


class _Context:
    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def test_the_granted_actions_are_exactly_what_the_persistence_layer_calls(
    recorded_operations: tuple[Any, set[str]],
) -> None:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    client, operations = recorded_operations
    persistence = DynamoDBPersistenceLayer(table_name="records", boto3_client=client)
    config = IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="body")
    config.register_lambda_context(_Context())

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config
    )
    def run(*, request: dict[str, Any]) -> dict[str, Any]:
        if request["body"] == "fail":
            raise RuntimeError("the function fails: the utility releases the key")
        return {"done": request["body"]}

    assert run(request={"key": "a", "body": "x"}) == {"done": "x"}  # put, then update
    assert run(request={"key": "a", "body": "x"}) == {"done": "x"}  # replayed
    with pytest.raises(RuntimeError):
        run(request={"key": "b", "body": "fail"})  # put, then delete
    persistence.get_record({"key": "a", "body": "x"})  # what a replay reads when needed

    assert operations == set(PERSISTENCE_ACTIONS) == set(ACTIONS)

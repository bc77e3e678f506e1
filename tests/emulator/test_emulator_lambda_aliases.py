"""A function released through a version and an alias: CloudFormation's return values, the
alias behind an HTTP API route, invocations through the alias, and its own permission."""

from __future__ import annotations

import json

from emulator import DeployedStack, Emulator, http_request, invoke_function, wait_for_item


def test_version_and_alias_give_cloudformations_return_values(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    name = tiny_stack.outputs["WriterName"]
    function_arn = emulator.client("lambda").get_function(FunctionName=name)["Configuration"][
        "FunctionArn"
    ]
    alias = emulator.client("lambda").get_alias(FunctionName=name, Name="live")

    assert tiny_stack.outputs["WriterVersion"] == "1"
    assert tiny_stack.outputs["WriterAliasArn"] == f"{function_arn}:live"
    assert (alias["AliasArn"], alias["FunctionVersion"]) == (f"{function_arn}:live", "1")
    assert len(tiny_stack.physical_ids_of_type("AWS::Lambda::Alias")) == 1


def test_invoking_through_the_alias_runs_its_version(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    name = tiny_stack.outputs["WriterName"]
    by_arn = invoke_function(emulator, tiny_stack.outputs["WriterAliasArn"], {"id": "alias#1"})
    by_name = invoke_function(emulator, f"{name}:live", {"id": "alias#2"})
    by_qualifier = emulator.client("lambda").invoke(
        FunctionName=name, Qualifier="live", Payload=json.dumps({"id": "alias#3"}).encode()
    )

    assert by_arn.function_error is None and by_arn.payload["written"] == "alias#1"
    assert by_name.function_error is None and by_name.payload["written"] == "alias#2"
    assert json.loads(by_qualifier["Payload"].read())["written"] == "alias#3"
    assert by_qualifier["ExecutedVersion"] == "1"


def test_http_api_route_to_the_alias_invokes_the_aliased_version(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    response = http_request(
        emulator, "POST", tiny_stack.outputs["ApiUrl"] + "/live/orders", {"id": "live#1"}
    )

    assert (response.status, response.json()) == (201, {"id": "live#1"})
    item = wait_for_item(emulator, tiny_stack.outputs["TableName"], {"pk": {"S": "live#1"}})
    assert item["via"]["S"] == "POST /live/orders"
    assert item["version"]["S"] == "1"


def test_the_permission_for_the_alias_route_is_granted_on_the_alias_arn(
    emulator: Emulator, tiny_stack: DeployedStack
) -> None:
    policy = json.loads(
        emulator.client("lambda").get_policy(FunctionName=tiny_stack.outputs["WriterName"])[
            "Policy"
        ]
    )
    alias_statements = [
        statement
        for statement in policy["Statement"]
        if "/live/orders" in json.dumps(statement.get("Condition", {}))
    ]

    assert [s["Resource"] for s in alias_statements] == [tiny_stack.outputs["WriterAliasArn"]]

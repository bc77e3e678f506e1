"""Walk through the OrdersSample stack running in the emulator (what ``make demo`` runs).

``python -m emulator.demo [CLOUD_ASSEMBLY] [--stack NAME] [--log PATH] [--deploy-with api|cli]``
deploys the synthesized stack (default ``cdk.out``, stack ``OrdersSample``) into a fresh
emulator (with the pinned CDK CLI's ``cdk bootstrap`` + ``cdk deploy --app``, or with
CreateStack) and drives every flow, printing what happens and how long it takes:

1. README's "Try it": a user is created in the stack's user pool (``admin-create-user``,
   ``admin-set-user-password``) and signs in (``initiate-auth``, ``USER_PASSWORD_AUTH``),
   with the pool and client ids read from the stack outputs; with the ID token the HTTP
   API (``Bearer``) creates an order and reads it back and the REST API creates another,
   then answers its retry (same ``Idempotency-Key``) with the same order; a
   malformed request gets the API's 4xx answer;
2. both APIs answer 401 to a request without a token, with an expired token, with a forged
   one (signature changed) and with a token of another user pool;
3. each new order's table stream record starts its workflow, whose Lambda tasks, DynamoDB
   status update and SNS notification run (a queue subscribed to the topic for the demo
   shows the notifications);
4. an order file uploaded under ``uploads/`` reaches the ingest function through
   EventBridge; its valid orders are stored and go through the workflow too;
5. a FAILED order retried with ``POST /orders/{order_id}/retry`` runs its workflow again,
   under the execution name ``<order_id>--retry-1``;
6. the failure paths: a poison stream record ends in the stream mapping's on-failure
   queue, and a failing asynchronous invocation of each function that can fail ends in
   its dead-letter queue (both sent with the function's role);
7. the permissions report: for every role of the stack, each granted action used by a
   flow, explained, or unused, and every denied call; written to
   ``<CLOUD_ASSEMBLY>/permissions-report.json``.

Every call runs with IAM and KMS enforced (``emulator.patches.iam_enforcement``). Exits non-zero
if a flow does not complete or a role of the stack was denied a call. The server log
(every function's output) is kept at ``--log`` (default ``<CLOUD_ASSEMBLY>/emulator-demo.log``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from emulator import (
    DeployedStack,
    Emulator,
    create_user,
    create_user_pool,
    deploy_stack,
    http_request,
    read_permissions_report,
    sign_in,
    start_emulator,
    structured_log_records,
    wait_for,
    wait_for_execution,
)
from emulator.cdk_cli import bootstrap, cdk_deploy

#: Seconds the demo waits for any one asynchronous outcome.
FLOW_TIMEOUT_SECONDS = 60.0
#: README's "Try it" user.
USERNAME = "me@example.com"
PASSWORD = "Choose-a-l0ng-passw0rd!"


def _order(customer: str, quantity: int) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "email": f"{customer}@example.com",
        "items": [{"sku": "BOOK-42", "quantity": quantity}],
    }


class _Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def step(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f} s] {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("cloud_assembly", nargs="?", default="cdk.out")
    parser.add_argument("--stack", default="OrdersSample")
    parser.add_argument("--log", default=None)
    parser.add_argument("--deploy-with", choices=("cli", "api"), default="cli")
    args = parser.parse_args(argv)
    args.log = args.log or str(Path(args.cloud_assembly) / "emulator-demo.log")
    if not (Path(args.cloud_assembly) / "manifest.json").exists():
        print(f"No cloud assembly in {args.cloud_assembly}: run `make synth` first.")
        return 2
    clock = _Clock()
    with start_emulator(log_path=args.log) as emulator:
        clock.step(f"Emulator up: moto server on {emulator.endpoint_url} (log: {args.log})")
        stack = _deploy(emulator, args, clock)
        clock.step(
            f"Deployed {stack.name}: {len(stack.physical_ids)} resources, CREATE_COMPLETE; "
            f"{len(stack.not_emulated)} are placeholders only "
            f"({', '.join(sorted(set(stack.not_emulated.values())))})"
        )
        notifications = _subscribe_queue(emulator, stack.outputs["NotificationTopicArn"])
        try:
            id_token = _sign_in(emulator, stack, clock)
            order_ids = _api_flows(emulator, stack, id_token, clock)
            _refused_tokens(emulator, stack, id_token, clock)
            order_ids += _ingest_flow(emulator, stack, clock)
            _workflow_outcomes(emulator, stack, order_ids, clock)
            _show_notifications(emulator, notifications, len(order_ids), clock)
            _retry_flow(emulator, stack, order_ids[0], id_token, clock)
            _failure_paths(emulator, stack, clock)
            _report_permissions(emulator, stack, Path(args.cloud_assembly), clock)
        except (TimeoutError, AssertionError) as failure:
            clock.step(f"FAILED: {failure}")
            return 1
    clock.step("Done: every flow ran; the emulator is stopped.")
    return 0


def _deploy(emulator: Emulator, args: argparse.Namespace, clock: _Clock) -> DeployedStack:
    """``cdk bootstrap`` + ``cdk deploy --app`` with the pinned CLI (``--deploy-with cli``, the
    default: the path users take; ~7 s more than CreateStack on a quiet machine, measured), or
    the emulator's own CreateStack (``api``: no Node.js needed)."""
    if args.deploy_with == "api":
        return deploy_stack(emulator, args.cloud_assembly, args.stack)
    bootstrap(emulator)
    clock.step(f"CDK CLI   cdk bootstrap aws://{emulator.account_id}/{emulator.region}")
    stack, result = cdk_deploy(emulator, args.cloud_assembly, args.stack)
    events = sum("CREATE_COMPLETE" in line for line in result.output.splitlines())
    clock.step(f"CDK CLI   cdk deploy --app {args.cloud_assembly}: {events} CREATE_COMPLETE events")
    return stack


def _sign_in(emulator: Emulator, stack: DeployedStack, clock: _Clock) -> str:
    pool, client = stack.outputs["UserPoolId"], stack.outputs["UserPoolClientId"]
    create_user(emulator, pool, USERNAME, PASSWORD)
    clock.step(f"Cognito   admin-create-user + admin-set-user-password {USERNAME} in {pool}")
    tokens = sign_in(emulator, client, USERNAME, PASSWORD)
    clock.step(f"Cognito   initiate-auth USER_PASSWORD_AUTH with client {client}: ID token issued")
    return str(tokens["IdToken"])


def _headers(api: str, token: str) -> dict[str, str]:
    """REST: the Cognito authorizer reads the bare token; HTTP: the JWT authorizer a Bearer."""
    return {"Authorization": token if api == "RestApiUrl" else f"Bearer {token}"}


def _api_flows(emulator: Emulator, stack: DeployedStack, id_token: str, clock: _Clock) -> list[str]:
    http_url, rest_url = stack.outputs["HttpApiUrl"], stack.outputs["RestApiUrl"]
    http_auth, rest_auth = _headers("HttpApiUrl", id_token), _headers("RestApiUrl", id_token)
    created = http_request(emulator, "POST", http_url + "orders", _order("ada", 2), http_auth)
    _expect(created.status == 201, f"HTTP API POST /orders answered {created.status}")
    order_id = created.json()["order_id"]
    clock.step(f"HTTP API  POST /orders -> 201, order {order_id} {created.json()['status']}")
    read = http_request(emulator, "GET", f"{http_url}orders/{order_id}", None, http_auth)
    clock.step(f"HTTP API  GET /orders/{order_id} -> {read.status}")
    bad = http_request(emulator, "POST", http_url + "orders", {"customer_id": "x"}, http_auth)
    clock.step(f"HTTP API  POST /orders with a bad body -> {bad.status} {bad.json()['error']}")
    retried = {**rest_auth, "Idempotency-Key": "demo-grace-11"}
    rest = http_request(emulator, "POST", rest_url + "orders", _order("grace", 11), retried)
    _expect(rest.status == 201, f"REST API POST /orders answered {rest.status}")
    clock.step(f"REST API  POST /orders -> 201, order {rest.json()['order_id']} (11 copies)")
    again = http_request(emulator, "POST", rest_url + "orders", _order("grace", 11), retried)
    _expect(
        (again.status, again.json().get("order_id")) == (201, rest.json()["order_id"]),
        f"the retried REST API POST /orders answered {again.status} {again.json()}",
    )
    clock.step("REST API  the same POST retried with its Idempotency-Key -> 201, the same order")
    return [order_id, rest.json()["order_id"]]


def _refused_tokens(emulator: Emulator, stack: DeployedStack, id_token: str, clock: _Clock) -> None:
    header, payload, signature = id_token.split(".")
    flipped = "A" if signature[20] != "A" else "B"
    expired = sign_in(
        emulator,
        stack.outputs["UserPoolClientId"],
        USERNAME,
        PASSWORD,
        signed_in_seconds_ago=7200,
    )["IdToken"]
    cases = {
        "no token": None,
        "a token issued 2 h ago (expired)": expired,
        "a forged token (signature changed)": f"{header}.{payload}.{signature[:20]}{flipped}"
        f"{signature[21:]}",
        "a token of another user pool": _other_pool_token(emulator),
    }
    for what, token in cases.items():
        answers = []
        for api in ("RestApiUrl", "HttpApiUrl"):
            headers = _headers(api, token) if token else {}
            response = http_request(
                emulator, "POST", stack.outputs[api] + "orders", _order("eve", 1), headers
            )
            _expect(response.status == 401, f"{api} answered {response.status} to {what}")
            answers.append(f"{response.status} {response.body.decode()}")
        clock.step(f"Both APIs, {what} -> REST {answers[0]}, HTTP {answers[1]}")


def _other_pool_token(emulator: Emulator) -> str:
    pool, client = create_user_pool(emulator, "another-pool")
    create_user(emulator, pool, USERNAME, PASSWORD)
    return str(sign_in(emulator, client, USERNAME, PASSWORD)["IdToken"])


def _ingest_flow(emulator: Emulator, stack: DeployedStack, clock: _Clock) -> list[str]:
    table = stack.outputs["OrdersTableName"]
    dynamodb = emulator.client("dynamodb")
    before = {item["order_id"]["S"] for item in dynamodb.scan(TableName=table)["Items"]}
    orders = [_order("alan", 1), _order("barbara", 3), {"customer_id": "no items"}]
    emulator.client("s3").put_object(
        Bucket=stack.outputs["UploadsBucketName"],
        Key="uploads/demo-orders.json",
        Body=json.dumps(orders).encode(),
    )
    clock.step("S3        PUT uploads/demo-orders.json (2 valid orders, 1 invalid)")

    def ingested() -> list[str] | None:
        now = {item["order_id"]["S"] for item in dynamodb.scan(TableName=table)["Items"]}
        return sorted(now - before) if len(now - before) >= 2 else None

    new = wait_for(
        ingested, "the ingest function to store 2 orders", FLOW_TIMEOUT_SECONDS, emulator
    )
    clock.step(f"EventBridge -> ingest function stored orders {', '.join(new)}")
    skipped = structured_log_records(
        emulator, stack.physical_id("IngestFunctionLogGroup"), "Invalid order skipped"
    )
    for record in skipped:
        clock.step(
            f"Ingest    skipped order #{record['index']} of {record['key']}: {record['reason']}"
        )
    _expect(len(skipped) == 1, f"{len(skipped)} invalid orders reported, expected 1")
    return new


def _workflow_outcomes(
    emulator: Emulator, stack: DeployedStack, order_ids: list[str], clock: _Clock
) -> None:
    table = stack.outputs["OrdersTableName"]
    for order_id in order_ids:
        execution = wait_for_execution(
            emulator, stack.outputs["StateMachineArn"], order_id, FLOW_TIMEOUT_SECONDS
        )
        item = emulator.client("dynamodb").get_item(
            TableName=table, Key={"order_id": {"S": order_id}}
        )["Item"]
        _expect(execution["status"] == "SUCCEEDED", f"workflow {order_id}: {execution}")
        clock.step(
            f"Stream -> workflow {order_id}: {execution['status']}, order now {item['status']['S']}"
        )


def _retry_flow(
    emulator: Emulator, stack: DeployedStack, order_id: str, id_token: str, clock: _Clock
) -> None:
    """Mark a finished order FAILED, as a workflow whose task kept failing leaves it, and
    retry it through the API, as README's Reliability section documents."""
    emulator.client("dynamodb").update_item(
        TableName=stack.outputs["OrdersTableName"],
        Key={"order_id": {"S": order_id}},
        UpdateExpression="SET #status = :failed",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":failed": {"S": "FAILED"}},
    )
    clock.step(f"DynamoDB  mark order {order_id} FAILED (as a task that kept failing leaves it)")
    url = f"{stack.outputs['HttpApiUrl']}orders/{order_id}/retry"
    retried = http_request(emulator, "POST", url, None, _headers("HttpApiUrl", id_token))
    _expect(retried.status == 202, f"POST /orders/{order_id}/retry answered {retried.status}")
    name = retried.json()["execution_name"]
    clock.step(f"HTTP API  POST /orders/{order_id}/retry -> 202, execution {name}")
    execution = wait_for_execution(
        emulator, stack.outputs["StateMachineArn"], name, FLOW_TIMEOUT_SECONDS
    )
    item = emulator.client("dynamodb").get_item(
        TableName=stack.outputs["OrdersTableName"], Key={"order_id": {"S": order_id}}
    )["Item"]
    _expect(execution["status"] == "SUCCEEDED", f"retry {name}: {execution}")
    clock.step(f"Workflow  {name}: {execution['status']}, order now {item['status']['S']}")


def _subscribe_queue(emulator: Emulator, topic_arn: str) -> str:
    """Subscribe a queue to the topic, for the demo to read notifications (not in the stack)."""
    sqs = emulator.client("sqs")
    queue_url = sqs.create_queue(QueueName="demo-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    emulator.client("sns").subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    return str(queue_url)


def _show_notifications(emulator: Emulator, queue_url: str, expected: int, clock: _Clock) -> None:
    messages = (
        emulator.client("sqs")
        .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        .get("Messages", [])
    )
    for message in messages:
        body = json.loads(message["Body"])
        clock.step(f"SNS       notification: order {body['order_id']} {body['status']}")
    _expect(len(messages) == expected, f"{len(messages)} notifications, expected {expected}")


#: Functions whose handler answers every event (API Gateway calls it synchronously): no
#: asynchronous invocation of it can fail, so the demo cannot send to its dead-letter queue.
NEVER_FAILING_FUNCTIONS = ("ApiFunction",)


def _failure_paths(emulator: Emulator, stack: DeployedStack, clock: _Clock) -> None:
    """Drive what only failures use: the stream's on-failure queue and the functions' DLQs."""
    queues = stack.physical_ids_of_type("AWS::SQS::Queue")
    emulator.client("dynamodb").put_item(
        TableName=stack.outputs["OrdersTableName"], Item={"order_id": {"S": "poison-record"}}
    )
    clock.step("DynamoDB  PUT a poison record (not an order) straight into the table")
    lambda_client = emulator.client("lambda")
    dead_letter_queues = {}
    for logical_id, function in stack.physical_ids_of_type("AWS::Lambda::Function").items():
        prefix = logical_id[:-8]  # the logical id without its hash
        if prefix in NEVER_FAILING_FUNCTIONS:
            continue
        lambda_client.invoke(FunctionName=function, InvocationType="Event", Payload=b"{}")
        dead_letter_queues[prefix] = _queue(queues, f"{prefix}DeadLetterQueue")
    clock.step(f"Lambda    async invoke with a bad event: {', '.join(dead_letter_queues)}")
    arrived = _wait_for_message(emulator, _queue(queues, "NewOrdersOnFailureQueue"))
    clock.step(f"Stream    poison record retried, then sent to the on-failure queue ({arrived})")
    for queue_url in dead_letter_queues.values():
        _wait_for_message(emulator, queue_url)
    clock.step(
        f"Lambda    {len(dead_letter_queues)} failed events retried twice, then dead-lettered"
    )


def _queue(queues: dict[str, str], logical_prefix: str) -> str:
    matches = [url for lid, url in queues.items() if lid[:-8] == logical_prefix]
    _expect(len(matches) == 1, f"{len(matches)} queues named {logical_prefix}")
    return matches[0]


def _wait_for_message(emulator: Emulator, queue_url: str) -> str:
    sqs = emulator.client("sqs")

    def received() -> str | None:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages")
        return f"{len(messages)} message" if messages else None

    return wait_for(received, f"a message in {queue_url}", FLOW_TIMEOUT_SECONDS, emulator)


def _report_permissions(
    emulator: Emulator, stack: DeployedStack, cloud_assembly: Path, clock: _Clock
) -> None:
    report = read_permissions_report(emulator, stack)
    path = cloud_assembly / "permissions-report.json"
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    for role_arn, role in report["roles"].items():
        counts = {s: sum(g["status"] == s for g in role["grants"]) for s in ("used", "explained")}
        unused = [g["action"] for g in role["grants"] if g["status"] == "unused"]
        clock.step(
            f"IAM       {role_arn.rsplit('/', 1)[-1][:60]}: {counts['used']} used, "
            f"{counts['explained']} explained, {len(role['denied'])} denied"
            + (f", UNUSED: {', '.join(unused)}" if unused else "")
        )
        for denial in role["denied"]:
            clock.step(f"IAM       DENIED {denial['message']}")
    summary = report["summary"]
    clock.step(
        f"IAM       {summary['roles']} roles, {summary['statements']} statements granting "
        f"{summary['grants']} actions: {summary['used']} used by a flow, {summary['explained']} "
        f"explained, {summary['unused']} unused; {summary['denied']} calls denied, "
        f"{summary['resource_policy_denied']} invocations refused by a function policy "
        f"(report: {path})"
    )
    _expect(
        summary["denied"] == 0 and summary["resource_policy_denied"] == 0,
        "a role of the stack was denied a call its flow makes: a grant is missing",
    )


def _expect(condition: bool, failure: str) -> None:
    if not condition:
        raise AssertionError(failure)


if __name__ == "__main__":
    sys.exit(main())

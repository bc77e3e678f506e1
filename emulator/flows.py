"""Drive and observe a deployed stack: invoke a function, call an API, wait for async work.

Everything asynchronous in the emulator (EventBridge targets, stream pollers, Step
Functions executions, asynchronous Lambda invocations) runs on background threads of the
server, as on AWS; a test or demo observes the result by polling, with a deadline. These
helpers keep that polling in one place and make a timeout say what was awaited.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from emulator.deploy import DeployedStack
from emulator.protocol import COGNITO_CLOCK_PATH, GRANT_STATUSES, PERMISSIONS_PATH
from emulator.server import Emulator

T = TypeVar("T")

#: Seconds ``wait_for`` and friends wait by default.
DEFAULT_TIMEOUT_SECONDS = 30.0
#: Seconds between two polls.
POLL_INTERVAL_SECONDS = 0.2


@dataclass(frozen=True)
class FunctionResult:
    """What Lambda's Invoke API returned.

    Attributes
    ----------
    payload:
        The response payload, parsed from JSON (the handler's result or the error document).
    function_error:
        ``"Unhandled"`` if the function failed, else None.
    logs:
        The invocation's log (START/END/REPORT lines around what the handler printed).
    """

    payload: Any
    function_error: str | None
    logs: str

    @property
    def error_type(self) -> str | None:
        """The failed handler's exception class name (``errorType``), or None on success."""
        if self.function_error and isinstance(self.payload, dict):
            return self.payload.get("errorType")
        return None


def invoke_function(emulator: Emulator, function_name: str, event: Any = None) -> FunctionResult:
    """Invoke a deployed function synchronously (``RequestResponse``) with a JSON event."""
    import base64

    response = emulator.client("lambda").invoke(
        FunctionName=function_name,
        Payload=json.dumps(event if event is not None else {}).encode(),
        LogType="Tail",
    )
    raw = response["Payload"].read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    logs = base64.b64decode(response.get("LogResult", "")).decode(errors="replace")
    return FunctionResult(payload, response.get("FunctionError"), logs)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    emulator: Emulator,
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    aws_credentials: dict[str, str] | None = None,
) -> HttpResponse:
    """Send an HTTP request to an API in the emulator.

    ``url`` may be the AWS URL from a stack output (``https://<id>.execute-api...``); it is
    translated with ``Emulator.local_url``. A dict or list ``body`` is sent as JSON.
    ``aws_credentials`` (``AccessKeyId``, ``SecretAccessKey``, optional ``SessionToken``, as
    IAM CreateAccessKey or STS AssumeRole return them) sign the request with SigV4 for
    ``execute-api``, for routes authorized with AWS IAM. For a token, pass the
    ``Authorization`` header (see ``sign_in``).
    """
    data: bytes | None
    all_headers = dict(headers or {})
    if isinstance(body, dict | list):
        data = json.dumps(body).encode()
        all_headers.setdefault("content-type", "application/json")
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = body
    local_url = emulator.local_url(url)
    if aws_credentials is not None:
        all_headers = _sigv4_headers(
            emulator, method, local_url, data, all_headers, aws_credentials
        )
    request = urllib.request.Request(
        local_url, data=data, headers=all_headers, method=method.upper()
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            return HttpResponse(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, dict(error.headers.items()), error.read())


def _sigv4_headers(
    emulator: Emulator,
    method: str,
    url: str,
    data: bytes | None,
    headers: dict[str, str],
    credentials: dict[str, str],
) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method.upper(), url=url, data=data, headers=headers)
    SigV4Auth(
        Credentials(
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials.get("SessionToken"),
        ),
        "execute-api",
        emulator.region,
    ).add_auth(request)
    return dict(request.headers.items())


def create_user(emulator: Emulator, user_pool_id: str, username: str, password: str) -> None:
    """Create a confirmed user in a user pool, as README's "Try it" does with the CLI:
    ``admin-create-user`` (no invitation) then ``admin-set-user-password --permanent``."""
    cognito = emulator.client("cognito-idp")
    cognito.admin_create_user(UserPoolId=user_pool_id, Username=username, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=user_pool_id, Username=username, Password=password, Permanent=True
    )


def create_user_pool(emulator: Emulator, name: str) -> tuple[str, str]:
    """A new user pool outside any stack, with one app client; ``(pool id, client id)``."""
    pool_id = emulator.client("cognito-idp").create_user_pool(PoolName=name)["UserPool"]["Id"]
    return str(pool_id), add_app_client(emulator, pool_id, f"{name}-client")


def add_app_client(emulator: Emulator, user_pool_id: str, name: str) -> str:
    """Add an app client that signs in with ``USER_PASSWORD_AUTH`` to a pool; its id."""
    client = emulator.client("cognito-idp").create_user_pool_client(
        UserPoolId=user_pool_id, ClientName=name, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )
    return str(client["UserPoolClient"]["ClientId"])


def sign_in(
    emulator: Emulator,
    client_id: str,
    username: str,
    password: str,
    signed_in_seconds_ago: float = 0,
) -> dict[str, Any]:
    """``initiate-auth`` with ``USER_PASSWORD_AUTH``; return the ``AuthenticationResult``
    (``IdToken``, ``AccessToken``, ``RefreshToken``, ``ExpiresIn``).

    ``signed_in_seconds_ago`` gets tokens issued that long ago (``emulator.patches.cognito``
    shifts the pools' issue clock for this one call): past ``ExpiresIn`` (3600 s) they are
    expired, as the tokens of a user who signed in earlier are.
    """
    if signed_in_seconds_ago:
        _set_issue_clock(emulator, -signed_in_seconds_ago)
    try:
        result = emulator.client("cognito-idp").initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    finally:
        if signed_in_seconds_ago:
            _set_issue_clock(emulator, 0)
    return dict(result["AuthenticationResult"])


def _set_issue_clock(emulator: Emulator, offset_seconds: float) -> None:

    answer = http_request(
        emulator,
        "POST",
        emulator.endpoint_url + COGNITO_CLOCK_PATH,
        {"offset_seconds": offset_seconds},
    )
    if answer.status != 200:
        raise RuntimeError(f"the emulator refused to shift the issue clock: {answer}")


def wait_for(
    condition: Callable[[], T | None],
    description: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    emulator: Emulator | None = None,
) -> T:
    """Poll ``condition`` until it returns something truthy, and return that.

    Raises ``TimeoutError`` naming ``description`` (and, given the emulator, with the end
    of its log, where function output and delivery errors are) when the deadline passes.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            tail = f"\nServer log tail:\n{emulator.read_log()[-4000:]}" if emulator else ""
            raise TimeoutError(
                f"timed out after {timeout_seconds:.0f} s waiting for {description}{tail}"
            )
        time.sleep(POLL_INTERVAL_SECONDS)


def wait_for_execution(
    emulator: Emulator,
    state_machine_arn: str,
    name: str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Wait until an execution of the state machine (the one called ``name``, or any) has
    finished; return ``DescribeExecution`` of it (``status``, ``output``, ``error``, ``cause``)."""
    stepfunctions = emulator.client("stepfunctions")

    def finished() -> dict[str, Any] | None:
        executions = stepfunctions.list_executions(stateMachineArn=state_machine_arn)["executions"]
        for execution in executions:
            if name is not None and execution["name"] != name:
                continue
            if execution["status"] != "RUNNING":
                return dict(
                    stepfunctions.describe_execution(executionArn=execution["executionArn"])
                )
        return None

    what = f"execution {name or '(any)'} of {state_machine_arn} to finish"
    return wait_for(finished, what, timeout_seconds, emulator)


def wait_for_item(
    emulator: Emulator,
    table_name: str,
    key: dict[str, Any],
    predicate: Callable[[dict[str, Any]], bool] = lambda item: True,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Wait until ``GetItem`` (DynamoDB JSON ``key``) returns an item satisfying ``predicate``."""
    dynamodb = emulator.client("dynamodb")

    def found() -> dict[str, Any] | None:
        item = dynamodb.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")
        return item if item is not None and predicate(item) else None

    return wait_for(found, f"item {key} in {table_name}", timeout_seconds, emulator)


def structured_log_records(
    emulator: Emulator, log_group: str, message: str
) -> list[dict[str, Any]]:
    """The JSON log records (Powertools' structured logs) in ``log_group`` with ``message``."""
    logs = emulator.client("logs")
    records: list[dict[str, Any]] = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=log_group):
        for event in page["events"]:
            try:
                record = json.loads(event["message"])
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("message") == message:
                records.append(record)
    return records


def read_permissions_report(
    emulator: Emulator, stack: DeployedStack | None = None
) -> dict[str, Any]:
    """The emulator's permissions report (``emulator.patches.permissions_report``), for the roles
    of ``stack`` only when given: its ``summary`` is recomputed over those roles."""
    with urllib.request.urlopen(emulator.endpoint_url + PERMISSIONS_PATH, timeout=10) as response:
        report: dict[str, Any] = json.loads(response.read())
    if stack is None:
        return report
    names = set(stack.physical_ids_of_type("AWS::IAM::Role").values())
    roles = {arn: r for arn, r in report["roles"].items() if arn.rsplit("/", 1)[-1] in names}
    grants = [grant for role in roles.values() for grant in role["grants"]]
    summary = {
        "roles": len(roles),
        "statements": len({(arn, g["statement"]) for arn, r in roles.items() for g in r["grants"]}),
        "grants": len(grants),
        **{status: sum(g["status"] == status for g in grants) for status in GRANT_STATUSES},
        "denied": sum(len(role["denied"]) for role in roles.values()),
    }
    functions = set(stack.physical_ids_of_type("AWS::Lambda::Function").values())
    refused = [
        denial
        for denial in report["resource_policy_denied"]
        # arn:aws:lambda:<region>:<account>:function:<name>[:<alias or version>]
        if denial["resource"].split(":")[6] in functions
    ]
    summary["resource_policy_denied"] = len(refused)
    return {**report, "summary": summary, "roles": roles, "resource_policy_denied": refused}

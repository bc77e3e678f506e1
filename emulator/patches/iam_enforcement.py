"""Enforce IAM and KMS permissions for the roles of a deployed stack, as AWS would.

Who is checked: every principal that acts with a role of the stack.

- Lambda sandboxes get temporary credentials of their function's execution role from the
  emulated STS ``AssumeRole`` (``iam_principals.role_credentials``; session name = function
  name, as Lambda does); Step Functions' service integrations call with the state
  machine's role (``route_state_machine_calls`` makes moto's interpreter build its clients
  that way).
- The front door (``check_request``, called by ``glue.EmulatorApp`` before moto) maps the
  SigV4 access key id of a request to the assumed role (``iam_principals.caller_of``) and
  the request to actions and real resource ARNs (``iam_requests.describe_request``); each
  is evaluated against the role's identity policies (``iam_principals.identity_statements``,
  ``iam_policies.evaluate``). Requests signed with any other key (the user driving the
  emulator, the deployment) are not checked.
- A call on a resource encrypted with a customer-managed KMS key also needs the KMS actions
  the service makes with the caller's permissions (``kms_requirements``), on that key,
  allowed by the key policy directly or by an identity policy when the key policy
  delegates to the account (``iam_policies.kms_decision``).
- Calls the emulator makes for a role inside the server (the stream poller reading the
  stream, on-failure and dead-letter sends, Lambda writing its logs) go through
  ``authorize_role``; services invoking a function (API Gateway, EventBridge) through
  ``service_may_invoke`` (the function's resource policy: ``AWS::Lambda::Permission``).

A denial is answered as the service answers it (``denial_response``): the error code and
status of its protocol, and AWS's message naming the caller, the action and the resource.
Every decision is recorded for the permissions report (``permissions_report.ledger``).

``EMULATOR_IAM=off`` in the server's environment turns enforcement off (every call is
allowed, nothing is recorded); it is on by default.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from emulator.patches import iam_principals, iam_requests
from emulator.patches.iam_policies import (
    evaluate,
    kms_decision,
    parse_statements,
    principal_matches,
)
from emulator.patches.iam_principals import (
    Caller,
    caller_of,
    identity_statements,
    key_policy,
    role_credentials,
    session_arn,
)
from emulator.patches.kms_requirements import kms_requirements
from emulator.patches.permissions_report import build_report, ledger

logger = logging.getLogger("emulator")

#: Error code and HTTP status of a KMS denial, per service.
_KMS_DENIAL = {"sns": ("KMSAccessDenied", 400), "sqs": ("KmsAccessDenied", 400)}
#: Calls every principal may make (AWS authorizes them without a policy).
_ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})

_enabled = os.environ.get("EMULATOR_IAM", "on").lower() not in ("off", "0", "false")
_endpoint_url = ""


@dataclass(frozen=True)
class Denial:
    """A denied call: the action, the resource and AWS's message."""

    action: str
    resource: str
    message: str
    kms: bool = False


def enabled() -> bool:
    return _enabled


def install(endpoint_url: str) -> None:
    """Fix the log group ARN moto reports and route Step Functions' calls through roles."""
    global _endpoint_url
    _endpoint_url = endpoint_url
    from moto.logs.models import LogGroup

    original = LogGroup.get_cfn_attribute

    def get_cfn_attribute(self: Any, attribute_name: str) -> str:
        # CloudFormation's ``Arn`` of a log group ends in ``:*`` (it covers the streams).
        if attribute_name == "Arn":
            return f"{self.arn}:*"
        return str(original(self, attribute_name))

    LogGroup.get_cfn_attribute = get_cfn_attribute  # type: ignore[method-assign]
    iam_principals.install()


def authorize(caller: Caller, action: str, resource: str) -> Denial | None:
    """Evaluate one call of ``caller``; record it; return the denial, or None if allowed."""
    if action in _ALWAYS_ALLOWED:
        return None
    decision = evaluate(
        identity_statements(caller.role_arn), action, resource, _request_context(caller, resource)
    )
    if decision.allowed:
        ledger.allowed(caller.role_arn, decision.statements, action, resource)
        return None
    because = (
        "with an explicit deny in an identity-based policy"
        if decision.explicit_deny
        else f"because no identity-based policy allows the {action} action"
    )
    return _deny(caller, action, resource, because)


def _request_context(caller: Caller, resource: str) -> dict[str, str]:
    """The global condition keys of a call: ``aws:ResourceAccount`` is the account in the
    resource's ARN, or the caller's when the ARN has none (S3's; the emulator holds one
    account). The CDK bootstrap roles' policies test it."""
    parts = resource.split(":")
    account = parts[4] if len(parts) > 4 and parts[4] else caller.account
    return {"aws:ResourceAccount": account}


def authorize_kms(caller: Caller, action: str, key_arn: str) -> Denial | None:
    """Evaluate a KMS action on a key with its key policy and the caller's identity policy."""
    decision, decided_by = kms_decision(
        key_policy(key_arn), identity_statements(caller.role_arn), caller.arn, action, key_arn
    )
    if decision.allowed:
        if decided_by == "identity policy":
            ledger.allowed(caller.role_arn, decision.statements, action, key_arn)
        return None
    kind = "identity-based" if decided_by == "identity policy" else "resource-based"
    because = (
        "with an explicit deny"
        if decision.explicit_deny
        else f"because no {kind} policy allows the {action} action"
    )
    denial = _deny(caller, action, key_arn, because)
    return Denial(denial.action, denial.resource, denial.message, kms=True)


def _deny(caller: Caller, action: str, resource: str, because: str) -> Denial:
    message = (
        f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource} "
        f"{because}"
    )
    ledger.denied(caller.role_arn, caller.arn, action, resource, message)
    logger.warning("IAM: %s", message)
    return Denial(action, resource, message)


def authorize_role(role_arn: str, session: str, action: str, resource: str) -> Denial | None:
    """Authorize a call the emulator makes inside the server for a role, KMS included.

    Returns None when enforcement is off or the call (and the KMS calls it implies) is allowed.
    """
    if not _enabled or not role_arn:
        return None
    caller = Caller(session_arn(role_arn, session), role_arn, role_arn.split(":")[4])
    region = resource.split(":")[3] if resource.count(":") >= 5 else ""
    return authorize(caller, action, resource) or _authorize_kms_of(
        caller, action, resource, region
    )


def _authorize_kms_of(caller: Caller, action: str, resource: str, region: str) -> Denial | None:
    for kms_action, key_arn in kms_requirements(action, resource, caller.account, region):
        denial = authorize_kms(caller, kms_action, key_arn)
        if denial is not None:
            return denial
    return None


def service_may_invoke(function: Any, service: str, source_arn: str, invoked_arn: str = "") -> bool:
    """Whether ``function``'s resource policy lets ``service`` invoke it for ``source_arn``.

    As on AWS: an ``AWS::Lambda::Permission`` whose principal is the service and whose
    ``SourceArn`` (``ArnLike``) matches, granted on the ARN invoked: ``invoked_arn`` when it
    names an alias or version (a permission on the alias covers it, one on the unqualified
    function does not), else the unqualified function or ``$LATEST``. Always True when
    enforcement is off.
    """
    if not _enabled:
        return True
    statements = (
        parse_statements(function.policy.get_policy()["Policy"], "function policy")
        if function.policy.statements
        else ()
    )
    candidates = [s for s in statements if principal_matches(s, "Service", service)]
    context = {"aws:SourceArn": source_arn, "aws:SourceAccount": function.account_id}
    invoked_arn = invoked_arn or function.function_arn
    arns = (
        (invoked_arn, f"{invoked_arn}:$LATEST") if invoked_arn.count(":") == 6 else (invoked_arn,)
    )
    allowed = any(
        evaluate(candidates, "lambda:InvokeFunction", arn, context).allowed for arn in arns
    )
    if not allowed:
        ledger.resource_policy_denied(service, "lambda:InvokeFunction", invoked_arn, source_arn)
        logger.warning(
            "IAM: %s may not invoke %s for %s: no resource-based policy statement allows it",
            service,
            invoked_arn,
            source_arn,
        )
    return allowed


def api_gateway_may_invoke(
    function: Any, invoked_arn: str, api_id: str, stage: str, method: str, path: str
) -> bool:
    """Whether API Gateway may invoke ``function`` through ``invoked_arn`` (the ARN its
    integration URI names: the function's, or an alias's) for a request to ``api_id``.

    The source ARN is ``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>
    <path>``, which the function's permissions match with ``ArnLike``.
    """
    source_arn = (
        f"arn:aws:execute-api:{function.region}:{function.account_id}:{api_id}/{stage}/"
        f"{method.upper()}{path}"
    )
    return service_may_invoke(function, "apigateway.amazonaws.com", source_arn, invoked_arn)


def check_request(environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes] | None:
    """Authorize a request at the front door; return AWS's error answer, or None to serve it.

    Reads the body of query and JSON requests (and puts it back for moto).
    """
    if not _enabled:
        return None
    scope = iam_requests.access_key_and_scope(environ)
    if scope is None:
        return None
    caller = caller_of(scope[0])
    if caller is None:
        return None
    service, region = scope[2], scope[1]
    body = b""
    if service not in ("s3", "lambda"):
        body = _read_body(environ)
    call = iam_requests.describe_request(environ, body, service, caller.account, region)
    for action, resource in call.checks:
        key_arn = _key_arn(action, resource, caller.account, region)
        if key_arn is not None:  # a KMS call: the key policy has its say too
            denial = authorize_kms(caller, action, key_arn)
        else:
            denial = authorize(caller, action, resource) or _authorize_kms_of(
                caller, action, resource, region
            )
        if denial is not None:
            return denial_response(call, denial)
    return None


def _key_arn(action: str, resource: str, account: str, region: str) -> str | None:
    """The ARN of the key a KMS call names (by id, ARN, alias), as KMS authorizes it; else None."""
    if not action.startswith("kms:") or resource == "*":
        return None
    from moto.kms.models import kms_backends

    try:
        return str(kms_backends[account][region].describe_key(resource).arn)
    except Exception:  # no such key: KMS itself answers NotFoundException
        return None


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ.get("wsgi.input")
    body = stream.read(length) if stream is not None and length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return bytes(body)


def denial_response(
    call: iam_requests.ApiCall, denial: Denial
) -> tuple[int, dict[str, str], bytes]:
    """The error the service answers for a denied call, in its protocol."""
    code, status = "AccessDeniedException", 400
    if denial.kms and call.service in _KMS_DENIAL:
        code, status = _KMS_DENIAL[call.service]
    if call.protocol == "json":
        headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
        if call.service == "sqs" and not denial.kms:
            headers["x-amzn-query-error"] = "AccessDenied;Sender"
        return status, headers, json.dumps({"__type": code, "message": denial.message}).encode()
    if call.protocol == "rest-json":
        headers = {"content-type": "application/json", "x-amzn-ErrorType": code}
        body = {"Type": "User", "Message": denial.message, "message": denial.message}
        return 403, headers, json.dumps(body).encode()
    message = escape(denial.message)
    if call.protocol == "rest-xml":
        body_xml = f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
        return 403, {"content-type": "application/xml"}, body_xml.encode()
    if not denial.kms:
        code, status = ("AuthorizationError" if call.service == "sns" else "AccessDenied"), 403
    body_xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>emulator</RequestId></ErrorResponse>"
    )
    return status, {"content-type": "text/xml"}, body_xml.encode()


def report() -> dict[str, Any]:
    """The permissions report over every role in the emulator (see ``permissions_report``)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    roles = {
        role.arn: identity_statements(role.arn)
        for role in list(iam_backends[DEFAULT_ACCOUNT_ID]["aws"].roles.values())
    }
    return {"enforced": _enabled, **build_report(roles)}


def state_machine_clients() -> Callable[..., Any]:
    """A ``boto_client_for`` for moto's Step Functions interpreter that signs with the role."""
    import boto3
    from botocore.config import Config
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    # As moto's own clients: no retries (the state machine's Retry decides), its timeouts.
    timeout = TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS
    config = Config(
        parameter_validation=False,
        retries={"max_attempts": 0, "total_max_attempts": 1},
        connect_timeout=timeout,
        read_timeout=timeout,
    )
    # One client per region, service and credentials, kept: building one takes tens of
    # milliseconds of the emulator's CPU for each task of each execution, and boto3's default
    # session must not build clients in several executions' threads at once.
    clients: dict[tuple[str, str, str], Any] = {}
    clients_lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        credentials: dict[str, str] = {}
        role_arn = getattr(state_credentials, "role_arn", None)
        if _enabled and role_arn:
            credentials = role_credentials(role_arn, "StepFunctions", region)
        access_key_id = credentials.get("AWS_ACCESS_KEY_ID", "testing")
        with clients_lock:
            client = clients.get((region, service, access_key_id))
            if client is None:
                client = clients[(region, service, access_key_id)] = boto3.client(
                    service,
                    region_name=region,
                    endpoint_url=_endpoint_url,
                    aws_access_key_id=access_key_id,
                    aws_secret_access_key=credentials.get("AWS_SECRET_ACCESS_KEY", "testing"),
                    aws_session_token=credentials.get("AWS_SESSION_TOKEN"),
                    config=config,
                )
        return client

    return boto_client_for


def route_state_machine_calls() -> None:
    """Make every module of moto's interpreter build its clients with the state machine's role.

    The interpreter's modules import ``boto_client_for`` by name, so each binding is replaced.
    """
    import importlib
    import sys

    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client

    tasks = "moto.stepfunctions.parser.asl.component.state.exec.state_task"
    importlib.import_module(f"{tasks}.lambda_eval_utils")
    importlib.import_module(f"{tasks}.service.state_task_service_factory")

    replacement = state_machine_clients()
    original = boto_client.boto_client_for
    boto_client.boto_client_for = replacement  # modules imported later take this one
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and (
            getattr(module, "boto_client_for", None) is original
        ):
            module.boto_client_for = replacement  # type: ignore[attr-defined]

"""Enforce IAM and KMS permissions for the roles of a deployed stack, as AWS would.

Who is checked: every principal that acts with a role of the stack.

- Lambda sandboxes get temporary credentials of their function's execution role from the
  emulated STS ``AssumeRole`` (``role_credentials``; session name = function name, as
  Lambda does); Step Functions' service integrations call with the state machine's role
  (``install`` makes moto's interpreter build its clients that way).
- The front door (``check_request``, called by ``glue.EmulatorApp`` before moto) maps the
  SigV4 access key id of a request to the assumed role (moto's STS backend knows the
  keys it issued) and the request to actions and real resource ARNs
  (``iam_requests.describe_request``); each is evaluated against the role's identity
  policies (inline policies, from the template's ``AWS::IAM::Policy``, and attached
  managed policies: ``iam_policies.evaluate``). Requests signed with any other key (the
  user driving the emulator, the deployment) are not checked.
- Calls on a resource encrypted with a customer-managed KMS key also need the KMS actions
  the service makes with the caller's permissions (``KMS_ACTIONS``), on that key,
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

from emulator import iam_requests
from emulator.iam_policies import (
    Statement,
    evaluate,
    kms_decision,
    parse_statements,
    principal_matches,
)
from emulator.permissions_report import build_report, ledger

logger = logging.getLogger("emulator")

#: KMS actions a service performs with the caller's permissions, per (service action).
KMS_ACTIONS: dict[str, tuple[str, ...]] = {
    "sns:Publish": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:SendMessageBatch": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:ReceiveMessage": ("kms:Decrypt",),
    "s3:PutObject": ("kms:GenerateDataKey",),
    "s3:GetObject": ("kms:Decrypt",),
    "s3:GetObjectVersion": ("kms:Decrypt",),
}
#: DynamoDB data-plane calls on a table encrypted with a customer-managed key need
#: kms:Decrypt on it (DynamoDB decrypts the table key with the caller's permissions).
DYNAMODB_KMS_ACTIONS = ("kms:Decrypt",)
#: Error code and HTTP status of a KMS denial, per service.
_KMS_DENIAL = {"sns": ("KMSAccessDenied", 400), "sqs": ("KmsAccessDenied", 400)}
#: Calls every principal may make (AWS authorizes them without a policy).
_ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})

_enabled = os.environ.get("EMULATOR_IAM", "on").lower() not in ("off", "0", "false")
_endpoint_url = ""
_lock = threading.Lock()
_credentials: dict[tuple[str, str], dict[str, str]] = {}
_policies: dict[str, tuple[Any, tuple[Statement, ...]]] = {}
_key_policies: dict[str, tuple[str, tuple[Statement, ...]]] = {}


@dataclass(frozen=True)
class Caller:
    """A principal acting with a role: its session ARN and the role behind it."""

    arn: str
    role_arn: str
    account: str


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
    _keep_managed_policy_arns()


def _keep_managed_policy_arns() -> None:
    """moto ignores a role's ``ManagedPolicyArns`` from CloudFormation; keep them on the role."""
    from moto.iam.models import Role

    original = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(cls: Any, *args: Any, **kwargs: Any) -> Any:
        role = original(cls, *args, **kwargs)
        properties = (args[1] if len(args) > 1 else kwargs["cloudformation_json"])["Properties"]
        role.emulator_managed_policy_arns = list(properties.get("ManagedPolicyArns") or [])
        return role

    Role.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment,arg-type]


def session_arn(role_arn: str, session: str) -> str:
    parts = role_arn.split(":")
    return f"arn:{parts[1]}:sts::{parts[4]}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{session}"


def role_credentials(role_arn: str, session: str, region: str) -> dict[str, str]:
    """Temporary credentials of ``role_arn`` from the emulated STS (cached per session)."""
    with _lock:
        cached = _credentials.get((role_arn, session))
        if cached is not None:
            return cached
    from moto.sts.models import sts_backends

    account = role_arn.split(":")[4]
    assumed = sts_backends[account]["aws"].assume_role(
        region_name=region,
        role_session_name=session,
        role_arn=role_arn,
        policy="",
        duration=43200,
        external_id="",
    )
    credentials = {
        "AWS_ACCESS_KEY_ID": assumed.access_key_id,
        "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
        "AWS_SESSION_TOKEN": assumed.session_token,
    }
    with _lock:
        _credentials[(role_arn, session)] = credentials
    return credentials


def caller_of(access_key_id: str) -> Caller | None:
    """The assumed-role caller behind an access key id, or None (not a role's key)."""
    if not access_key_id.startswith("ASIA"):
        return None
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sts.models import sts_backends

    assumed = sts_backends[DEFAULT_ACCOUNT_ID]["aws"].get_assumed_role_from_access_key(
        access_key_id
    )
    if assumed is None:
        return None
    return Caller(assumed.arn, assumed.role_arn, assumed.account_id)


def identity_statements(role_arn: str) -> tuple[Statement, ...]:
    """The statements of a role's inline and attached managed policies (cached per version)."""
    from moto.iam.models import iam_backends

    account = role_arn.split(":")[4]
    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:
        return ()
    from_template = tuple(getattr(role, "emulator_managed_policy_arns", ()))
    fingerprint = (
        tuple(sorted(role.policies.items())),
        tuple((arn, p.default_version_id) for arn, p in sorted(role.managed_policies.items())),
        from_template,
    )
    cached = _policies.get(role_arn)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    statements: list[Statement] = []
    for name, document in sorted(role.policies.items()):
        statements.extend(parse_statements(document, name))
    for policy in role.managed_policies.values():
        for version in policy.versions:
            if version.is_default:
                statements.extend(parse_statements(version.document, policy.name))
    for arn in from_template:
        if arn not in role.managed_policies:
            statements.extend(_managed_policy_statements(account, arn))
    _policies[role_arn] = (fingerprint, tuple(statements))
    return tuple(statements)


def _managed_policy_statements(account: str, policy_arn: str) -> tuple[Statement, ...]:
    """A managed policy named in a template: the account's own, or AWS's (moto's copy)."""
    from moto.iam.models import iam_backends

    policy = iam_backends[account]["aws"].managed_policies.get(policy_arn)
    if policy is not None:
        default = next(v for v in policy.versions if v.is_default)
        return parse_statements(default.document, policy.name)
    name = policy_arn.rsplit("/", 1)[-1]
    document = _aws_managed_policies().get(name)
    if document is None or ":iam::aws:policy/" not in policy_arn:
        logger.warning("IAM: managed policy %s is unknown; it grants nothing here", policy_arn)
        return ()
    return parse_statements(document["Document"], name)


_aws_managed: dict[str, Any] = {}


def _aws_managed_policies() -> dict[str, Any]:
    """AWS managed policies as moto ships them, parsed on first use (1,500 documents)."""
    if not _aws_managed:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        _aws_managed.update(json.loads(aws_managed_policies_data))
    return _aws_managed


def authorize(caller: Caller, action: str, resource: str) -> Denial | None:
    """Evaluate one call of ``caller``; record it; return the denial, or None if allowed."""
    if action in _ALWAYS_ALLOWED:
        return None
    decision = evaluate(identity_statements(caller.role_arn), action, resource)
    if decision.allowed:
        ledger.allowed(caller.role_arn, decision.statements, action, resource)
        return None
    because = (
        "with an explicit deny in an identity-based policy"
        if decision.explicit_deny
        else f"because no identity-based policy allows the {action} action"
    )
    return _deny(caller, action, resource, because)


def authorize_kms(caller: Caller, action: str, key_arn: str) -> Denial | None:
    """Evaluate a KMS action on a key with its key policy and the caller's identity policy."""
    decision, decided_by = kms_decision(
        _key_policy(key_arn), identity_statements(caller.role_arn), caller.arn, action, key_arn
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


def kms_requirements(
    action: str, resource: str, account: str, region: str
) -> list[tuple[str, str]]:
    """``(kms action, key ARN)`` pairs a call on an encrypted resource needs."""
    service = action.split(":")[0]
    if service == "dynamodb":
        actions: tuple[str, ...] = DYNAMODB_KMS_ACTIONS
    else:
        actions = KMS_ACTIONS.get(action, ())
    if not actions:
        return []
    key = _customer_key_of(service, resource, account, region)
    if key is None:
        return []
    return [(kms_action, key) for kms_action in actions]


def _customer_key_of(service: str, resource: str, account: str, region: str) -> str | None:
    """The customer-managed key ARN that encrypts ``resource``, or None."""
    try:
        key_id = _key_id_of(service, resource, account, region)
    except Exception:  # the resource does not exist: the service itself answers that
        return None
    if not key_id or key_id.startswith("alias/aws/"):
        return None
    from moto.kms.models import kms_backends

    key_region = key_id.split(":")[3] if key_id.startswith("arn:") else region
    backend = kms_backends[account][key_region]
    try:
        key = backend.describe_key(key_id)
    except Exception:
        return None
    return None if key.key_manager == "AWS" else str(key.arn)


def _key_id_of(service: str, resource: str, account: str, region: str) -> str | None:
    if service == "sns":
        from moto.sns.models import sns_backends

        return str(sns_backends[account][region].get_topic(resource).kms_master_key_id or "")
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[account][region].get_queue(resource.rsplit(":", 1)[-1])
        return str(getattr(queue, "kms_master_key_id", None) or "")
    if service == "s3":
        from moto.s3.models import s3_backends

        bucket = s3_backends[account]["aws"].get_bucket(resource.split(":::", 1)[1].split("/")[0])
        return _find_key(bucket.encryption)
    if service == "dynamodb":
        from moto.dynamodb.models import dynamodb_backends

        table_name = resource.split(":table/", 1)[1].split("/")[0]
        table = dynamodb_backends[account][region].get_table(table_name)
        sse = table.sse_specification or {}
        return str(sse.get("KMSMasterKeyId") or "") if sse.get("SSEType") == "KMS" else None
    return None


def _find_key(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "KMSMasterKeyID" and inner:
                return str(inner)
            found = _find_key(inner)
            if found:
                return found
    if isinstance(value, list):
        for inner in value:
            found = _find_key(inner)
            if found:
                return found
    return None


def _key_policy(key_arn: str) -> tuple[Statement, ...]:
    from moto.kms.models import kms_backends

    account, region = key_arn.split(":")[4], key_arn.split(":")[3]
    try:
        document = kms_backends[account][region].describe_key(key_arn).policy
    except Exception:
        return ()
    cached = _key_policies.get(key_arn)
    if cached is not None and cached[0] == document:
        return cached[1]
    statements = parse_statements(document, "key policy")
    _key_policies[key_arn] = (document, statements)
    return statements


def service_may_invoke(function: Any, service: str, source_arn: str) -> bool:
    """Whether ``function``'s resource policy lets ``service`` invoke it for ``source_arn``.

    As on AWS: an ``AWS::Lambda::Permission`` whose principal is the service and whose
    ``SourceArn`` (``ArnLike``) matches. Always True when enforcement is off.
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
    allowed = any(
        evaluate(candidates, "lambda:InvokeFunction", arn, context).allowed
        for arn in (function.function_arn, f"{function.function_arn}:$LATEST")
    )
    if not allowed:
        ledger.resource_policy_denied(
            service, "lambda:InvokeFunction", function.function_arn, source_arn
        )
        logger.warning(
            "IAM: %s may not invoke %s for %s: no resource-based policy statement allows it",
            service,
            function.function_arn,
            source_arn,
        )
    return allowed


def api_gateway_may_invoke(function: Any, api_id: str, stage: str, method: str, path: str) -> bool:
    """Whether API Gateway may invoke ``function`` for a request to ``api_id``.

    The source ARN is ``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>
    <path>``, which the function's permissions match with ``ArnLike``.
    """
    source_arn = (
        f"arn:aws:execute-api:{function.region}:{function.account_id}:{api_id}/{stage}/"
        f"{method.upper()}{path}"
    )
    return service_may_invoke(function, "apigateway.amazonaws.com", source_arn)


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
        denial = authorize(caller, action, _resolve(action, resource, caller.account, region))
        if denial is None:
            denial = _authorize_kms_of(caller, action, resource, region)
        if denial is not None:
            return denial_response(call, denial)
    return None


def _resolve(action: str, resource: str, account: str, region: str) -> str:
    """A KMS key named by alias or id becomes its key ARN, as KMS authorizes it."""
    if not action.startswith("kms:") or resource == "*":
        return resource
    from moto.kms.models import kms_backends

    try:
        return str(kms_backends[account][region].describe_key(resource).arn)
    except Exception:
        return resource


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

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        credentials: dict[str, str] = {}
        role_arn = getattr(state_credentials, "role_arn", None)
        if _enabled and role_arn:
            credentials = role_credentials(role_arn, "StepFunctions", region)
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=_endpoint_url,
            aws_access_key_id=credentials.get("AWS_ACCESS_KEY_ID", "testing"),
            aws_secret_access_key=credentials.get("AWS_SECRET_ACCESS_KEY", "testing"),
            aws_session_token=credentials.get("AWS_SESSION_TOKEN"),
            config=Config(
                parameter_validation=False,
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=60,
                read_timeout=60,
            ),
        )

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

"""AWS_IAM authorization of API calls: a SigV4 signature from a known principal, allowed to invoke.

A REST method or HTTP route whose authorization type is ``AWS_IAM`` takes a request only
when it is signed with Signature Version 4 for the service ``execute-api`` by credentials
the emulator issued (an IAM user's access key, or STS credentials of an assumed role),
and when that principal's identity policies allow ``execute-api:Invoke`` on the route's
ARN, ``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>`` (the
requested path, without its leading slash). The signature is checked over the request as
the emulator received it (its host, path and query, the signed headers and the body).

Answers, as API Gateway gives them (403 each):

- unsigned: REST ``{"message":"Missing Authentication Token"}``, HTTP ``{"message":"Forbidden"}``;
- unknown access key or session token: ``The security token included in the request is invalid.``;
- wrong signature: ``The request signature we calculated does not match ...``;
- ``X-Amz-Date`` more than 5 minutes away: ``Signature expired: ...``;
- not allowed: ``{"Message":"User: <arn> is not authorized to perform: execute-api:Invoke
  on resource: <arn>"}``.

The policy decision goes through one function, ``allowed(principal_arn, action, resource)``,
so that a fuller evaluator can replace it. The one here reads the principal's identity
policies from moto's IAM backend (a user's inline, attached and group policies; an
assumed role's inline and attached policies) and applies: an explicit ``Deny`` wins, else
an ``Allow`` whose ``Action``/``NotAction`` and ``Resource``/``NotResource`` match
(``*`` and ``?`` wildcards; actions case-insensitive). It fails closed where it cannot
judge: an ``Allow`` with a ``Condition`` does not count, a ``Deny`` with one does.
Not evaluated: permissions boundaries, session policies, SCPs, the REST API's resource
policy, policy variables; presigned (query-string) signatures are not accepted.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Iterable
from typing import Any

from emulator.authorizers import Caller, Refused

INVOKE = "execute-api:Invoke"
#: API Gateway accepts a signature this many seconds either side of its clock.
SIGNATURE_WINDOW_SECONDS = 300
_INVALID_TOKEN = "The security token included in the request is invalid."
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
_MALFORMED = (
    "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."
)
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)$"
)


def route_arn(region: str, account_id: str, api_id: str, stage: str, method: str, path: str) -> str:
    """The ARN an ``execute-api:Invoke`` permission names for one request."""
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}/{path.lstrip('/')}"


def authorize(
    request: Any, api_id: str, stage: str, account_id: str, region: str, rest_api: bool
) -> Caller:
    """The verified caller of ``request``, if allowed to invoke the route; else ``Refused``."""
    header = request.headers.get("authorization", "")
    if not header:
        raise _forbidden("Missing Authentication Token" if rest_api else "Forbidden")
    found = _AUTHORIZATION.match(header)
    credential = found.group("credential").split("/") if found else []
    if found is None or len(credential) != 5:
        raise _forbidden(_MALFORMED)
    access_key_id, _, scope_region, service, _ = credential
    if service != "execute-api":
        raise _forbidden("Credential should be scoped to correct service: 'execute-api'.")
    if scope_region != region:
        raise _forbidden("Credential should be scoped to a valid region.")
    _check_date(request.headers.get("x-amz-date", ""))
    key = _access_key(account_id, access_key_id, request.headers)
    signed_headers = found.group("signed").split(";")
    if _signature(request, key.create_credentials(), signed_headers, region) != found.group(
        "signature"
    ):
        raise _forbidden(_SIGNATURE_MISMATCH)
    caller = _caller(key, account_id)
    resource = route_arn(region, account_id, api_id, stage, request.method, request.path)
    if not allowed(caller.arn, INVOKE, resource):
        denial = f"User: {caller.arn} is not authorized to perform: {INVOKE} on resource: "
        raise Refused(403, {"Message": denial + resource})
    return caller


def _forbidden(message: str) -> Refused:
    return Refused(403, {"message": message})


def _check_date(amz_date: str) -> None:
    try:
        signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise _forbidden(_SIGNATURE_MISMATCH) from None
    now = time.time()

    def stamp(seconds: float) -> str:
        return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))

    earliest, latest = now - SIGNATURE_WINDOW_SECONDS, now + SIGNATURE_WINDOW_SECONDS
    if signed_at < earliest:
        raise _forbidden(
            f"Signature expired: {amz_date} is now earlier than {stamp(earliest)} "
            f"({stamp(now)} - 5 min.)"
        )
    if signed_at > latest:
        raise _forbidden(
            f"Signature not yet current: {amz_date} is still later than {stamp(latest)} "
            f"({stamp(now)} + 5 min.)"
        )


def _access_key(account_id: str, access_key_id: str, headers: dict[str, str]) -> Any:
    from moto.iam.access_control import CreateAccessKeyFailure, create_access_key

    # moto's lookup reads the session token under its canonical name.
    session_token = headers.get("x-amz-security-token")
    names = {"X-Amz-Security-Token": session_token} if session_token is not None else {}
    try:
        return create_access_key(account_id, "aws", access_key_id, names)
    except CreateAccessKeyFailure:
        raise _forbidden(_INVALID_TOKEN) from None


def _signature(request: Any, credentials: Any, signed_headers: list[str], region: str) -> str:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    headers = {name: request.headers.get(name, "") for name in signed_headers}
    url = f"http://{request.headers.get('host', '')}{request.raw_uri}"
    aws_request = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    aws_request.context["timestamp"] = request.headers.get("x-amz-date", "")
    auth = SigV4Auth(credentials, "execute-api", region)
    canonical = auth.canonical_request(aws_request)
    return str(auth.signature(auth.string_to_sign(aws_request, canonical), aws_request))


def _caller(key: Any, account_id: str) -> Caller:
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id]["aws"]
    if hasattr(key, "_owner_user_name"):
        caller_id = backend.get_user(key._owner_user_name).id
    else:
        role_id = backend.get_role(key._owner_role_name).id
        caller_id = f"{role_id}:{key._session_name}"
    return Caller(key._access_key_id, account_id, key.arn, caller_id)


# --- the policy decision ------------------------------------------------------------------


def allowed(principal_arn: str, action: str, resource: str) -> bool:
    """Whether the identity policies of ``principal_arn`` allow ``action`` on ``resource``."""
    return policies_allow(_identity_policies(principal_arn), action, resource)


def policies_allow(documents: Iterable[Any], action: str, resource: str) -> bool:
    """Whether policy ``documents`` (JSON text or dicts) allow ``action`` on ``resource``:
    no matching ``Deny`` and at least one matching ``Allow`` without a ``Condition``."""
    permitted = False
    for statement in _statements(documents):
        if not _applies(statement, action, resource):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow" and "Condition" not in statement:
            permitted = True
    return permitted


def _identity_policies(principal_arn: str) -> list[Any]:
    """Policy documents of an IAM user (with its groups') or of the role behind an
    assumed-role session or role ARN; none for anything else."""
    from moto.iam.models import iam_backends

    # arn:aws:iam::<account>:user/<path>/<name>, arn:aws:sts::<account>:assumed-role/<role>/<s>
    _, _, _, _, account_id, resource = (principal_arn.split(":", 5) + [""] * 6)[:6]
    backend = iam_backends[account_id]["aws"]
    kind, _, rest = resource.partition("/")
    holders: list[Any] = []
    if kind == "user":
        user = backend.get_user(rest.rsplit("/", 1)[-1])
        holders = [user, *backend.get_groups_for_user(user.name)]
    elif kind in ("assumed-role", "role"):
        name = rest.split("/")[0] if kind == "assumed-role" else rest.rsplit("/", 1)[-1]
        holders = [backend.get_role(name)]
    documents: list[Any] = []
    for holder in holders:
        documents.extend(holder.policies.values())
        for policy in getattr(holder, "managed_policies", {}).values():
            documents.extend(v.document for v in policy.versions if v.is_default)
    return documents


def _statements(documents: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for document in documents:
        parsed = json.loads(document) if isinstance(document, str) else document
        statements = parsed.get("Statement", [])
        yield from [statements] if isinstance(statements, dict) else statements


def _applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    if "Action" in statement:
        action_ok = _any_matches(statement["Action"], action, ignore_case=True)
    else:
        action_ok = not _any_matches(statement.get("NotAction", []), action, ignore_case=True)
    if "Resource" in statement:
        resource_ok = _any_matches(statement["Resource"], resource)
    else:
        resource_ok = not _any_matches(statement.get("NotResource", []), resource)
    return action_ok and resource_ok


def _any_matches(patterns: str | list[str], value: str, ignore_case: bool = False) -> bool:
    for pattern in [patterns] if isinstance(patterns, str) else patterns:
        regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
        if re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0):
            return True
    return False

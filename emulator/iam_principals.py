"""Who acts with a role in the emulator, and what the role is granted.

Reads moto's STS, IAM and KMS backends, with caches so that a request costs a dictionary
lookup once a role's policies have been read:

- ``role_credentials``: temporary credentials of a role from the emulated STS
  ``AssumeRole`` (what Lambda and Step Functions get for their roles), one set per session;
- ``caller_of``: the assumed-role session behind a request's access key id;
- ``identity_statements``: a role's inline policies (the template's ``AWS::IAM::Policy``,
  which moto stores on the role), its attached managed policies and the
  ``ManagedPolicyArns`` of its template (moto drops those; ``install`` keeps them), AWS
  managed policies read from moto's copy; parsed once per version of the role's policies;
- ``key_policy``: a KMS key's policy statements.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from emulator.iam_policies import Statement, parse_statements

logger = logging.getLogger("emulator")

_lock = threading.Lock()
_credentials: dict[tuple[str, str], dict[str, str]] = {}
_policies: dict[str, tuple[Any, tuple[Statement, ...]]] = {}
_key_policies: dict[str, tuple[str, tuple[Statement, ...]]] = {}
_callers: dict[str, Caller] = {}


@dataclass(frozen=True)
class Caller:
    """A principal acting with a role: its session ARN and the role behind it."""

    arn: str
    role_arn: str
    account: str


def install() -> None:
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
    known = _callers.get(access_key_id)
    if known is not None:
        return known
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sts.models import sts_backends

    assumed = sts_backends[DEFAULT_ACCOUNT_ID]["aws"].get_assumed_role_from_access_key(
        access_key_id
    )
    if assumed is None:
        return None
    # A session's key never changes its role: remember it.
    caller = _callers[access_key_id] = Caller(assumed.arn, assumed.role_arn, assumed.account_id)
    return caller


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


def key_policy(key_arn: str) -> tuple[Statement, ...]:
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

"""Evaluate IAM policy documents for one request, the way AWS decides within one account.

Pure functions over plain policy documents (JSON strings or dicts, as IAM, KMS and Lambda
store them); no moto import, so the evaluator is tested on its own.

- ``parse_statements`` reads a document once into ``Statement`` objects (cache them).
- ``evaluate`` decides one (action, resource) for a set of statements: an explicit
  ``Deny`` wins, else any ``Allow`` allows, else the request is implicitly denied.
  ``Action``/``NotAction`` match case-insensitively with ``*`` and ``?`` wildcards
  (``kms:GenerateDataKey*`` matches ``kms:GenerateDataKey``), ``Resource``/``NotResource``
  case-sensitively with the same wildcards, ``Condition`` with the operators listed in
  ``CONDITION_OPERATORS`` (and their ``IfExists`` forms); a condition with another
  operator never matches, so an unsupported policy denies rather than allows.
- Resource-based policies (KMS key policies, a Lambda function's permissions) also
  match the ``Principal``: ``principal_matches`` with an AWS ARN or a service name.
- ``kms_decision`` combines a key policy and the caller's identity policy as KMS does:
  the key policy allows the caller directly, or delegates to IAM (a statement for the
  account root, ``arn:aws:iam::ACCOUNT:root``) and an identity policy allows.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Condition operators the evaluator implements (each also with ``IfExists``).
CONDITION_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Bool",
)
_NEGATED = frozenset({"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"})


@dataclass(frozen=True)
class Statement:
    """One policy statement, its lists normalised to tuples.

    ``source`` names where it came from (``"<policy name>#<index>"``) for reports.
    """

    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: Mapping[str, tuple[str, ...]] | None = None
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    source: str = ""

    def matched_actions(self, action: str) -> tuple[str, ...]:
        """The ``Action`` patterns that match ``action`` (empty when none does)."""
        if self.not_actions:
            hit = not any(wildcard_match(p, action, True) for p in self.not_actions)
            return ("NotAction",) if hit else ()
        return tuple(p for p in self.actions if wildcard_match(p, action, True))

    def covers_resource(self, resource: str) -> bool:
        if self.not_resources:
            return not any(wildcard_match(p, resource, False) for p in self.not_resources)
        return any(wildcard_match(p, resource, False) for p in self.resources)


@dataclass(frozen=True)
class Decision:
    """The outcome of one evaluation.

    ``allowed`` is False for both an explicit and an implicit deny; ``statements`` are the
    statements that decided (every matching ``Allow``, or the matching ``Deny``).
    """

    allowed: bool
    explicit_deny: bool = False
    statements: tuple[Statement, ...] = ()


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def parse_statements(document: str | Mapping[str, Any], name: str = "") -> tuple[Statement, ...]:
    """Read a policy document (JSON text or dict) into statements."""
    data = json.loads(document) if isinstance(document, str) else document
    raw = data.get("Statement", [])
    if isinstance(raw, dict):
        raw = [raw]
    statements = []
    for index, item in enumerate(raw):
        principal = item.get("Principal")
        if principal == "*":
            principals: Mapping[str, tuple[str, ...]] | None = {"AWS": ("*",)}
        elif isinstance(principal, dict):
            principals = {k: _as_tuple(v) for k, v in principal.items()}
        else:
            principals = None
        conditions = {
            operator: {key: _as_tuple(values) for key, values in entries.items()}
            for operator, entries in (item.get("Condition") or {}).items()
        }
        statements.append(
            Statement(
                effect=str(item.get("Effect", "Deny")),
                actions=_as_tuple(item.get("Action")),
                not_actions=_as_tuple(item.get("NotAction")),
                resources=_as_tuple(item.get("Resource")),
                not_resources=_as_tuple(item.get("NotResource")),
                principals=principals,
                conditions=conditions,
                source=f"{name}#{item.get('Sid') or index}",
            )
        )
    return tuple(statements)


def evaluate(
    statements: Iterable[Statement],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> Decision:
    """Decide ``action`` on ``resource``: explicit deny, else allow, else implicit deny."""
    context = context or {}
    allows = []
    for statement in statements:
        if not statement.matched_actions(action) or not statement.covers_resource(resource):
            continue
        if not conditions_hold(statement.conditions, context):
            continue
        if statement.effect == "Deny":
            return Decision(False, True, (statement,))
        allows.append(statement)
    return Decision(bool(allows), False, tuple(allows))


def principal_matches(statement: Statement, kind: str, principal: str) -> bool:
    """Whether a resource-policy statement names ``principal`` (``kind`` ``AWS`` or ``Service``).

    An ``AWS`` principal matches ``*``, its own ARN, or the role ARN behind an assumed-role
    session ARN (``arn:aws:sts::A:assumed-role/R/S`` is ``arn:aws:iam::A:role/R``'s session).
    """
    if statement.principals is None:
        return False
    names = statement.principals.get(kind, ())
    if "*" in statement.principals.get("AWS", ()):
        return True
    if principal in names:
        return True
    return kind == "AWS" and any(_role_of_session(principal, name) for name in names)


def _role_of_session(session_arn: str, role_arn: str) -> bool:
    found = re.fullmatch(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.+", session_arn)
    if not found:
        return False
    partition, account, role = found.groups()
    return (
        re.fullmatch(
            rf"arn:{re.escape(partition)}:iam::{account}:role/(.+/)?{re.escape(role)}", role_arn
        )
        is not None
    )


def account_root(principal_arn: str) -> str:
    """``arn:<partition>:iam::<account>:root`` of the account a principal ARN belongs to."""
    parts = principal_arn.split(":")
    return f"arn:{parts[1]}:iam::{parts[4]}:root"


def kms_decision(
    key_policy: Sequence[Statement],
    identity_policy: Sequence[Statement],
    principal_arn: str,
    action: str,
    key_arn: str,
) -> tuple[Decision, str]:
    """Decide a KMS action on a key as KMS does; return the decision and what decided it.

    The second value is ``"key policy"`` (the key policy names the caller), ``"identity
    policy"`` (the key policy delegates to the account and an identity policy allows), or,
    when denied, the policy that is missing the grant.
    """
    root = account_root(principal_arn)
    direct = [s for s in key_policy if principal_matches(s, "AWS", principal_arn)]
    delegating = [
        s
        for s in key_policy
        if principal_matches(s, "AWS", root)
        or parts_account(principal_arn) in (s.principals or {}).get("AWS", ())
    ]
    by_key = evaluate(direct, action, key_arn)
    by_account = evaluate(delegating, action, key_arn)
    by_identity = evaluate(identity_policy, action, key_arn)
    for decision in (by_key, by_account, by_identity):
        if decision.explicit_deny:
            return decision, "explicit deny"
    if by_key.allowed:
        return by_key, "key policy"
    if by_account.allowed and by_identity.allowed:
        return by_identity, "identity policy"
    return Decision(False), "identity policy" if by_account.allowed else "key policy"


def parts_account(principal_arn: str) -> str:
    parts = principal_arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def conditions_hold(
    conditions: Mapping[str, Mapping[str, Sequence[str]]], context: Mapping[str, str]
) -> bool:
    """Whether every condition block holds for the request's context keys."""
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, entries in conditions.items():
        base = operator.removesuffix("IfExists")
        if base not in CONDITION_OPERATORS:
            return False
        for key, expected in entries.items():
            value = lowered.get(key.lower())
            if value is None:
                if operator.endswith("IfExists") or base in _NEGATED:
                    continue
                return False
            if not _condition_value_holds(base, value, expected):
                return False
    return True


def _condition_value_holds(operator: str, value: str, expected: Sequence[str]) -> bool:
    if operator in ("StringEquals", "ArnEquals", "StringNotEquals", "ArnNotEquals"):
        hit = value in expected
    elif operator in ("StringEqualsIgnoreCase", "Bool"):
        hit = value.lower() in (e.lower() for e in expected)
    else:  # StringLike, ArnLike and their negations
        hit = any(wildcard_match(e, value, False) for e in expected)
    return not hit if operator in _NEGATED else hit


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, ignore_case: bool) -> bool:
    return _pattern(pattern, ignore_case).fullmatch(value) is not None

"""The one place acknowledgments of cdk-nag findings are made.

Every acknowledgment sits on the construct that causes the finding, names the
granular rule id, and carries a reason a security reviewer can check.
"""

from __future__ import annotations

import weakref
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
SERVERLESS = "Serverless"

# Reasons given so far for '*' resources, per role: an acknowledgment of the same id on
# the same construct replaces the previous one, so the reasons are kept and joined.
_UNSCOPED_REASONS: weakref.WeakKeyDictionary[IConstruct, list[str]] = weakref.WeakKeyDictionary()


def acknowledge(scope: IConstruct, pack: str, rule: str, reason: str) -> None:
    """Acknowledge finding ``rule`` of rule pack ``pack`` on ``scope`` and its children.

    ``rule`` is the finding id as cdk-nag prints it, with its granular part,
    e.g. ``AwsSolutions-IAM5[Resource::*]``.
    """
    if not reason.strip():
        raise ValueError(f"acknowledging {rule} on {scope.node.path} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{pack}::{rule}", reason=reason))


def acknowledge_unscoped_resources(role: IConstruct, reason: str) -> None:
    """Acknowledge ``*`` resources on ``role``'s policy, adding ``reason`` to earlier ones."""
    reasons = _UNSCOPED_REASONS.setdefault(role, [])
    if reason not in reasons:
        reasons.append(reason)
    acknowledge(role, AWS_SOLUTIONS, "AwsSolutions-IAM5[Resource::*]", " ".join(reasons))


def nag_resource_name(scope: IConstruct, value: str) -> str | None:
    """Render ``value`` (an ARN, possibly with tokens) as cdk-nag names it in finding ids.

    ``Fn::GetAtt [X, Arn]`` becomes ``<X.Arn>``, ``Ref X`` becomes ``<X>`` (pseudo
    parameters too: ``<AWS::Partition>``), ``Fn::Join`` with an empty separator is joined.
    Returns None for anything else (such a finding cannot be named in advance).
    """
    return nag_name_of_resolved(Stack.of(scope).resolve(value))


def nag_name_of_resolved(value: Any) -> str | None:
    """Like :func:`nag_resource_name`, for a value already resolved to CloudFormation JSON."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((function, argument),) = value.items()
    if function == "Ref" and isinstance(argument, str):
        return f"<{argument}>"
    if function == "Fn::GetAtt" and isinstance(argument, list) and len(argument) == 2:
        return f"<{argument[0]}.{argument[1]}>"
    if function == "Fn::Join" and isinstance(argument, list) and argument[0] == "":
        parts = [nag_name_of_resolved(part) for part in argument[1]]
        return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
    return None

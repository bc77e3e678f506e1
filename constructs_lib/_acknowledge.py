"""The one place acknowledgments of cdk-nag findings are made.

Every acknowledgment sits on the construct that causes the finding, names the
granular rule id, and carries a reason a security reviewer can check.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from ._template import when_references_resolve

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


def acknowledge_finding(scope: IConstruct, finding: str, *, reason: str) -> None:
    """Acknowledge a cdk-nag finding on ``scope`` and its children, with a reason.

    ``finding`` is the id cdk-nag prints, with its granular part when it has one:
    ``"AwsSolutions-COG2"``, ``"AwsSolutions-IAM5[Resource::<Table.Arn>/index/*]"``,
    ``"Serverless-SQSRedrivePolicy"``; the rule pack is read from its prefix. ``reason`` must
    say why the finding is acceptable there: it is what a security reviewer reads.
    """
    pack = finding.split("-", 1)[0]
    if pack not in (AWS_SOLUTIONS, SERVERLESS) or "-" not in finding:
        raise ValueError(
            f"acknowledging {finding!r} on {scope.node.path}: expected a finding id such as "
            "'AwsSolutions-COG2' or 'Serverless-SQSRedrivePolicy'"
        )
    acknowledge(scope, pack, finding, reason)


def acknowledge_unscoped_resources(role: IConstruct, reason: str) -> None:
    """Acknowledge ``*`` resources on ``role``'s policy, adding ``reason`` to earlier ones."""
    reasons = _UNSCOPED_REASONS.setdefault(role, [])
    if reason not in reasons:
        reasons.append(reason)
    acknowledge(role, AWS_SOLUTIONS, "AwsSolutions-IAM5[Resource::*]", " ".join(reasons))


def acknowledge_wildcard_resource(role: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge ``AwsSolutions-IAM5`` for ``resource`` (an ARN with a ``*``) on ``role``.

    The finding id embeds the resource as ``role``'s template spells it, which depends on
    where the ARN's parts come from: ``<Table.Arn>`` in the table's own stack, an
    ``ExportsOutput...`` import in another stack, a ``referenceto...`` parameter in a nested
    stack, the literal ARN of an imported resource. That spelling is settled only once
    references are resolved, so the id is computed then, in ``role``'s stack.
    """

    def acknowledge_as_rendered() -> None:
        name = nag_name_of_resolved(Stack.of(role).resolve(resource))
        acknowledge(role, AWS_SOLUTIONS, f"AwsSolutions-IAM5[Resource::{name}]", reason)

    when_references_resolve(role, acknowledge_as_rendered)


def nag_name_of_resolved(value: Any) -> str:
    """Render ``value`` (resolved CloudFormation JSON) as cdk-nag names it in finding ids.

    The same rules as cdk-nag's own renderer: ``Fn::GetAtt [X, Arn]`` becomes ``<X.Arn>``,
    ``Ref X`` becomes ``<X>`` (pseudo parameters too: ``<AWS::Partition>``), ``Fn::Join``
    joins its rendered parts with its delimiter, ``Fn::ImportValue`` and ``Fn::Sub`` render
    their argument (``${X}`` as ``<X>``), anything else is its compact JSON.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        for function in ("Fn::Join", "Fn::Sub", "Fn::GetAtt", "Fn::ImportValue", "Ref"):
            if function in value:
                return _render_function(function, value[function])
    return json.dumps(value, separators=(",", ":"))


def _render_function(function: str, argument: Any) -> str:
    if function == "Fn::Join":
        delimiter, parts = argument
        return str(delimiter).join(nag_name_of_resolved(part) for part in parts)
    if function == "Fn::GetAtt":
        resource, attribute = argument
        return f"<{nag_name_of_resolved(resource)}.{nag_name_of_resolved(attribute)}>"
    if function == "Ref":
        return f"<{nag_name_of_resolved(argument)}>"
    return nag_name_of_resolved(argument)

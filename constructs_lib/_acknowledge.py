"""The one place acknowledgments of cdk-nag findings are made.

Every acknowledgment sits on the construct that causes the finding, names the
granular rule id, and carries a reason a security reviewer can check.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
SERVERLESS = "Serverless"


def acknowledge(scope: IConstruct, pack: str, rule: str, reason: str) -> None:
    """Acknowledge finding ``rule`` of rule pack ``pack`` on ``scope`` and its children.

    ``rule`` is the finding id as cdk-nag prints it, with its granular part,
    e.g. ``AwsSolutions-IAM5[Resource::*]``.
    """
    if not reason.strip():
        raise ValueError(f"acknowledging {rule} on {scope.node.path} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{pack}::{rule}", reason=reason))

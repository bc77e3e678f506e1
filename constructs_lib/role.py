"""LeastPrivilegeRole: an IAM role that only ever holds scoped inline statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from ._acknowledge import acknowledge_unscoped_resources
from ._validation import fail


@jsii.implements(iam.IGrantable)
class LeastPrivilegeRole(Construct):
    """An IAM role with no AWS managed policy and no wildcard grants.

    Parameters
    ----------
    assumed_by:
        Service principal name (``"lambda.amazonaws.com"``, the default) or any
        ``iam.IPrincipal``.
    description:
        Role description. Default: none.
    permissions_boundary:
        A managed policy set as the permissions boundary of this role (and of no other).
        To bound every role of a stack, the ones the library's other constructs create
        included, call :func:`apply_permissions_boundary` on the stack. Default: none.

    Attributes
    ----------
    role:
        The ``iam.Role``. Grants from other constructs (``table.grant_read_data(role)``)
        land on its default inline policy.
    grant_principal:
        The role, so that the construct itself can be passed where aws-cdk takes an
        ``IGrantable`` (``table.grant_read_data(least_privilege_role)``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        assumed_by: str | iam.IPrincipal = "lambda.amazonaws.com",
        description: str | None = None,
        permissions_boundary: iam.IManagedPolicy | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        principal = self._principal(assumed_by)

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=principal,
            description=description,
            permissions_boundary=permissions_boundary,
        )

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The role: grants given to this construct land on its default policy."""
        return self.role

    def allow(
        self,
        actions: Sequence[str],
        resources: Sequence[str],
        *,
        conditions: Mapping[str, Any] | None = None,
    ) -> iam.PolicyStatement:
        """Allow ``actions`` on ``resources`` and return the statement added.

        Raises :class:`ConstructPropsError` for an empty list, a wildcard action
        (``"*"``, ``"s3:*"``, ``"s3:Get*"``) or a ``"*"`` resource: a grant that needs
        those is not least privilege. Use :meth:`allow_unscoped` for the few actions AWS
        does not scope to resources.
        """
        check_actions(self, actions)
        if isinstance(resources, str) or not resources:
            raise fail(self, "resources", resources, "allowed: a non-empty list of resource ARNs")
        for resource in resources:
            if not Token.is_unresolved(resource) and resource.strip() == "*":
                raise fail(
                    self,
                    "resources",
                    resource,
                    "allowed: resource ARNs; '*' grants the actions on every resource in the "
                    "account (use allow_unscoped() for actions without resource-level "
                    "permissions)",
                )
        statement = iam.PolicyStatement(
            actions=list(actions), resources=list(resources), conditions=dict(conditions or {})
        )
        self.role.add_to_principal_policy(statement)
        return statement

    def allow_unscoped(self, actions: Sequence[str], *, reason: str) -> iam.PolicyStatement:
        """Allow ``actions`` on ``"*"`` for services that offer no resource-level permission.

        ``reason`` is recorded as the acknowledgment of cdk-nag's IAM5 finding on this role;
        give one a reviewer can check (e.g. "X-Ray has no resource-level permissions").
        """
        check_actions(self, actions)
        if not reason.strip():
            raise fail(self, "reason", reason, "allowed: a non-empty explanation")
        statement = iam.PolicyStatement(actions=list(actions), resources=["*"])
        self.role.add_to_principal_policy(statement)
        acknowledge_unscoped_resources(self.role, reason)
        return statement

    def _principal(self, assumed_by: str | iam.IPrincipal) -> iam.IPrincipal:
        if isinstance(assumed_by, str):
            if not assumed_by.endswith(".amazonaws.com") and not Token.is_unresolved(assumed_by):
                raise fail(
                    self,
                    "assumed_by",
                    assumed_by,
                    "allowed: a service principal such as 'lambda.amazonaws.com', "
                    "or an iam.IPrincipal",
                )
            return iam.ServicePrincipal(assumed_by)
        return assumed_by


def check_actions(scope: Construct, actions: Sequence[str]) -> None:
    """Raise unless every action is ``service:Action`` with no wildcard."""
    if isinstance(actions, str) or not actions:
        raise fail(scope, "actions", actions, "allowed: a non-empty list of 'service:Action'")
    for action in actions:
        if Token.is_unresolved(action):
            continue
        if "*" in action or ":" not in action:
            raise fail(
                scope,
                "actions",
                action,
                "allowed: explicit 'service:Action' names; wildcards such as '*', "
                "'service:*' or 'service:Get*' are refused",
            )


def apply_permissions_boundary(scope: Construct, boundary: iam.IManagedPolicy) -> None:
    """Set ``boundary`` as the permissions boundary of every IAM role under ``scope``.

    Covers the roles this library creates inside its constructs (functions, workflows, the
    API Gateway logging role) and any other role under ``scope``, through aws-cdk's
    ``PermissionsBoundary`` aspect. Call it on the stack (or app) whose roles must be bounded;
    the library never applies a boundary beyond a role it was asked to.
    """
    iam.PermissionsBoundary.of(scope).apply(boundary)

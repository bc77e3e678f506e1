"""Template hygiene and late work: what can only be done once references are resolved."""

from __future__ import annotations

from collections.abc import Callable

import jsii
from aws_cdk import CfnResource
from constructs import IConstruct, IValidation


def when_references_resolve(scope: IConstruct, work: Callable[[], None]) -> None:
    """Run ``work`` once the app is prepared, before its templates are rendered.

    A reference to a resource of another stack (or of a parent or nested stack) becomes an
    ``Fn::ImportValue`` or a stack parameter only when the app is prepared: what a template
    will say about such a value is known from then on. Construction-time code sees the
    producer's ``Fn::GetAtt`` instead. Construct validations run after preparation and
    before rendering, so ``work`` runs as one (it may run again on a second synthesis; it
    must be idempotent).
    """
    scope.node.add_validation(_Run(work))


def drop_dependency_enforced_by_reference(resource: IConstruct, target: IConstruct) -> None:
    """Remove ``resource``'s DependsOn on ``target`` once dependencies are resolved.

    aws-cdk-lib makes a Lambda function (and a state machine) DependsOn its role although the
    resource's role property already references the role with ``Fn::GetAtt``, which
    orders them; cfn-lint reports the duplicate (W3005). The DependsOn on the role's
    default policy is kept: that one is not implied by any reference. Construct-level
    dependencies become DependsOn entries when the app is prepared.
    """
    source_cfn = resource.node.default_child
    target_cfn = target.node.default_child
    if not isinstance(source_cfn, CfnResource) or not isinstance(target_cfn, CfnResource):
        return
    when_references_resolve(resource, lambda: source_cfn.remove_resource_dependency(target_cfn))


@jsii.implements(IValidation)
class _Run:
    def __init__(self, work: Callable[[], None]) -> None:
        self._work = work

    def validate(self) -> list[str]:
        self._work()
        return []

"""Template hygiene: small corrections to what aws-cdk-lib renders, each with its reason."""

from __future__ import annotations

import jsii
from aws_cdk import CfnResource
from constructs import IConstruct, IValidation


def drop_dependency_enforced_by_reference(resource: IConstruct, target: IConstruct) -> None:
    """Remove ``resource``'s DependsOn on ``target`` once dependencies are resolved.

    aws-cdk-lib makes a Lambda function (and a state machine) DependsOn its role although the
    resource's role property already references the role with ``Fn::GetAtt``, which
    orders them; cfn-lint reports the duplicate (W3005). The DependsOn on the role's
    default policy is kept: that one is not implied by any reference. Construct-level
    dependencies become DependsOn entries when the app is prepared, so the removal runs
    in the validation phase, which comes after preparation and before rendering.
    """
    source_cfn = resource.node.default_child
    target_cfn = target.node.default_child
    if not isinstance(source_cfn, CfnResource) or not isinstance(target_cfn, CfnResource):
        return
    resource.node.add_validation(_DropDependency(source_cfn, target_cfn))


@jsii.implements(IValidation)
class _DropDependency:
    def __init__(self, source: CfnResource, target: CfnResource) -> None:
        self._source = source
        self._target = target

    def validate(self) -> list[str]:
        self._source.remove_resource_dependency(self._target)
        return []

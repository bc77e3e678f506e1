"""Delete a stack as CloudFormation does: dependents first, retained resources kept, events.

moto 5.2.5 deletes a stack's resources in a retry loop without resource events, skips only
``DeletionPolicy: Retain`` and leaves behind what it has no delete for: API Gateway REST and
HTTP APIs, the glue's Cognito pools and clients, Lambda aliases; a custom resource's
provider never hears of the deletion. Here:

- ``DeleteStack`` deletes in reverse dependency order (``template_graph``), reporting
  ``DELETE_IN_PROGRESS`` / ``DELETE_COMPLETE`` for each resource, ``DELETE_SKIPPED`` for
  one whose ``DeletionPolicy`` is ``Retain``, ``RetainExceptOnCreate`` or ``Snapshot``
  (it stays, with its data), and ``DELETE_FAILED`` with the reason when the service
  refuses; a stack with a failed resource ends ``DELETE_FAILED`` and can be deleted again;
- ``_DELETERS`` deletes what moto cannot (APIs and their parts, pools, clients, aliases);
- a custom resource's provider gets a ``Delete`` request (``custom_resources.send_request``).

The same deletion serves a rollback (``stack_events.fail_creation``) and the removal of
resources by an update (``stack_updates``).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from emulator.patches.stack_events import (
    RETAINED,
    physical_id_of,
    reason_of,
    record,
    set_status,
)
from emulator.patches.template_graph import dependency_order

logger = logging.getLogger("emulator")


def _resolved_properties(resource_map: Any, resource_json: dict[str, Any]) -> dict[str, Any]:
    from moto.cloudformation.parsing import clean_json

    return dict(clean_json(copy.deepcopy(resource_json.get("Properties") or {}), resource_map))


#: The moto backend a deleter calls, by the service part of a resource type.
_BACKENDS = {
    "ApiGateway": ("moto.apigateway.models", "apigateway_backends"),
    "ApiGatewayV2": ("moto.apigatewayv2.models", "apigatewayv2_backends"),
    "Cognito": ("moto.cognitoidp.models", "cognitoidp_backends"),
    "Lambda": ("moto.awslambda.models", "lambda_backends"),
}
#: The physical id, among a deleter's arguments.
_ID = "<physical id>"
#: ``Type -> (backend method, its arguments)`` for what moto cannot delete itself; an
#: argument is a resolved property's name, or ``_ID``.
_DELETERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "AWS::ApiGateway::RestApi": ("delete_rest_api", (_ID,)),
    "AWS::ApiGateway::Resource": ("delete_resource", ("RestApiId", _ID)),
    "AWS::ApiGateway::Method": ("delete_method", ("RestApiId", "ResourceId", "HttpMethod")),
    "AWS::ApiGateway::Stage": ("delete_stage", ("RestApiId", _ID)),
    "AWS::ApiGateway::Deployment": ("delete_deployment", ("RestApiId", _ID)),
    "AWS::ApiGatewayV2::Api": ("delete_api", (_ID,)),
    "AWS::ApiGatewayV2::Stage": ("delete_stage", ("ApiId", _ID)),
    "AWS::ApiGatewayV2::Route": ("delete_route", ("ApiId", _ID)),
    "AWS::ApiGatewayV2::Integration": ("delete_integration", ("ApiId", _ID)),
    "AWS::ApiGatewayV2::Authorizer": ("delete_authorizer", ("ApiId", _ID)),
    "AWS::Cognito::UserPool": ("delete_user_pool", (_ID,)),
    "AWS::Cognito::UserPoolClient": ("delete_user_pool_client", ("UserPoolId", _ID)),
    "AWS::Lambda::Alias": ("delete_alias", ("Name", "FunctionName")),
}


def _run_deleter(
    resource_type: str, physical_id: str, properties: dict[str, Any], resource_map: Any
) -> None:
    import importlib

    module, backends = _BACKENDS[resource_type.split("::")[1]]
    backend = getattr(importlib.import_module(module), backends)[resource_map._account_id][
        resource_map._region_name
    ]
    method, arguments = _DELETERS[resource_type]
    getattr(backend, method)(*(physical_id if a == _ID else properties[a] for a in arguments))


def delete_resource(
    resource_map: Any, instance: Any, resource_json: dict[str, Any], resolved: bool = False
) -> None:
    """Delete one created resource of a stack; raise what the service raised.

    ``resource_json`` is its template entry; ``resolved``: its ``Properties`` are already
    resolved (no ``Ref`` left in them)."""
    from moto.cloudformation.custom_model import CustomModel

    from emulator.patches import custom_resources

    if instance is None:
        return  # never created (a false condition, or a type moto has no model for)
    resource_type = resource_json.get("Type", "")
    properties = (
        dict(resource_json.get("Properties") or {})
        if resolved
        else _resolved_properties(resource_map, resource_json)
    )
    if isinstance(instance, CustomModel):
        custom_resources.send_request(resource_map, instance, "Delete", properties)
        return
    if resource_type not in _DELETERS:
        resource_map._delete_resource(instance, {**resource_json, "Properties": properties})
        return
    _run_deleter(resource_type, physical_id_of(instance), properties, resource_map)


def delete_resources(
    stack: Any,
    logical_ids: list[str],
    kept: frozenset[str],
    resources: dict[str, Any] | None = None,
) -> list[str]:
    """Delete these created resources of ``stack`` in the order given, with their events;
    one whose ``DeletionPolicy`` is in ``kept`` is skipped (``DELETE_SKIPPED``). ``resources``
    is the template entry of each (default: the stack's current template). Returns the
    logical ids that failed to delete."""
    resource_map = stack.resource_map
    resources = resource_map._resource_json_map if resources is None else resources
    failed = []
    for logical_id in logical_ids:
        instance = resource_map._parsed_resources.get(logical_id)
        resource_json = resources.get(logical_id, {})
        resource_type = resource_json.get("Type", "")
        physical_id = physical_id_of(instance)
        if resource_json.get("DeletionPolicy") in kept:
            record(stack, logical_id, resource_type, "DELETE_SKIPPED", None, physical_id)
            resource_map._parsed_resources.pop(logical_id, None)
            continue
        record(stack, logical_id, resource_type, "DELETE_IN_PROGRESS", None, physical_id)
        try:
            delete_resource(resource_map, instance, resource_json)
        except Exception as error:  # the service refused: DELETE_FAILED, as on AWS
            logger.warning("%s failed to delete", logical_id, exc_info=True)
            record(stack, logical_id, resource_type, "DELETE_FAILED", reason_of(error), physical_id)
            failed.append(logical_id)
            continue
        resource_map._parsed_resources.pop(logical_id, None)
        record(stack, logical_id, resource_type, "DELETE_COMPLETE", None, physical_id)
    return failed


def install() -> None:
    from moto.cloudformation.models import CloudFormationBackend, Stack

    def delete(self: Any) -> None:
        set_status(self, "DELETE_IN_PROGRESS", "User Initiated")
        resource_map = self.resource_map
        order = dependency_order(resource_map._resource_json_map)
        created = [lid for lid in order if resource_map._parsed_resources.get(lid) is not None]
        failed = delete_resources(self, list(reversed(created)), kept=RETAINED)
        if failed:
            set_status(
                self,
                "DELETE_FAILED",
                f"The following resource(s) failed to delete: [{', '.join(failed)}].",
            )
            raise _StackNotDeleted()
        self.output_map = type(self.output_map)(resource_map, {}, self.stack_id)  # no outputs
        set_status(self, "DELETE_COMPLETE")

    Stack.delete = delete  # type: ignore[method-assign]

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        stack = next(
            (s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)), None
        )
        if stack is None:
            return  # deleting a stack that is gone succeeds, as on AWS
        export_names = [
            name
            for name, export in self.exports.items()
            if export.exporting_stack_id == stack.stack_id
        ]
        try:
            stack.delete()
        except _StackNotDeleted:
            return  # the stack stays, DELETE_FAILED, as on AWS (DeleteStack itself succeeds)
        del self.stacks[stack.stack_id]
        self.deleted_stacks[stack.stack_id] = stack
        for export_name in export_names:
            self.exports.pop(export_name, None)

    CloudFormationBackend.delete_stack = delete_stack  # type: ignore[method-assign]


class _StackNotDeleted(Exception):
    """A resource failed to delete: the stack stays listed, ``DELETE_FAILED``."""

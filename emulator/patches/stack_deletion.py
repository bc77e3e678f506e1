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
from collections.abc import Callable
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


def _apigateway(account_id: str, region: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    return apigateway_backends[account_id][region]


def _apigatewayv2(account_id: str, region: str) -> Any:
    from moto.apigatewayv2.models import apigatewayv2_backends

    return apigatewayv2_backends[account_id][region]


def _cognito(account_id: str, region: str) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    return cognitoidp_backends[account_id][region]


def _lambda(account_id: str, region: str) -> Any:
    from moto.awslambda.utils import get_backend

    return get_backend(account_id, region)


#: ``Type -> delete(physical_id, resolved properties, account, region)`` for what moto
#: cannot delete itself.
_DELETERS: dict[str, Callable[[str, dict[str, Any], str, str], None]] = {
    "AWS::ApiGateway::RestApi": lambda pid, p, a, r: _apigateway(a, r).delete_rest_api(pid),
    "AWS::ApiGateway::Resource": lambda pid, p, a, r: _apigateway(a, r).delete_resource(
        p["RestApiId"], pid
    ),
    "AWS::ApiGateway::Method": lambda pid, p, a, r: _apigateway(a, r).delete_method(
        p["RestApiId"], p["ResourceId"], p["HttpMethod"]
    ),
    "AWS::ApiGateway::Stage": lambda pid, p, a, r: _apigateway(a, r).delete_stage(
        p["RestApiId"], pid
    ),
    "AWS::ApiGateway::Deployment": lambda pid, p, a, r: _apigateway(a, r).delete_deployment(
        p["RestApiId"], pid
    ),
    "AWS::ApiGatewayV2::Api": lambda pid, p, a, r: _apigatewayv2(a, r).delete_api(pid),
    "AWS::ApiGatewayV2::Stage": lambda pid, p, a, r: _apigatewayv2(a, r).delete_stage(
        p["ApiId"], pid
    ),
    "AWS::ApiGatewayV2::Route": lambda pid, p, a, r: _apigatewayv2(a, r).delete_route(
        p["ApiId"], pid
    ),
    "AWS::ApiGatewayV2::Integration": lambda pid, p, a, r: _apigatewayv2(a, r).delete_integration(
        p["ApiId"], pid
    ),
    "AWS::ApiGatewayV2::Authorizer": lambda pid, p, a, r: _apigatewayv2(a, r).delete_authorizer(
        p["ApiId"], pid
    ),
    "AWS::Cognito::UserPool": lambda pid, p, a, r: _cognito(a, r).delete_user_pool(pid),
    "AWS::Cognito::UserPoolClient": lambda pid, p, a, r: _cognito(a, r).delete_user_pool_client(
        p["UserPoolId"], pid
    ),
    "AWS::Lambda::Alias": lambda pid, p, a, r: _lambda(a, r).delete_alias(
        p["Name"], p["FunctionName"]
    ),
}


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
    deleter = _DELETERS.get(resource_type)
    if deleter is None:
        resource_map._delete_resource(instance, {**resource_json, "Properties": properties})
        return
    deleter(
        physical_id_of(instance),  # a REST method has none: its properties name it
        properties,
        resource_map._account_id,
        resource_map._region_name,
    )


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

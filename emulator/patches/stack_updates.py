"""Update a stack as CloudFormation does: in dependency order, in place, rolled back on failure.

moto 5.2.5 updates a stack by diffing the templates' raw JSON, adds resources out of order,
replaces a resource it has no update for by nothing at all (its logical id then resolves
to ``None``), reports no resource events and leaves a half-updated stack when a resource
fails. ``update_stack`` (run by ``ExecuteChangeSet`` and ``UpdateStack``) instead:

1. plans: a resource is added, removed, or modified when its template entry changed, when a
   parameter it names changed, or when a resource it depends on is modified (its
   attributes may have changed: a new code hash, a new version);
2. creates and updates in dependency order (``template_graph``) with ``CREATE_*`` /
   ``UPDATE_*`` events; an update is made in place where CloudFormation makes it in place:
   custom resources get an ``Update`` request (``custom_resources.send_request``),
   tables keep their items (``table_updates``), a REST API stage moves to the new
   deployment, buckets apply their notification and
   versioning settings, and every type moto can update (functions: code and configuration;
   event source mappings; roles and policies; queues; topics; rules; state machines...)
   is updated by moto; any other type is replaced: the old resource deleted, a new one
   created;
3. on success, deletes the removed resources (``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS``,
   dependents first), rebuilds the outputs, ``UPDATE_COMPLETE``;
4. on a failure (the resource's ``*_FAILED`` event carries the reason):
   ``UPDATE_ROLLBACK_IN_PROGRESS``, the resources it created are deleted and those it
   updated get their previous properties back, newest first, then
   ``UPDATE_ROLLBACK_COMPLETE``; the stack keeps its previous template, parameters and
   outputs, and a table keeps its items.
"""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass, field
from typing import Any

from emulator.patches.stack_deletion import delete_resources
from emulator.patches.stack_events import (
    RETAINED,
    RETAINED_ON_ROLLBACK,
    ResourceFailed,
    physical_id_of,
    reason_of,
    record,
    set_status,
)
from emulator.patches.table_updates import (
    TABLE_TYPES,
    ReplacementRequired,
    apply_settings,
    table_settings,
)
from emulator.patches.template_graph import dependency_order, dependents, references

#: Seconds an update waits for a custom resource it created to be answered.
CUSTOM_RESOURCE_TIMEOUT_SECONDS = 60.0


@dataclass
class _Plan:
    added: list[str] = field(default_factory=list)
    #: Resources whose template entry, or a parameter they name, changed.
    modified: set[str] = field(default_factory=set)
    #: Resources that depend on added or modified ones: updated if their properties,
    #: resolved when their turn comes, differ from before.
    dependents: set[str] = field(default_factory=set)
    removed: list[str] = field(default_factory=list)

    def changes(self, resource_map: Any, logical_id: str, before: dict[str, Any]) -> bool:
        if logical_id in self.modified:
            return True
        return logical_id in self.dependents and _properties(resource_map, logical_id) != before


@dataclass(frozen=True)
class _Template:
    """One side of an update: the template, its parameters and each resource's properties
    as they were resolved when applied."""

    body: str
    parsed: dict[str, Any]
    parameters: dict[str, Any]
    properties: dict[str, dict[str, Any]]


def update_stack(stack: Any, template: str, parameters: dict[str, Any]) -> None:
    """Apply ``template`` with ``parameters`` to a deployed ``stack`` (see the module doc)."""
    set_status(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    resource_map = stack.resource_map
    previous = _Template(
        stack.template,
        # Parsed again: moto's models write into the template they were created from.
        stack.parse_template(stack.template)
        if isinstance(stack.template, str)
        else stack.template_dict,
        dict(stack.parameters),
        {lid: _properties(resource_map, lid) for lid in _created(resource_map)},
    )
    parsed = stack.parse_template(template)
    plan = _plan(resource_map, previous, parsed, parameters)
    _load(resource_map, parsed, parameters)
    applied: list[tuple[str, str]] = []
    try:
        for logical_id in dependency_order(parsed["Resources"]):
            if logical_id in plan.added:
                _create(stack, logical_id)
                applied.append((logical_id, "added"))
            elif plan.changes(resource_map, logical_id, previous.properties.get(logical_id, {})):
                _update(stack, logical_id, previous.properties.get(logical_id))
                applied.append((logical_id, "modified"))
    except ResourceFailed as failure:
        _roll_back(stack, previous, parsed, applied, failure)
        return
    stack.template, stack.template_dict, stack.parameters = template, parsed, parameters
    stack.description = parsed.get("Description")
    stack.output_map = stack._create_output_map()
    if plan.removed:
        set_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        delete_resources(stack, plan.removed, kept=RETAINED, resources=previous.parsed["Resources"])
    set_status(stack, "UPDATE_COMPLETE")


def _created(resource_map: Any) -> list[str]:
    return [
        lid
        for lid in resource_map._resource_json_map
        if resource_map._parsed_resources.get(lid) is not None
    ]


def _properties(resource_map: Any, logical_id: str) -> dict[str, Any]:
    """The resource's properties, resolved against the stack as it is now."""
    from moto.cloudformation.parsing import clean_json

    resource_json = resource_map._resource_json_map[logical_id]
    return dict(clean_json(copy.deepcopy(resource_json.get("Properties") or {}), resource_map))


def _plan(
    resource_map: Any, previous: _Template, parsed: dict[str, Any], parameters: dict[str, Any]
) -> _Plan:
    old, new = previous.parsed.get("Resources", {}), parsed.get("Resources", {})
    changed_parameters = {
        name
        for name in set(previous.parameters) | set(parameters)
        if previous.parameters.get(name) != parameters.get(name)
    }
    plan = _Plan(
        added=[lid for lid in new if lid not in old],
        removed=[lid for lid in reversed(dependency_order(old)) if lid not in new],
    )
    created = set(_created(resource_map))
    plan.modified = {
        lid
        for lid in new
        if lid in created and (new[lid] != old[lid] or references(new[lid]) & changed_parameters)
    }
    plan.dependents = (dependents(new, plan.modified | set(plan.added)) & created) - plan.modified
    return plan


def _load(resource_map: Any, parsed: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Point the stack's resource map at a template: references now resolve against it."""
    resource_map._template = parsed
    resource_map.input_parameters = parameters
    resource_map.resolved_parameters = {}
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = parsed["Resources"]


def _create(stack: Any, logical_id: str) -> None:
    """Create an added resource (its events come from ``stack_events``); wait for a custom
    resource's provider to answer."""
    instance = stack.resource_map[logical_id]
    deadline = time.monotonic() + CUSTOM_RESOURCE_TIMEOUT_SECONDS
    while instance is not None and not instance.is_created():
        failure = getattr(instance, "failure_reason", None)
        if failure or time.monotonic() > deadline:
            raise ResourceFailed(logical_id, failure or "the custom resource did not answer")
        time.sleep(0.05)


def _update(stack: Any, logical_id: str, old_properties: dict[str, Any] | None) -> None:
    """Update one resource to its entry in the stack's current template, with its events."""
    resource_map = stack.resource_map
    resource_type = resource_map._resource_json_map[logical_id]["Type"]
    instance = resource_map._parsed_resources.get(logical_id)
    record(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS", None, physical_id_of(instance))
    try:
        updated = _update_resource(resource_map, logical_id, instance, old_properties or {})
    except Exception as error:  # any service error: the resource failed, as on AWS
        reason = reason_of(error)
        record(stack, logical_id, resource_type, "UPDATE_FAILED", reason, physical_id_of(instance))
        raise ResourceFailed(logical_id, reason) from error
    updated.cf_resource_type = resource_type
    updated.logical_resource_id = logical_id
    resource_map._parsed_resources[logical_id] = updated
    record(stack, logical_id, resource_type, "UPDATE_COMPLETE", None, physical_id_of(updated))


def _update_resource(
    resource_map: Any, logical_id: str, instance: Any, old_properties: dict[str, Any]
) -> Any:
    """Update ``instance`` in place where its type allows, else replace it; return the
    resource that now stands for ``logical_id``."""
    from moto.cloudformation.custom_model import CustomModel
    from moto.cloudformation.parsing import parse_resource_and_generate_name

    from emulator.patches import custom_resources

    resource_json = copy.deepcopy(resource_map._resource_json_map[logical_id])
    resource_class, resolved, name = parse_resource_and_generate_name(
        logical_id, resource_json, resource_map
    )
    properties = resolved.get("Properties") or {}
    if isinstance(instance, CustomModel):
        custom_resources.send_request(resource_map, instance, "Update", properties, old_properties)
        return instance
    try:
        return _update_in_place(
            resource_map, resource_class, instance, resolved, name, old_properties
        )
    except ReplacementRequired:
        return _replace(resource_map, logical_id, instance, old_properties)


def _update_in_place(
    resource_map: Any,
    resource_class: Any,
    instance: Any,
    resolved: dict[str, Any],
    name: str,
    old_properties: dict[str, Any],
) -> Any:
    from emulator.patches.s3_buckets import apply_bucket_settings

    resource_type = resolved["Type"]
    region = resource_map._region_name
    if resource_type in TABLE_TYPES:
        old = table_settings(old_properties, resource_type, region)
        apply_settings(instance, old, table_settings(resolved["Properties"], resource_type, region))
        return instance
    if resource_type == "AWS::ApiGateway::Stage":
        _point_stage_at_its_deployment(resource_map, instance, resolved["Properties"])
        return instance
    if hasattr(resource_class.update_from_cloudformation_json, "__isabstractmethod__"):
        raise ReplacementRequired(f"no in-place update for {resource_type}")
    updated = resource_class.update_from_cloudformation_json(
        original_resource=instance,
        new_resource_name=name,
        cloudformation_json=resolved,
        account_id=resource_map._account_id,
        region_name=region,
    )
    if resource_type == "AWS::S3::Bucket":
        apply_bucket_settings(updated, resolved["Properties"], resource_map._account_id, region)
    return updated


def _point_stage_at_its_deployment(
    resource_map: Any, instance: Any, properties: dict[str, Any]
) -> None:
    """A REST API stage is updated in place (a new deployment after a route changed); its
    name and API cannot change without a new stage."""
    from moto.apigateway.models import apigateway_backends

    if properties.get("StageName", instance.physical_resource_id) != instance.physical_resource_id:
        raise ReplacementRequired("the stage's name changed")
    backend = apigateway_backends[resource_map._account_id][resource_map._region_name]
    deployment = properties.get("DeploymentId")  # a Ref to moto's deployment gives the object
    backend.update_stage(
        properties["RestApiId"],
        instance.physical_resource_id,
        [{"op": "replace", "path": "/deploymentId", "value": physical_id_of(deployment)}],
    )


def _replace(
    resource_map: Any, logical_id: str, instance: Any, old_properties: dict[str, Any]
) -> Any:
    """Delete the old resource, then create the new one from the current template."""
    from moto.cloudformation.parsing import parse_and_create_resource

    from emulator.patches.stack_deletion import delete_resource

    old_json = {**resource_map._resource_json_map[logical_id], "Properties": old_properties}
    delete_resource(resource_map, instance, old_json, resolved=True)
    resource_map._parsed_resources.pop(logical_id, None)
    created = parse_and_create_resource(
        logical_id,
        copy.deepcopy(resource_map._resource_json_map[logical_id]),
        resource_map,
        account_id=resource_map._account_id,
        region_name=resource_map._region_name,
    )
    return created


def _roll_back(
    stack: Any,
    previous: _Template,
    parsed: dict[str, Any],
    applied: list[tuple[str, str]],
    failure: ResourceFailed,
) -> None:
    """Undo ``applied`` (newest first) and return the stack to ``previous``."""
    set_status(
        stack,
        "UPDATE_ROLLBACK_IN_PROGRESS",
        f"The following resource(s) failed to update: [{failure.logical_id}]. ",
    )
    resource_map = stack.resource_map
    added = [lid for lid, how in reversed(applied) if how == "added"]
    modified = [lid for lid, how in reversed(applied) if how == "modified"]
    if failure.logical_id in parsed["Resources"] and failure.logical_id in previous.properties:
        modified.insert(0, failure.logical_id)  # it may have changed before it failed
    attempted = {lid: _properties(resource_map, lid) for lid in modified}
    _load(resource_map, previous.parsed, previous.parameters)
    for logical_id in modified:
        # A resource that cannot go back says so in its UPDATE_FAILED event; go on.
        with contextlib.suppress(ResourceFailed):
            _update(stack, logical_id, attempted[logical_id])
    delete_resources(stack, added, kept=RETAINED_ON_ROLLBACK, resources=parsed["Resources"])
    stack.output_map = stack._create_output_map()
    set_status(stack, "UPDATE_ROLLBACK_COMPLETE")


def install() -> None:
    from moto.cloudformation.models import CloudFormationBackend

    def update_stack_with_rollback(
        self: Any,
        name: str,
        template: str,
        role_arn: str | None,
        parameters: list[dict[str, Any]],
        tags: dict[str, str] | None,
    ) -> Any:
        stack = self.get_stack(name)
        # UsePreviousValue of a parameter the stack was not given: its default applies again.
        resolved = {
            p["ParameterKey"]: p["ParameterValue"]
            if "ParameterValue" in p
            else stack.parameters.get(p["ParameterKey"])
            for p in parameters
        }
        update_stack(stack, template, {k: v for k, v in resolved.items() if v is not None})
        if tags is not None:
            stack.tags = tags
        return stack

    CloudFormationBackend.update_stack = update_stack_with_rollback  # type: ignore[method-assign]

"""Resource events, creation in dependency order, and rollback of a creation that fails.

moto 5.2.5 reports only stack-level events, creates a change set's resources out of
dependency order and answers a resource that fails to create with an internal error,
leaving the stack half-built. CloudFormation instead:

- reports ``CREATE_IN_PROGRESS`` then ``CREATE_COMPLETE`` (or ``CREATE_FAILED`` with the
  reason) for each resource, which ``cdk deploy`` prints as its progress;
- creates each resource after the ones it depends on (``template_graph``);
- on a failure, rolls back: ``ROLLBACK_IN_PROGRESS``, the resources created so far deleted
  (newest first, ``DELETE_*`` events), then ``ROLLBACK_COMPLETE``, from which the stack can
  only be deleted (the CDK CLI deletes and recreates it on the next deploy).

A custom resource is ``CREATE_COMPLETE`` when its provider answers ``SUCCESS``
(``custom_resources`` calls ``resource_ready``), and a ``FAILED`` answer fails the
creation the same way (``fail_creation``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from emulator.patches.template_graph import dependency_order

logger = logging.getLogger("emulator")

#: Deletion policies that keep the resource when its stack (or its creation) goes.
RETAINED = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})

_lock = threading.RLock()


class ResourceFailed(Exception):
    """A resource could not be created, updated or deleted; its event is already recorded."""

    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(f"{logical_id}: {reason}")
        self.logical_id = logical_id
        self.reason = reason


def record(
    stack: Any,
    logical_id: str,
    resource_type: str,
    status: str,
    reason: str | None = None,
    physical_id: str = "",
) -> None:
    """Append one resource event to ``stack`` (``DescribeStackEvents`` lists it newest first)."""
    from moto.cloudformation.models import Event

    with _lock:
        stack.events.append(
            Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=logical_id,
                physical_resource_id=physical_id,
                resource_type=resource_type,
                resource_status=status,
                resource_status_reason=reason,
                resource_properties=None,
            )
        )


def set_status(stack: Any, status: str, reason: str | None = None) -> None:
    """Set the stack's status and record the stack event CloudFormation reports for it."""
    with _lock:
        stack.status = status
        record(stack, stack.name, "AWS::CloudFormation::Stack", status, reason, stack.stack_id)


def stack_of(resource_map: Any) -> Any:
    """The moto ``Stack`` a ``ResourceMap`` belongs to (None while it is being built)."""
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[resource_map._account_id][resource_map._region_name]
    return backend.stacks.get(resource_map.stack_id)


def physical_id_of(instance: Any) -> str:
    return str(getattr(instance, "physical_resource_id", "") or "")


def reason_of(error: BaseException) -> str:
    """A failure's reason as CloudFormation words it: the service's message, else the error."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}" if not getattr(error, "code", None) else message


def install() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.models import Stack

    _report_each_creation(parsing)
    _create_in_dependency_order(parsing)
    create_resources = Stack.create_resources

    def create_resources_or_roll_back(self: Any) -> None:
        try:
            create_resources(self)
        except ResourceFailed as failure:
            fail_creation(self, failure.logical_id, failure.reason)

    Stack.create_resources = create_resources_or_roll_back  # type: ignore[method-assign]


def _report_each_creation(parsing: Any) -> None:
    create = parsing.parse_and_create_resource

    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kwargs: Any
    ) -> Any:
        condition = resource_json.get("Condition")
        stack = stack_of(resources_map)
        if stack is None or (condition and not resources_map.lazy_condition_map[condition]):
            return create(logical_id, resource_json, resources_map, **kwargs)
        resource_type = resource_json.get("Type", "")
        record(stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
        try:
            instance = create(logical_id, resource_json, resources_map, **kwargs)
        except ResourceFailed:
            record(stack, logical_id, resource_type, "CREATE_FAILED", "Resource creation cancelled")
            raise
        except Exception as error:  # any service error: the resource failed, as on AWS
            logger.warning("%s (%s) failed to create", logical_id, resource_type, exc_info=True)
            record(stack, logical_id, resource_type, "CREATE_FAILED", reason_of(error))
            raise ResourceFailed(logical_id, reason_of(error)) from error
        if instance is not None and instance.is_created():
            record(
                stack, logical_id, resource_type, "CREATE_COMPLETE", None, physical_id_of(instance)
            )
        return instance

    parsing.parse_and_create_resource = parse_and_create_resource


def _create_in_dependency_order(parsing: Any) -> None:
    def create(self: Any, template: dict[str, Any]) -> bool:
        self._template = template
        self._resource_json_map = template["Resources"]
        self.tags.update(
            {
                "aws:cloudformation:stack-name": self["AWS::StackName"],
                "aws:cloudformation:stack-id": self["AWS::StackId"],
            }
        )
        ready = True
        for logical_id in dependency_order(self._resource_json_map):
            instance = self[logical_id]
            ready = ready and (instance is None or instance.is_created())
        return ready

    parsing.ResourceMap.create = create


def resource_ready(stack: Any, logical_id: str, resource_type: str, instance: Any) -> None:
    """A resource that completes later (a custom resource whose provider answered)."""
    record(stack, logical_id, resource_type, "CREATE_COMPLETE", None, physical_id_of(instance))


def fail_creation(stack: Any, logical_id: str, reason: str) -> None:
    """Roll back a stack whose resource ``logical_id`` failed to create (its
    ``CREATE_FAILED`` event is recorded): delete what was created, newest first."""
    with _lock:
        if not stack.status.startswith("CREATE"):
            return  # already rolling back
        set_status(
            stack,
            "ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to create: [{logical_id}]. "
            "Rollback requested by user.",
        )
    resource_map = stack.resource_map
    created = [
        lid
        for lid in dependency_order(resource_map._resource_json_map)
        if resource_map._parsed_resources.get(lid) is not None
    ]
    failed = delete_resources(stack, list(reversed(created)), keep_retained=True)
    set_status(stack, "ROLLBACK_FAILED" if failed else "ROLLBACK_COMPLETE")


def delete_resources(
    stack: Any,
    logical_ids: list[str],
    keep_retained: bool,
    resources: dict[str, Any] | None = None,
) -> list[str]:
    """Delete these created resources of ``stack`` in the order given, with their events;
    a retained one is skipped (``DELETE_SKIPPED``) when ``keep_retained``. ``resources``
    is the template entry of each (default: the stack's current template). Returns the
    logical ids that failed to delete."""
    from emulator.patches.stack_deletion import delete_resource

    resource_map = stack.resource_map
    resources = resource_map._resource_json_map if resources is None else resources
    failed = []
    for logical_id in logical_ids:
        instance = resource_map._parsed_resources.get(logical_id)
        resource_json = resources.get(logical_id, {})
        resource_type = resource_json.get("Type", "")
        physical_id = physical_id_of(instance)
        if keep_retained and resource_json.get("DeletionPolicy") in RETAINED:
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

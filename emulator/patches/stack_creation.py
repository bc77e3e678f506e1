"""Create a stack's resources in dependency order, and roll back a creation that fails.

moto 5.2.5 creates a change set's resources out of dependency order and answers a resource
that fails to create with an internal error, leaving the stack half-built. CloudFormation
instead creates each resource after the ones it depends on (``template_graph``), reports
each one (``stack_events``) and, when one fails, rolls back: ``ROLLBACK_IN_PROGRESS``, the
resources created so far deleted (newest first), then ``ROLLBACK_COMPLETE``, from which the
stack can only be deleted (the CDK CLI deletes and recreates it on the next deploy).

A custom resource completes when its provider answers (``custom_resources``); creation
waits for the answers (up to ``PROVIDER_TIMEOUT_SECONDS``), so that a ``FAILED`` answer
rolls the stack back like any other failure, and a stack is complete when ``CreateStack``
or ``ExecuteChangeSet`` returns (the CDK CLI polls every 5 s).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from emulator.patches.stack_deletion import delete_resources
from emulator.patches.stack_events import (
    RETAINED_ON_ROLLBACK,
    ResourceFailed,
    physical_id_of,
    reason_of,
    record,
    set_status,
    stack_of,
)
from emulator.patches.template_graph import dependency_order

logger = logging.getLogger("emulator")

#: Stack statuses in which a resource that is referenced but not there yet is created.
_CREATING = frozenset(
    {"CREATE_PENDING", "CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"}
)
#: Seconds creation waits for custom resources' providers to answer.
PROVIDER_TIMEOUT_SECONDS = 30.0


def install() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.models import Stack

    _report_each_creation(parsing)
    _create_in_dependency_order(parsing)
    create_resources = Stack.create_resources

    def create_resources_or_roll_back(self: Any) -> None:
        try:
            create_resources(self)
            _wait_for_providers(self)
        except ResourceFailed as failure:
            fail_creation(self, failure.logical_id, failure.reason)

    Stack.create_resources = create_resources_or_roll_back  # type: ignore[method-assign]
    Stack.stack_resources = property(_existing_resources)  # type: ignore[assignment,method-assign]


def _existing_resources(stack: Any) -> list[Any]:
    """What ``ListStackResources`` and ``DescribeStackResources`` list: the resources that
    exist, in template order (moto's lazy map would create missing ones, or list ``None``
    for those a rollback deleted)."""
    resource_map = stack.resource_map
    found = (resource_map._parsed_resources.get(lid) for lid in resource_map._resource_json_map)
    return [resource for resource in found if resource is not None]


def _wait_for_providers(stack: Any) -> None:
    """Wait for the custom resources to answer; raise ``ResourceFailed`` for one that
    refused (its ``CREATE_FAILED`` event is recorded)."""
    deadline = time.monotonic() + PROVIDER_TIMEOUT_SECONDS
    while stack.status == "CREATE_IN_PROGRESS" and time.monotonic() < deadline:
        for logical_id, resource in list(stack.custom_resources.items()):
            failure = getattr(resource, "failure_reason", None)
            if failure:
                raise ResourceFailed(logical_id, failure)
        time.sleep(0.05)


def _report_each_creation(parsing: Any) -> None:
    create = parsing.parse_and_create_resource

    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kwargs: Any
    ) -> Any:
        condition = resource_json.get("Condition")
        stack = stack_of(resources_map)
        if stack is None or (condition and not resources_map.lazy_condition_map[condition]):
            return create(logical_id, resource_json, resources_map, **kwargs)
        if stack.status not in _CREATING:
            return None  # a reference read later (an output) must not create it again
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


def fail_creation(stack: Any, logical_id: str, reason: str) -> None:
    """Roll back a stack whose resource ``logical_id`` failed to create (its
    ``CREATE_FAILED`` event is recorded): delete what was created, newest first."""
    set_status(
        stack,
        "ROLLBACK_IN_PROGRESS",
        f"The following resource(s) failed to create: [{logical_id}]. Rollback requested by user.",
    )
    resource_map = stack.resource_map
    created = [
        lid
        for lid in dependency_order(resource_map._resource_json_map)
        if resource_map._parsed_resources.get(lid) is not None
    ]
    failed = delete_resources(stack, list(reversed(created)), kept=RETAINED_ON_ROLLBACK)
    stack.output_map = type(stack.output_map)(resource_map, {}, stack.stack_id)  # no outputs
    set_status(stack, "ROLLBACK_FAILED" if failed else "ROLLBACK_COMPLETE")

"""Resource events as CloudFormation reports them, and the stack status that goes with them.

moto 5.2.5 reports only stack-level events. CloudFormation reports each resource's
``CREATE_IN_PROGRESS`` / ``CREATE_COMPLETE`` (or ``CREATE_FAILED`` with the reason),
``UPDATE_*``, ``DELETE_*``, which ``cdk deploy`` prints as its progress and quotes when a
deployment fails. ``stack_creation``, ``stack_updates``, ``stack_deletion`` and
``custom_resources`` record them here.
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

#: Deletion policies that keep the resource when its stack is deleted or it is removed.
RETAINED = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})
#: ... and when a rollback deletes it because the failed operation created it.
RETAINED_ON_ROLLBACK = frozenset({"Retain", "Snapshot"})

_lock = threading.RLock()
_ONE_MILLISECOND = datetime.timedelta(milliseconds=1)


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

    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id,
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    with _lock:
        # Clients order events by time, in milliseconds: two in the same one would swap.
        if stack.events and event.timestamp <= stack.events[-1].timestamp + _ONE_MILLISECOND:
            event.timestamp = stack.events[-1].timestamp + _ONE_MILLISECOND
        stack.events.append(event)


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
    """The resource's physical id; moto's REST API deployments have only an ``id``."""
    return str(getattr(instance, "physical_resource_id", None) or getattr(instance, "id", ""))


def reason_of(error: BaseException) -> str:
    """A failure's reason as CloudFormation words it: the service's message, else the error."""
    if isinstance(error, ResourceFailed):
        return error.reason
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}" if not getattr(error, "code", None) else message


def resource_ready(stack: Any, logical_id: str, resource_type: str, instance: Any) -> None:
    """A resource that completes later (a custom resource whose provider answered)."""
    record(stack, logical_id, resource_type, "CREATE_COMPLETE", None, physical_id_of(instance))

"""Deliver EventBridge events to Lambda, Step Functions and SNS targets.

moto 5.2.5 matches events against rules (including S3 "Object Created" events from
buckets whose notification configuration enables EventBridge) but delivers only to log
groups, SQS queues, other buses and API destinations; a Lambda target raises
``NotImplementedError``, which the S3 path swallows. ``install`` wraps
``Rule.send_to_targets`` so that for these targets the event is delivered as EventBridge
delivers it:

- the event as EventBridge sends it: a unique ``id``, ``time`` as an ISO-8601 string (moto
  keeps a number), no internal ``ingestion-time``;
- the target's ``Input``, ``InputPath`` or ``InputTransformer`` applied;
- asynchronously: a Lambda target is invoked with ``InvocationType=Event`` (so Lambda's
  asynchronous retries apply), a state machine gets a ``StartExecution``, a topic a
  ``Publish``; the caller (``PutEvents``, ``PutObject``) does not wait.

A Lambda target is invoked only if the function's resource policy lets
``events.amazonaws.com`` invoke it for that rule (``AWS::Lambda::Permission`` with the
rule's ARN as ``SourceArn``); otherwise the delivery fails and is logged, as EventBridge
fails it. Other targets are left to moto. Not emulated: EventBridge's own retry policy
and dead-letter queues for targets, role-based target permissions.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("emulator")

#: Target services this module delivers to; the rest stay with moto.
DELIVERED_SERVICES = ("lambda", "states", "sns")


def as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """Return ``event`` in the shape EventBridge hands to targets."""
    from moto.events.utils import _BASE_EVENT_MESSAGE

    delivered = {k: v for k, v in event.items() if k != "ingestion-time"}
    if not delivered.get("id") or delivered.get("id") == _BASE_EVENT_MESSAGE["id"]:
        delivered["id"] = str(uuid.uuid4())
    when = delivered.get("time")
    if isinstance(when, int | float):
        delivered["time"] = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif not when:
        delivered["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """A target's payload: its ``Input``, ``InputPath`` or ``InputTransformer``, or the event."""
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        from jsonpath_ng.ext import parse  # type: ignore[attr-defined]

        found = parse(target["InputPath"]).find(event)
        return found[0].value if found else None
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser

        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event={**event, "ingestion-time": event.get("time")},  # type: ignore[typeddict-item]
        )
    return event


def _service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""


def _deliver(account_id: str, rule_arn: str, target: dict[str, Any], payload: Any) -> None:
    arn = target["Arn"]
    region = arn.split(":")[3]
    body = json.dumps(payload)
    try:
        service = _service(arn)
        if service == "lambda":
            from moto.awslambda.utils import get_backend as lambda_backend

            from emulator.iam_enforcement import service_may_invoke

            function = lambda_backend(account_id, region).get_function(arn)
            if not service_may_invoke(function, "events.amazonaws.com", rule_arn):
                raise PermissionError(f"events.amazonaws.com may not invoke {arn} for {rule_arn}")
            function.invoke(body, {"x-amz-invocation-type": "Event"}, {})
        elif service == "states":
            from moto.stepfunctions.responses import get_backend as sfn_backend

            sfn_backend(account_id, region).start_execution(
                state_machine_arn=arn, name=str(uuid.uuid4()), execution_input=body
            )
        elif service == "sns":
            from moto.sns.models import sns_backends

            sns_backends[account_id][region].publish(message=body, arn=arn)
    except Exception:  # delivery is asynchronous on AWS: log, never fail the sender
        logger.exception("EventBridge could not deliver to %s", arn)


def install() -> None:
    from moto.events.models import Rule

    original = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if _service(t.get("Arn", "")) in DELIVERED_SERVICES]
        theirs = [t for t in self.targets if t not in ours]
        if ours:
            event = as_delivered(original_event)
            for target in ours:
                payload = target_input(target, event)
                threading.Thread(
                    target=_deliver, args=(self.account_id, self.arn, target, payload), daemon=True
                ).start()
        if theirs:
            rest = copy.copy(self)
            rest.targets = theirs
            original(rest, original_event, transform_input)

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]

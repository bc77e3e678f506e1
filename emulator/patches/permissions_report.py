"""Record every IAM decision the emulator makes and report, per role, what was used.

``ledger`` collects, in the server process, each allowed call with the identity-policy
statements that allowed it, and each denied call with AWS's message. ``build_report``
turns that into the permissions report (``/_emulator/permissions``): for every role, every
granted ``(action, resources)`` of its identity policies, marked

- ``used``: a call the flows made matched it (an example call is given);
- ``explained``: no flow can use it in the emulator, and ``EXPLAINED_GRANTS`` says why;
- ``unused``: neither (a grant nobody has shown to be needed);

and the calls it was denied. A least-privilege stack whose flows all ran has no denied
call and no unused grant.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from emulator.patches.iam_policies import Statement, wildcard_match

#: Grants no emulated flow can exercise, keyed by action, with the reason each is there.
EXPLAINED_GRANTS: dict[str, str] = {
    "xray:PutTraceSegments": "Active tracing: the X-Ray SDK or Step Functions sends trace "
    "segments to X-Ray, which the emulator does not run (the SDK is off in its sandboxes).",
    "xray:PutTelemetryRecords": "Active tracing: sent with the trace segments to X-Ray, "
    "which the emulator does not run.",
    "xray:GetSamplingRules": "Active tracing of a state machine: Step Functions reads X-Ray "
    "sampling rules, and the emulator runs no X-Ray.",
    "xray:GetSamplingTargets": "Active tracing of a state machine: Step Functions reports "
    "sampling statistics to X-Ray, which the emulator does not run.",
    "logs:CreateLogDelivery": "Step Functions sets up the state machine's log delivery to "
    "its log group with these when the logging configuration is created or changed; the "
    "emulator delivers no execution logs.",
    "logs:GetLogDelivery": "Step Functions log delivery set-up (see logs:CreateLogDelivery).",
    "logs:UpdateLogDelivery": "Step Functions log delivery set-up (see logs:CreateLogDelivery).",
    "logs:DeleteLogDelivery": "Step Functions log delivery set-up (see logs:CreateLogDelivery).",
    "logs:ListLogDeliveries": "Step Functions log delivery set-up (see logs:CreateLogDelivery).",
    "logs:PutResourcePolicy": "Step Functions lets CloudWatch Logs accept its deliveries "
    "with a log resource policy when logging is configured; not emulated.",
    "logs:DescribeResourcePolicies": "Step Functions reads the log resource policies when "
    "logging is configured; not emulated.",
    "logs:DescribeLogGroups": "Read by the service that sets up delivery to a log group "
    "(Step Functions logging, API Gateway's account logging role); not emulated.",
    "logs:CreateLogGroup": "API Gateway writes REST API execution and access logs with the "
    "account's CloudWatch role; the emulator writes no API Gateway logs.",
    "logs:DescribeLogStreams": "API Gateway's account logging role (see logs:CreateLogGroup).",
    "sqs:GetQueueAttributes": "Granted by aws-cdk with an on-failure SQS destination of a "
    "stream mapping; the emulated poller only sends (sqs:SendMessage).",
    "sqs:GetQueueUrl": "Granted by aws-cdk with an on-failure SQS destination of a stream "
    "mapping; the emulated poller only sends (sqs:SendMessage).",
}
#: Grants explained only for some roles: ``(role name fragment, action) -> reason``.
EXPLAINED_ROLE_GRANTS: dict[tuple[str, str], str] = {
    ("ApiGatewayAccountLogging", "logs:CreateLogStream"): "API Gateway's account logging "
    "role writes REST API logs; the emulator writes no API Gateway logs.",
    ("ApiGatewayAccountLogging", "logs:PutLogEvents"): "API Gateway's account logging role "
    "writes REST API logs; the emulator writes no API Gateway logs.",
    ("ApiFunction", "sqs:SendMessage"): "The dead-letter queue takes failed asynchronous "
    "invocations; API Gateway invokes this function synchronously and its handler answers "
    "every event (a malformed one with a 500 response), so no flow can fail one.",
    **{
        ("DeploymentRole", action): "CodeDeploy shifts a function's alias to the new version "
        "with this role during a canary deployment, watching the deployment's alarms; the "
        "emulator runs no CodeDeploy (a stack is only created, never updated)."
        for action in (
            "lambda:GetAlias",
            "lambda:UpdateAlias",
            "lambda:GetProvisionedConcurrencyConfig",
            "cloudwatch:DescribeAlarms",
        )
    },
    ("ApiFunction", "dynamodb:GetItem"): "On the idempotency table, Powertools' DynamoDB "
    "persistence layer reads a record with GetItem only when a conditional PutItem on a "
    "taken key fails without returning the record it found; DynamoDB (and the emulator) "
    "return it, as the layer asks (ReturnValuesOnConditionCheckFailure).",
    ("ApiFunction", "dynamodb:DeleteItem"): "On the idempotency table, the persistence layer "
    "deletes a key's in-progress record when creating the order raises, so that the "
    "client's retry may run again; no flow makes a valid order's creation fail after its "
    "key is taken.",
    ("IngestFunction", "dynamodb:PutItem"): "On the idempotency table, the ingest function "
    "writes the checkpoint of a file only when the file holds more valid orders than one "
    "chunk (INGEST_CHUNK_SIZE, 250 by default); the demo's file holds two "
    "(tests/e2e/test_reliability_e2e.py writes checkpoints with a chunk of 3).",
    ("IngestFunction", "dynamodb:GetItem"): "On the idempotency table, the ingest function "
    "reads the checkpoint of a file only when the file holds more valid orders than one chunk "
    "(a file of one chunk never has one); the demo's file holds two "
    "(tests/e2e/test_reliability_e2e.py reads checkpoints with a chunk of 3).",
    ("IngestFunction", "s3:GetObject"): "The handler reads the version the event names "
    "(s3:GetObjectVersion); an event without a version id (an object written while the "
    "bucket's versioning is suspended) is read with s3:GetObject.",
}
#: Example calls kept per used grant.
EXAMPLES_PER_GRANT = 1


@dataclass
class _RoleRecord:
    used: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    denied: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


class Ledger:
    """Thread-safe record of allowed and denied calls, per role ARN."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roles: dict[str, _RoleRecord] = {}
        self._resource_policy_denials: list[dict[str, str]] = []

    def allowed(
        self, role_arn: str, statements: Iterable[Statement], action: str, resource: str
    ) -> None:
        call = f"{action} on {resource}"
        with self._lock:
            record = self._roles.setdefault(role_arn, _RoleRecord())
            for statement in statements:
                for pattern in statement.matched_actions(action):
                    examples = record.used.setdefault((statement.source, pattern), [])
                    if len(examples) < EXAMPLES_PER_GRANT:
                        examples.append(call)

    def denied(
        self, role_arn: str, caller_arn: str, action: str, resource: str, message: str
    ) -> None:
        with self._lock:
            record = self._roles.setdefault(role_arn, _RoleRecord())
            entry = record.denied.setdefault(
                (action, resource),
                {"caller": caller_arn, "action": action, "resource": resource, "count": 0},
            )
            entry["count"] += 1
            entry["message"] = message

    def resource_policy_denied(
        self, principal: str, action: str, resource: str, source: str
    ) -> None:
        with self._lock:
            self._resource_policy_denials.append(
                {"principal": principal, "action": action, "resource": resource, "source": source}
            )

    def snapshot(self) -> tuple[dict[str, _RoleRecord], list[dict[str, str]]]:
        with self._lock:
            roles = {
                arn: _RoleRecord(
                    {k: list(v) for k, v in r.used.items()},
                    {k: dict(v) for k, v in r.denied.items()},
                )
                for arn, r in self._roles.items()
            }
            return roles, list(self._resource_policy_denials)


ledger = Ledger()


def explanation(role_name: str, action: str) -> str | None:
    """Why a grant no flow can use is there, or None if the table has no reason for it."""
    for (fragment, explained_action), reason in EXPLAINED_ROLE_GRANTS.items():
        if fragment in role_name and wildcard_match(explained_action, action, True):
            return reason
    return next(
        (reason for key, reason in EXPLAINED_GRANTS.items() if wildcard_match(key, action, True)),
        None,
    )


def build_report(
    roles: dict[str, tuple[Statement, ...]], recorded_by: Ledger | None = None
) -> dict[str, Any]:
    """The permissions report for ``roles`` (role ARN -> identity-policy statements), from
    what ``recorded_by`` (default: the server's ``ledger``) saw."""
    recorded, resource_policy_denials = (recorded_by or ledger).snapshot()
    report_roles = {}
    totals = {"roles": 0, "statements": 0, "grants": 0, "used": 0, "explained": 0, "unused": 0}
    denied_total = 0
    for role_arn, statements in sorted(roles.items()):
        record = recorded.get(role_arn, _RoleRecord())
        grants = [
            _grant(role_arn, statement, pattern, record)
            for statement in statements
            if statement.effect == "Allow"
            for pattern in (statement.actions or ("NotAction",))
        ]
        for grant in grants:
            totals[grant["status"]] += 1
        totals["roles"] += 1
        totals["statements"] += sum(1 for s in statements if s.effect == "Allow")
        totals["grants"] += len(grants)
        denied = list(record.denied.values())
        denied_total += len(denied)
        report_roles[role_arn] = {"grants": grants, "denied": denied}
    return {
        "summary": {
            **totals,
            "denied": denied_total,
            "resource_policy_denied": len(resource_policy_denials),
        },
        "roles": report_roles,
        "resource_policy_denied": resource_policy_denials,
    }


def _grant(
    role_arn: str, statement: Statement, pattern: str, record: _RoleRecord
) -> dict[str, Any]:
    examples = record.used.get((statement.source, pattern))
    grant: dict[str, Any] = {
        "statement": statement.source,
        "action": pattern,
        "resources": list(statement.resources or statement.not_resources),
    }
    if examples:
        return {**grant, "status": "used", "example": examples[0]}
    reason = explanation(role_arn.rsplit("/", 1)[-1], pattern)
    if reason:
        return {**grant, "status": "explained", "reason": reason}
    return {**grant, "status": "unused"}

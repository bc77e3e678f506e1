"""The one helper that creates log groups: explicit, with a retention, never infinite."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._validation import fail
from .defaults import LOG_RETENTION


def default_retention() -> logs.RetentionDays:
    return logs.RetentionDays[LOG_RETENTION]


def owned_log_group(
    scope: Construct,
    construct_id: str,
    *,
    retention: logs.RetentionDays | None,
    prop: str = "log_retention",
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
) -> logs.LogGroup:
    """Create a log group owned by ``scope`` with a finite retention.

    ``retention`` defaults to :data:`constructs_lib.defaults.LOG_RETENTION`;
    ``RetentionDays.INFINITE`` is refused with a :class:`ConstructPropsError` naming ``prop``.
    """
    chosen = default_retention() if retention is None else retention
    if chosen == logs.RetentionDays.INFINITE:
        raise fail(scope, prop, "INFINITE", "allowed: a finite aws_logs.RetentionDays")
    return logs.LogGroup(scope, construct_id, retention=chosen, removal_policy=removal_policy)

"""Prop checks shared by the constructs. Unresolved tokens always pass unchecked."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration, Token
from constructs import Construct

from .errors import ConstructPropsError


def fail(scope: Construct, prop: str, value: object, allowed: str) -> ConstructPropsError:
    """Build the error for ``prop`` of ``scope`` (raise it at the call site)."""
    return ConstructPropsError(scope.node.path, prop, value, allowed)


def _is_token(value: object) -> bool:
    return Token.is_unresolved(value)


def check_int_range(
    scope: Construct, prop: str, value: int | None, low: int, high: int, unit: str = ""
) -> None:
    """Raise unless ``value`` is None, a token, or an integer in ``low..high``."""
    if value is None or _is_token(value):
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        suffix = f" ({unit})" if unit else ""
        raise fail(scope, prop, value, f"allowed {low}..{high}{suffix}")


def check_duration(
    scope: Construct, prop: str, value: Duration | None, low_seconds: int, high_seconds: int
) -> None:
    """Raise unless ``value`` is None, a token, or between the two bounds (inclusive)."""
    if value is None:
        return
    if not isinstance(value, Duration):
        raise fail(scope, prop, value, "allowed: an aws_cdk.Duration")
    if value.is_unresolved():
        return
    seconds = value.to_seconds()
    if not low_seconds <= seconds <= high_seconds:
        raise fail(
            scope,
            prop,
            value.to_human_string(),
            f"allowed {_human(low_seconds)}..{_human(high_seconds)}",
        )


def check_non_empty_string(scope: Construct, prop: str, value: object) -> None:
    """Raise unless ``value`` is a non-empty string (or a token)."""
    if _is_token(value):
        return
    if not isinstance(value, str) or not value.strip():
        raise fail(scope, prop, value, "allowed: a non-empty string")


def check_one_of(scope: Construct, prop: str, value: object, allowed: Iterable[object]) -> None:
    """Raise unless ``value`` is one of ``allowed``."""
    options = list(allowed)
    if value not in options:
        raise fail(scope, prop, value, "allowed: " + ", ".join(repr(o) for o in options))


def _human(seconds: int) -> str:
    if seconds % 86400 == 0 and seconds >= 86400:
        return f"{seconds // 86400} days"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"

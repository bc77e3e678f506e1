"""Renamed props: the old name keeps working for one release, with a warning."""

from __future__ import annotations

import warnings
from typing import TypeVar

from constructs import Construct

from ._validation import fail
from .errors import ConstructsLibDeprecationWarning

T = TypeVar("T")


def renamed_prop(
    scope: Construct, old_name: str, old_value: T | None, new_name: str, new_value: T | None
) -> T | None:
    """The value given under ``new_name``, or under ``old_name`` with a warning.

    Both at once is refused with a :class:`ConstructPropsError`: which one was meant is not
    for the library to guess.
    """
    if old_value is None:
        return new_value
    if new_value is not None:
        raise fail(
            scope,
            old_name,
            old_value,
            f"allowed: {new_name}= alone ({old_name} is its former name; give one of them)",
        )
    warnings.warn(
        f"{scope.node.path}: {type(scope).__name__}({old_name}=...) is deprecated and will "
        f"be removed in the next release; use {new_name}=... instead",
        ConstructsLibDeprecationWarning,
        stacklevel=3,
    )
    return old_value

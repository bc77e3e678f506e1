"""The one error type every construct in this library raises for invalid props, and the
warning it gives for a renamed prop or attribute."""

from __future__ import annotations


class ConstructPropsError(ValueError):
    """An invalid construct prop, reported at synth (construction) time.

    The message names the construct path, the prop, the value given and what is
    allowed, e.g. ``OrdersSample/Api: memory_size=64 is invalid: allowed 128..10240 (MB)``.
    """

    def __init__(self, construct_path: str, prop: str, value: object, allowed: str) -> None:
        self.construct_path = construct_path
        self.prop = prop
        self.value = value
        self.allowed = allowed
        super().__init__(f"{construct_path}: {prop}={value!r} is invalid: {allowed}")


class ConstructsLibDeprecationWarning(DeprecationWarning):
    """A prop or attribute of this library was renamed; the old name goes in the next release."""

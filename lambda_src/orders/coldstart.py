"""Python's cyclic garbage collector, paused while a Lambda function starts cold.

A cold start builds a few hundred thousand objects that live as long as the process: the
modules and classes of botocore and Powertools, and botocore's service models and endpoint
rules (the JSON of one model is tens of thousands of dicts and lists). The collector runs
after every 700 new container objects and walks them again and again, freeing almost nothing:
about a tenth of a function's init and first request (``bench/``, "Handler init + first
request").

On Lambda (``AWS_LAMBDA_FUNCTION_NAME`` is set), importing :mod:`orders` pauses the
collector. The end of the first invocation of any entry point (:func:`entry_point`), whether it
answered or raised, freezes what exists then (``gc.freeze``: kept out of every later
collection) and resumes the collector. Reference counting frees objects as usual throughout;
what the pause can keep is cyclic garbage made before the first invocation ended, which is
never reclaimed: a bounded, one-time cost. Outside Lambda (tests, tools) nothing changes.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from typing import Any, TypeVar

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

_paused = False


def pause() -> None:
    """Pause the collector if this process is a Lambda function's and it is running."""
    global _paused
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what the cold start built and resume the collector (once; later calls do
    nothing, as does a call when :func:`pause` did not pause it)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def entry_point(handler: _Handler) -> _Handler:
    """Decorate a Lambda entry point so that its first invocation ends the cold start."""

    @functools.wraps(handler)
    def invoke(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            resume()

    return invoke  # type: ignore[return-value]

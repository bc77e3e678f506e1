"""The garbage collector is paused for a Lambda cold start and resumed by the first invocation."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orders.coldstart as coldstart
import pytest

from tests.handlers.conftest import LAMBDA_SRC, LambdaContext

STACK_SOURCE = Path(__file__).resolve().parents[2] / "orders_sample" / "stack.py"
#: Every entry point the sample deploys, as its functions name them ("module.function").
ENTRY_POINTS = sorted(set(re.findall(r'"(orders\.\w+\.\w+)"', STACK_SOURCE.read_text())))

# Imports the module, then reports: paused after the import, then after a first invocation
# (of an empty event, which each entry point refuses), enabled and frozen.
_PROBE = """
import gc, importlib, json, sys
module_name, function_name = sys.argv[1].rsplit(".", 1)
module = importlib.import_module(module_name)
paused_after_import = not gc.isenabled()
class Context:
    function_name = "probe"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:probe"
    aws_request_id = "probe"
    def get_remaining_time_in_millis(self):
        return 10_000
try:
    getattr(module, function_name)({}, Context())
except Exception:
    pass
print(json.dumps({
    "paused_after_import": paused_after_import,
    "enabled_after_first_invocation": gc.isenabled(),
    "frozen": gc.get_freeze_count() > 0,
}))
"""


def probe(entry_point: str, *, on_lambda: bool) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(LAMBDA_SRC),
        "POWERTOOLS_SERVICE_NAME": "orders",
        "POWERTOOLS_METRICS_NAMESPACE": "Orders",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    if on_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "probe"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, entry_point],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_sample_deploys_the_entry_points_this_module_checks() -> None:
    assert ENTRY_POINTS == [
        "orders.api.handler",
        "orders.ingest.handler",
        "orders.stream.handler",
        "orders.workflow.backorder_item",
        "orders.workflow.process_order",
        "orders.workflow.ship_order",
    ]


def test_on_lambda_the_collector_is_paused_by_the_import_and_resumed_by_the_first_call() -> None:
    assert probe("orders.stream.handler", on_lambda=True) == {
        "paused_after_import": True,
        "enabled_after_first_invocation": True,
        "frozen": True,
    }


def test_outside_lambda_the_collector_is_left_alone() -> None:
    assert probe("orders.workflow.process_order", on_lambda=False) == {
        "paused_after_import": False,
        "enabled_after_first_invocation": True,
        "frozen": False,
    }


class _RecordingGc:
    """Stands in for the gc module inside orders.coldstart: records what is asked of it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def freeze(self) -> None:
        self.calls.append("freeze")

    def enable(self) -> None:
        self.calls.append("enable")


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_every_deployed_entry_point_ends_the_cold_start_even_when_it_fails(
    entry_point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module_name, function_name = entry_point.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name), function_name)
    recording = _RecordingGc()
    monkeypatch.setattr(coldstart, "gc", recording)
    monkeypatch.setattr(coldstart, "_paused", True)

    for _ in range(2):
        with contextlib.suppress(Exception):
            function({}, LambdaContext())  # an event no entry point accepts

    assert recording.calls == ["freeze", "enable"]  # at the first call only
    assert coldstart._paused is False


def test_resume_without_a_pause_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    recording = _RecordingGc()
    monkeypatch.setattr(coldstart, "gc", recording)
    monkeypatch.setattr(coldstart, "_paused", False)
    coldstart.resume()
    assert recording.calls == []

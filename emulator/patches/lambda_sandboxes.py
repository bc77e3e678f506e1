"""Lambda sandboxes: warm ``lambda_bootstrap`` processes, how many may live and when they end.

A sandbox serves one invocation at a time and keeps its module state between them, like
a warm Lambda execution environment. ``SandboxPool`` decides which sandbox an invocation
gets, as Lambda's scaling does within this machine's means:

- an idle sandbox of the same function configuration is reused; otherwise a new one
  starts, up to ``MAX_SANDBOXES_PER_FUNCTION`` per function and ``MAX_SANDBOXES`` in all
  (Lambda scales to the account's concurrency, 1,000 by default; each sandbox here is a
  Python process of 40-70 MB). At the overall bound the longest-idle sandbox of another
  function is ended to make room; when none is idle the invocation waits for one, up to
  ``WAIT_SECONDS``, and is then throttled (``ConcurrentInvocationLimitExceeded``);
- a function with reserved concurrency (``ReservedConcurrentExecutions``,
  ``PutFunctionConcurrency``) is throttled at once beyond it
  (``ReservedFunctionConcurrentInvocationLimitExceeded``), as Lambda does;
- a sandbox idle for ``IDLE_SECONDS`` is ended (Lambda ends idle environments after
  minutes, at a time of its choosing), so a load run does not leave its peak of
  processes behind; the next invocation is a cold start again.

Each bound is read from the server's environment when the pool is created:
``EMULATOR_LAMBDA_IDLE_SECONDS`` (default 60), ``EMULATOR_LAMBDA_MAX_SANDBOXES`` (default
16), ``EMULATOR_LAMBDA_MAX_SANDBOXES_PER_FUNCTION`` (default 8) and
``EMULATOR_LAMBDA_WAIT_SECONDS`` (default 30).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Seconds a function may spend importing its module before it is killed (Lambda's init limit).
INIT_TIMEOUT_SECONDS = 10.0
#: What ``lambda_bootstrap`` writes after an invocation's output (its ``END_MARKER``).
END_MARKER = "\x1eEMULATOR-INVOCATION-END "


@dataclass(frozen=True)
class PoolLimits:
    """The pool's bounds; ``from_environment`` documents the variables and defaults."""

    idle_seconds: float = 60.0
    max_sandboxes: int = 16
    max_per_function: int = 8
    wait_seconds: float = 30.0

    @classmethod
    def from_environment(cls) -> PoolLimits:
        """``EMULATOR_LAMBDA_IDLE_SECONDS`` (60), ``EMULATOR_LAMBDA_MAX_SANDBOXES`` (16),
        ``EMULATOR_LAMBDA_MAX_SANDBOXES_PER_FUNCTION`` (8), ``EMULATOR_LAMBDA_WAIT_SECONDS``
        (30); a bound below 1 sandbox is raised to 1."""
        defaults = cls()
        return cls(
            idle_seconds=_setting("IDLE_SECONDS", defaults.idle_seconds),
            max_sandboxes=max(1, int(_setting("MAX_SANDBOXES", defaults.max_sandboxes))),
            max_per_function=max(
                1, int(_setting("MAX_SANDBOXES_PER_FUNCTION", defaults.max_per_function))
            ),
            wait_seconds=_setting("WAIT_SECONDS", defaults.wait_seconds),
        )


def _setting(name: str, default: float) -> float:
    raw = os.environ.get(f"EMULATOR_LAMBDA_{name}", "")
    try:
        return float(raw) if raw else default
    except ValueError as error:
        raise ValueError(f"EMULATOR_LAMBDA_{name}={raw!r}: a number is required") from error


class Throttled(Exception):
    """No sandbox may serve the invocation: Lambda's ``TooManyRequestsException``.

    ``reason`` is Lambda's ``Reason`` field.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SandboxPool:
    """Hands out sandboxes per function configuration, within ``PoolLimits``."""

    def __init__(self, limits: PoolLimits, start: Callable[[Any, tuple[str, ...]], Sandbox]):
        self.limits = limits
        self._start = start
        self._changed = threading.Condition()
        self._idle: list[Sandbox] = []  # oldest release first
        self._live: set[Sandbox] = set()
        self._starting: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self._stopped = False
        threading.Thread(target=self._expire_idle, name="sandbox-expiry", daemon=True).start()

    def acquire(self, function: Any, key: tuple[str, ...]) -> Sandbox:
        """A sandbox for this configuration; raises ``Throttled`` as Lambda would."""
        name = key[0]
        with self._changed:
            reserved = getattr(function, "reserved_concurrency", None)
            if reserved is not None and self._in_flight.get(name, 0) >= int(reserved):
                raise Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
            self._in_flight[name] = self._in_flight.get(name, 0) + 1
        try:
            return self._take_or_start(function, key)
        except BaseException:
            self._finish(name)
            raise

    def release(self, sandbox: Sandbox) -> None:
        """Return a sandbox after its invocation: idle if it lives, forgotten if not."""
        with self._changed:
            if sandbox.alive and sandbox in self._live and not self._stopped:
                sandbox.idle_since = time.monotonic()
                self._idle.append(sandbox)
                ended = None
            else:
                self._live.discard(sandbox)
                ended = sandbox
        if ended is not None:
            ended.kill()
        self._finish(sandbox.key[0])

    def shutdown(self) -> None:
        """End every sandbox; invocations still waiting are throttled."""
        with self._changed:
            self._stopped = True
            sandboxes = list(self._live)
            self._live.clear()
            self._idle.clear()
            self._changed.notify_all()
        for sandbox in sandboxes:
            sandbox.kill()

    def _finish(self, name: str) -> None:
        with self._changed:
            self._in_flight[name] -= 1
            self._changed.notify_all()

    def _take_or_start(self, function: Any, key: tuple[str, ...]) -> Sandbox:
        deadline = time.monotonic() + self.limits.wait_seconds
        with self._changed:
            while True:
                self._end_stale(key)
                reusable = next((s for s in reversed(self._idle) if s.key == key), None)
                if reusable is not None:
                    self._idle.remove(reusable)
                    return reusable
                if self._make_room(key[0]):
                    self._starting[key[0]] = self._starting.get(key[0], 0) + 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopped:
                    raise Throttled("ConcurrentInvocationLimitExceeded")
                self._changed.wait(timeout=remaining)
        try:
            sandbox = self._start(function, key)
        finally:
            with self._changed:
                self._starting[key[0]] -= 1
        with self._changed:
            self._live.add(sandbox)
        return sandbox

    def _make_room(self, name: str) -> bool:
        """Whether a new sandbox of ``name`` may start, ending an idle one if that helps."""
        if self._count(name) >= self.limits.max_per_function:
            return self._end_idle(lambda s: s.key[0] == name)
        if len(self._live) + sum(self._starting.values()) >= self.limits.max_sandboxes:
            return self._end_idle(lambda s: True)
        return True

    def _count(self, name: str) -> int:
        return sum(1 for s in self._live if s.key[0] == name) + self._starting.get(name, 0)

    def _end_idle(self, eligible: Callable[[Sandbox], bool]) -> bool:
        victim = next((s for s in self._idle if eligible(s)), None)  # the longest idle
        if victim is None:
            return False
        self._forget(victim)
        return True

    def _end_stale(self, key: tuple[str, ...]) -> None:
        # A function whose code or configuration changed gets new sandboxes, as on Lambda.
        for stale in [s for s in self._idle if s.key[0] == key[0] and s.key != key]:
            self._forget(stale)

    def _forget(self, sandbox: Sandbox) -> None:
        self._idle.remove(sandbox)
        self._live.discard(sandbox)
        threading.Thread(target=sandbox.kill, daemon=True).start()  # never kill under the lock

    def _expire_idle(self) -> None:
        period = min(max(self.limits.idle_seconds / 4, 0.05), 5.0)
        while not self._stopped:
            time.sleep(period)
            cutoff = time.monotonic() - self.limits.idle_seconds
            with self._changed:
                for sandbox in [s for s in self._idle if s.idle_since <= cutoff]:
                    self._forget(sandbox)
                self._changed.notify_all()


class Sandbox:
    """One ``lambda_bootstrap`` process: a warm sandbox serving one invocation at a time."""

    def __init__(self, key: tuple[str, ...], command: list[str], env: dict[str, str], cwd: Path):
        self.key = key
        self.idle_since = time.monotonic()
        self._cold = True
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
        self._chunks: queue.Queue[bytes] = queue.Queue()
        self._pending = b""
        threading.Thread(target=self._read_output, daemon=True).start()

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self._process.poll()

    def run(self, request_id: str, event: Any, result_path: Path, timeout: float) -> str:
        """Send one invocation; return its output once the sandbox marks its end (or dies)."""
        cold, self._cold = self._cold, False
        request = {"request_id": request_id, "event": event, "result_path": str(result_path)}
        try:
            assert self._process.stdin is not None
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._drain()
        marker = f"{END_MARKER}{request_id}\n".encode()
        deadline = time.monotonic() + timeout + (INIT_TIMEOUT_SECONDS if cold else 0) + 5
        buffer = self._pending
        self._pending = b""
        while marker not in buffer:
            remaining = deadline - time.monotonic()
            try:
                chunk = self._chunks.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                self.kill()  # stuck past its timeout and the watchdog did not fire
                return buffer.decode(errors="replace")
            if not chunk:
                return buffer.decode(errors="replace")
            buffer += chunk
        output, _, self._pending = buffer.partition(marker)
        return output.decode(errors="replace")

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)

    def _drain(self) -> str:
        output = self._pending
        while True:
            try:
                chunk = self._chunks.get(timeout=1)
            except queue.Empty:
                break
            if not chunk:
                break
            output += chunk
        return output.decode(errors="replace")

    def _read_output(self) -> None:
        assert self._process.stdout is not None
        descriptor = self._process.stdout.fileno()
        while chunk := os.read(descriptor, 65536):
            self._chunks.put(chunk)
        self._chunks.put(b"")

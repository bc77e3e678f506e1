"""Start and stop the emulator: a moto server with this package's glue, on 127.0.0.1.

The server runs in a child process (``python -m emulator.patches.moto_process``) rather than a
thread of the caller, for three reasons:

- the glue patches moto's classes; doing that in a child keeps the caller's own moto
  (for example ``mock_aws`` in unit tests) untouched;
- the child and the Lambda subprocesses it starts form one process group, so stopping
  the emulator ends every process it started, even a function stuck in a loop;
- the server gets its own interpreter (and GIL) on a 2-core machine.

The child binds port 0 (the kernel picks a free port, no race with other servers) and
reports the port back through a pipe. It exits on its own when the caller's end of its
stdin closes, so it does not outlive a caller that dies without cleaning up.

Booting the server takes a few seconds (importing moto); ``start_emulator(wait=False)``
returns at once so that the caller can synthesize its app meanwhile; the emulator then
waits for the server the first time its endpoint is used.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emulator.protocol import API_PATH_PREFIX

#: The account moto uses unless told otherwise; deployed ARNs carry it.
ACCOUNT_ID = "123456789012"
#: The region everything is deployed to unless ``start_emulator(region=...)`` says otherwise.
DEFAULT_REGION = "us-east-1"
#: Credentials handed to every client and function; moto accepts any.
DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
#: Seconds to wait for the server to report its port before giving up.
START_TIMEOUT_SECONDS = 60.0
#: Seconds a stopping server gets to shut down before its process group is killed.
STOP_GRACE_SECONDS = 5.0

_EXECUTE_API_URL = re.compile(
    r"https://(?P<api_id>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?P<rest>/.*)?$"
)


class EmulatorStartError(RuntimeError):
    """The moto server did not start; the message carries the end of its log."""


class Emulator:
    """A running emulator: where it listens and how to build clients for it.

    Attributes
    ----------
    region:
        The region stacks are deployed to and clients are created for.
    account_id:
        The account every ARN carries (moto's default, ``123456789012``).
    work_dir:
        A temporary directory owned by this emulator (function code, invocation
        results, by default the server log). Removed when the emulator stops.
    log_path:
        The server log: moto's warnings, delivery errors and every function's output,
        one block per invocation. Read it when a flow does not do what you expect.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        port_fd: int,
        region: str,
        work_dir: Path,
        log_path: Path,
    ) -> None:
        self.region = region
        self.account_id = ACCOUNT_ID
        self.work_dir = work_dir
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = process
        self._port_fd: int | None = port_fd
        self._port = 0

    @property
    def port(self) -> int:
        """The TCP port the server bound on 127.0.0.1 (waits for the server if needed)."""
        self.wait_until_ready()
        return self._port

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``: every AWS client and every function talks to this."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_pid(self) -> int | None:
        """The server's process id, which is also the id of the process group holding
        every process it started (Lambda sandboxes); None once stopped."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait_until_ready(self, timeout_seconds: float = START_TIMEOUT_SECONDS) -> Emulator:
        """Block until the server reports its port; idempotent.

        Raises
        ------
        EmulatorStartError
            When the server exits or stays silent for ``timeout_seconds``.
        """
        if self._port:
            return self
        if self._port_fd is None or self._process is None:
            raise EmulatorStartError("the emulator was stopped before it was ready")
        deadline = time.monotonic() + timeout_seconds
        data = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._port_fd], [], [], 0.1)
            if ready:
                chunk = os.read(self._port_fd, 64)
                if not chunk:
                    break
                data += chunk
                if data.endswith(b"\n"):
                    self._port = int(data)
                    os.close(self._port_fd)
                    self._port_fd = None
                    return self
            if self._process.poll() is not None:
                break
        raise EmulatorStartError(
            f"moto server did not report a port (exit code {self._process.poll()}); "
            f"log tail:\n{self.read_log()[-2000:]}"
        )

    def client(self, service: str, **kwargs: Any) -> Any:
        """Return a boto3 client for ``service`` bound to this emulator."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            **DUMMY_CREDENTIALS,
            **kwargs,
        )

    def client_environment(self) -> dict[str, str]:
        """Environment variables that point an AWS SDK (or a child process) at this emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": DUMMY_CREDENTIALS["aws_session_token"],
        }

    def local_url(self, url: str) -> str:
        """Turn an API Gateway URL (``https://<api-id>.execute-api.<region>.amazonaws.com/...``,
        as stack outputs carry it) into the emulator's URL for the same API; other URLs are
        returned unchanged."""
        found = _EXECUTE_API_URL.match(url)
        if found is None:
            return url
        api_path = f"{API_PATH_PREFIX}{found.group('api_id')}{found.group('rest') or ''}"
        return f"{self.endpoint_url}{api_path}"

    def read_log(self) -> str:
        """Return the server log so far (function output included)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def __repr__(self) -> str:
        where = f"127.0.0.1:{self._port}" if self._port else "starting"
        return f"Emulator({where}, region={self.region!r}, running={self.running})"


@contextlib.contextmanager
def start_emulator(
    region: str = DEFAULT_REGION,
    python: str | None = None,
    log_path: str | Path | None = None,
    wait: bool = True,
) -> Iterator[Emulator]:
    """Start the emulator, yield it, and always stop it (no process or port left behind).

    Parameters
    ----------
    region:
        Region for deployed stacks and clients. Default ``us-east-1``.
    python:
        Interpreter for the server and for Lambda handlers. Default: the running
        interpreter (the project's virtualenv), which has boto3 and Powertools, the
        way the Lambda runtime plus the Powertools layer would.
    log_path:
        Where to write the server log (kept after stop). Default: inside the work
        directory, removed on stop.
    wait:
        Wait for the server before yielding (default). With ``False`` the emulator is
        yielded while the server boots; its first use waits (``wait_until_ready``).

    Raises
    ------
    EmulatorStartError
        When the server does not report a port within ``START_TIMEOUT_SECONDS``.
    """
    emulator = launch_emulator(region, python, log_path)
    try:
        if wait:
            emulator.wait_until_ready()
        yield emulator
    finally:
        stop_emulator(emulator)


def launch_emulator(
    region: str = DEFAULT_REGION,
    python: str | None = None,
    log_path: str | Path | None = None,
) -> Emulator:
    """Start the server process and return at once; pair with ``stop_emulator``.

    Prefer ``start_emulator``, which always stops what it started.
    """
    python = python or sys.executable
    work_dir = Path(tempfile.mkdtemp(prefix="emulator-"))
    log = Path(log_path) if log_path else work_dir / "server.log"
    port_read, port_write = os.pipe()
    package_root = str(Path(__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "EMULATOR_WORK_DIR": str(work_dir),
        "EMULATOR_REGION": region,
        "EMULATOR_PYTHON": python,
        "EMULATOR_PORT_FD": str(port_write),
        # The package must be importable by the child however the caller found it.
        "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p),
    }
    # The child's clients must not pick up the caller's real credentials or profile.
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    try:
        with open(log, "ab") as log_file:
            process = subprocess.Popen(
                [python, "-m", "emulator.patches.moto_process"],
                stdin=subprocess.PIPE,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                pass_fds=(port_write,),
                start_new_session=True,
            )
    except BaseException:
        os.close(port_read)
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    finally:
        os.close(port_write)
    return Emulator(process, port_read, region, work_dir, log)


def stop_emulator(emulator: Emulator) -> None:
    """Stop the server and every process it started, then remove its work directory.

    Closing the child's stdin asks it to shut down cleanly (it kills and reaps running
    functions); whatever is still alive after ``STOP_GRACE_SECONDS`` is killed through
    the process group the child leads. Safe to call twice.
    """
    process = emulator._process
    if process is not None:
        if process.stdin is not None and not process.stdin.closed:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        # Anything the child started and left running is still in its process group.
        _signal_group(process.pid, signal.SIGKILL)
        emulator._process = None
    if emulator._port_fd is not None:
        os.close(emulator._port_fd)
        emulator._port_fd = None
    shutil.rmtree(emulator.work_dir, ignore_errors=True)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)

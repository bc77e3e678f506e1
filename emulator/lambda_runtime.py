"""Run deployed Lambda functions as local Python subprocesses instead of Docker containers.

moto invokes a function by starting a Docker container (``LambdaFunction._invoke_lambda``);
there is no Docker here. ``install`` replaces ``LambdaFunction.invoke``, the one method every
caller goes through (the Invoke API, S3 and SNS notifications, DynamoDB streams, EventBridge
targets, CloudFormation custom resources, Step Functions tasks), with
``SubprocessRuntime.invoke``:

- the code is the zip moto stored for the function (from the CDK asset uploaded to S3, or an
  inline ``ZipFile``), unpacked once per code hash;
- a sandbox is a ``python lambda_bootstrap.py`` process that imports the handler once
  (the cold start, reported as ``Init Duration``) and then serves invocations one at a
  time, keeping module-level state like a warm Lambda sandbox; concurrent invocations get
  more sandboxes; a timeout, a crash or a failed init ends a sandbox, and a changed
  function (code, handler, environment, timeout) gets new ones;
- the environment is the function's variables plus Lambda's reserved ones, with
  ``AWS_ENDPOINT_URL`` pointing back at the emulator and temporary credentials of the
  function's execution role from the emulated STS (``iam_principals.role_credentials``;
  dummy ones when enforcement is off), and nothing inherited from the server process;
- the result is what Lambda returns: the handler's JSON, or a ``FunctionError: Unhandled``
  with ``{"errorType": <exception class name>, "errorMessage": ...}``;
- ``InvocationType=Event`` (from the Invoke API, and EventBridge targets here) returns at
  once and runs the function in the background, retrying a failed invocation twice (or
  as the function's event-invoke config says) after ``ASYNC_RETRY_DELAYS_SECONDS``,
  scaled down from Lambda's one and two minutes so that tests can observe them, then
  sending the event to the function's ``DeadLetterConfig`` queue or topic, as Lambda does,
  with the function's role (a send the role may not make is lost, as on AWS);
- the output (START/END/REPORT lines around what the handler printed) goes to the
  function's CloudWatch log group in moto if the role may write there
  (``logs:CreateLogStream``, ``logs:PutLogEvents``), and always to the server log.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from emulator import iam_enforcement, iam_principals

#: Seconds a function may spend importing its module before it is killed (Lambda's init limit).
INIT_TIMEOUT_SECONDS = 10.0
#: Bytes of log tail returned with ``LogType=Tail`` (Lambda returns the last 4 KB).
LOG_TAIL_BYTES = 4096
#: Pause before each retry of a failed asynchronous invocation (Lambda: ~1 min, ~2 min).
ASYNC_RETRY_DELAYS_SECONDS = (1.0, 2.0)
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
#: What ``lambda_bootstrap`` writes after an invocation's output (its ``END_MARKER``).
END_MARKER = "\x1eEMULATOR-INVOCATION-END "
#: ``errorType`` of an invocation of a function whose runtime is not Python.
UNSUPPORTED_RUNTIME = "Emulator.UnsupportedRuntime"


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation, as Lambda's Invoke API reports it.

    Attributes
    ----------
    payload:
        The response payload: the handler's JSON result, or the error document.
    function_error:
        ``"Unhandled"`` when the function failed (raised, timed out, crashed), else None.
    logs:
        What the invocation wrote, framed by Lambda's START/END/REPORT lines.
    """

    payload: bytes
    function_error: str | None
    logs: str


class SubprocessRuntime:
    """Runs invocations of moto ``LambdaFunction`` objects in warm local Python sandboxes."""

    def __init__(self, endpoint_url: str, work_dir: Path, python: str) -> None:
        self.endpoint_url = endpoint_url
        self.python = python
        self._code_root = work_dir / "lambda-code"
        self._results = work_dir / "lambda-results"
        self._code_root.mkdir(parents=True, exist_ok=True)
        self._results.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, ...], list[_Sandbox]] = {}
        self._sandboxes: set[_Sandbox] = set()
        self._log_lock = threading.Lock()

    def invoke(self, function: Any, event: Any) -> Invocation:
        request_id = str(uuid.uuid4())
        runtime = str(function.run_time or "")
        if not runtime.startswith("python"):
            message = (
                f"{function.function_name}: runtime {runtime!r}; the emulator runs Python only"
            )
            return self._failure(request_id, UNSUPPORTED_RUNTIME, message, "")
        try:
            sandbox = self._acquire(function)
        except RuntimeError as error:
            return self._failure(request_id, "Runtime.InvalidEntrypoint", str(error), "")
        result_path = self._results / f"{request_id}.json"
        started = time.monotonic()
        output = sandbox.run(request_id, event, result_path, float(function.timeout))
        elapsed_ms = (time.monotonic() - started) * 1000
        self._release(sandbox)
        outcome = _read_outcome(result_path)
        init_ms = float(outcome.get("init_ms", 0)) if outcome else 0.0
        logs = _frame_logs(function, request_id, output, elapsed_ms - init_ms, init_ms)
        self._record_logs(function, logs)
        if outcome is None:
            message = f"RequestId: {request_id} Error: Runtime exited with error: "
            message += f"exit status {sandbox.exit_code}"
            return self._failure(request_id, "Runtime.ExitError", message, logs)
        if "error" in outcome:
            return Invocation(json.dumps(outcome["error"]).encode(), "Unhandled", logs)
        return Invocation(outcome["payload"].encode(), None, logs)

    def invoke_async(self, function: Any, event: Any) -> None:
        """Invoke like Lambda's asynchronous invocation: retry failures, then dead-letter."""
        retries = min(_async_retries(function), len(ASYNC_RETRY_DELAYS_SECONDS))
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(ASYNC_RETRY_DELAYS_SECONDS[attempt - 1])
            outcome = self.invoke(function, event)
            if outcome.function_error is None:
                return
        _dead_letter(function, event, outcome)

    def shutdown(self) -> None:
        """End every sandbox (the server is stopping), and reap them: a child that exits
        after its parent becomes a zombie nobody may collect."""
        with self._lock:
            sandboxes = list(self._sandboxes)
            self._sandboxes.clear()
            self._idle.clear()
        for sandbox in sandboxes:
            sandbox.kill()

    def _acquire(self, function: Any) -> _Sandbox:
        """An idle sandbox of this exact function configuration, or a new one."""
        key = _configuration_key(function)
        with self._lock:
            # A function whose code or configuration changed gets new sandboxes, as on Lambda.
            for stale_key in [k for k in self._idle if k != key and k[0] == key[0]]:
                for stale in self._idle.pop(stale_key):
                    self._sandboxes.discard(stale)
                    stale.kill()
            idle = self._idle.get(key)
            if idle:
                return idle.pop()
        code_dir = self._unpack(function)
        sandbox = _Sandbox(
            key,
            [self.python, "-P", str(BOOTSTRAP)],
            self._environment(function, code_dir),
            code_dir,
        )
        with self._lock:
            self._sandboxes.add(sandbox)
        return sandbox

    def _release(self, sandbox: _Sandbox) -> None:
        with self._lock:
            if sandbox.alive and sandbox in self._sandboxes:
                self._idle.setdefault(sandbox.key, []).append(sandbox)
                return
            self._sandboxes.discard(sandbox)
        sandbox.kill()

    @staticmethod
    def _failure(request_id: str, error_type: str, message: str, logs: str) -> Invocation:
        error = {"errorMessage": message, "errorType": error_type, "requestId": request_id}
        return Invocation(json.dumps(error).encode(), "Unhandled", logs)

    def _unpack(self, function: Any) -> Path:
        """Unpack the function's zip once per code hash; concurrent callers share it."""
        if function.package_type != "Zip":
            raise RuntimeError(f"{function.function_name}: only zip packages can run here")
        if not getattr(function, "code_bytes", b""):
            raise RuntimeError(f"{function.function_name}: moto holds no code for this function")
        target = self._code_root / str(function.code_digest)
        with self._lock:
            if not target.exists():
                staging = target.with_name(target.name + ".unpacking")
                shutil.rmtree(staging, ignore_errors=True)
                with zipfile.ZipFile(BytesIO(function.code_bytes)) as archive:
                    archive.extractall(staging)
                staging.rename(target)
        return target

    def _environment(self, function: Any, code_dir: Path) -> dict[str, str]:
        variables = {str(k): str(v) for k, v in (function.environment_vars or {}).items()}
        runtime = str(function.run_time or "python3")
        reserved = {
            "_HANDLER": str(function.handler),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group_name(function),
            "AWS_LAMBDA_LOG_STREAM_NAME": f"emulator/[$LATEST]{uuid.uuid4().hex}",
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            **_credentials(function),
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONUNBUFFERED": "1",
            "EMULATOR_FUNCTION_ARN": function.function_arn,
        }
        # There is no X-Ray daemon to send segments to; a function may still turn it on.
        variables.setdefault("AWS_XRAY_SDK_ENABLED", "false")
        return {**variables, **reserved}

    def _record_logs(self, function: Any, logs: str) -> None:
        group = log_group_name(function)
        stream = f"emulator/[$LATEST]{uuid.uuid4().hex}"
        stream_arn = (
            f"arn:aws:logs:{function.region}:{function.account_id}:log-group:{group}"
            f":log-stream:{stream}"
        )
        denied = next(
            (
                denial
                for action in ("logs:CreateLogStream", "logs:PutLogEvents")
                if (denial := _authorize(function, action, stream_arn)) is not None
            ),
            None,
        )
        try:
            if denied is not None:  # Lambda drops the logs of a role that may not write them
                raise PermissionError(denied.message)
            function.logs_backend.ensure_log_group(group)
            function.logs_backend.create_log_stream(group, stream)
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": line} for line in logs.splitlines()]
            function.logs_backend.put_log_events(group, stream, events)
        except Exception as error:  # logging must never fail an invocation
            logs += f"\n(emulator: could not write to CloudWatch Logs: {error})"
        with self._log_lock:
            print(f"--- {function.function_name}\n{logs}", flush=True)


class _Sandbox:
    """One ``lambda_bootstrap`` process: a warm sandbox serving one invocation at a time."""

    def __init__(self, key: tuple[str, ...], command: list[str], env: dict[str, str], cwd: Path):
        self.key = key
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


def _configuration_key(function: Any) -> tuple[str, ...]:
    """What makes a sandbox reusable: the same function, code and configuration."""
    return (
        str(function.function_arn),
        str(getattr(function, "code_digest", "")),
        str(function.handler),
        str(function.run_time),
        str(function.timeout),
        str(function.memory_size),
        json.dumps(function.environment_vars or {}, sort_keys=True, default=str),
    )


def invoke_in_server(function: Any, event: Any) -> tuple[bytes, str | None]:
    """Invoke a moto ``LambdaFunction`` synchronously from inside the server, as another
    service would; return the payload and the ``FunctionError`` (None on success)."""
    headers: dict[str, str] = {}
    payload = function.invoke(json.dumps(event), {}, headers)
    data = payload.encode() if isinstance(payload, str) else bytes(payload or b"")
    return data, headers.get("x-amz-function-error")


def _credentials(function: Any) -> dict[str, str]:
    """The sandbox's credentials: its execution role's, as Lambda gets them from STS."""
    if iam_enforcement.enabled() and function.role:
        return iam_principals.role_credentials(
            str(function.role), function.function_name, function.region
        )
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }


def _authorize(function: Any, action: str, resource: str) -> iam_enforcement.Denial | None:
    """Authorize a call Lambda makes for the function with its execution role."""
    return iam_enforcement.authorize_role(
        str(function.role or ""), function.function_name, action, resource
    )


def _dead_letter(function: Any, event: Any, outcome: Invocation) -> None:
    """Send a failed asynchronous event to the function's dead-letter queue or topic."""
    target = getattr(function, "emulator_dead_letter_arn", None)
    if not target:
        return
    action = "sqs:SendMessage" if target.split(":")[2] == "sqs" else "sns:Publish"
    denied = _authorize(function, action, target)
    if denied is not None:
        print(f"emulator: dead letter to {target} lost: {denied.message}", flush=True)
        return
    try:
        error = json.loads(outcome.payload)
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": str(error.get("requestId", ""))},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": str(error.get("errorMessage"))},
        }
        service, region, account, name = target.split(":")[2:6]
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            sqs_backends[account][region].send_message(
                queue_name=name, message_body=json.dumps(event), message_attributes=attributes
            )
        elif service == "sns":
            from moto.sns.models import sns_backends

            sns_backends[account][region].publish(
                message=json.dumps(event), arn=target, message_attributes=attributes
            )
    except Exception as failure:  # as on AWS, a lost dead letter does not fail anything
        print(f"emulator: could not dead-letter to {target}: {failure}", flush=True)


def _read_outcome(result_path: Path) -> dict[str, Any] | None:
    """What the sandbox wrote for one invocation, or None if it died before writing."""
    try:
        outcome: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    finally:
        result_path.unlink(missing_ok=True)
    return outcome


def _async_retries(function: Any) -> int:
    for config in getattr(function, "event_invoke_config", []):
        if "MaximumRetryAttempts" in config.config:
            return int(config.config["MaximumRetryAttempts"])
    return 2


def log_group_name(function: Any) -> str:
    """The function's log group: its ``LoggingConfig.LogGroup``, else ``/aws/lambda/<name>``."""
    return str(getattr(function, "emulator_log_group", None) or function.logs_group_name)


def _frame_logs(
    function: Any, request_id: str, output: str, duration_ms: float, init_ms: float
) -> str:
    init = f"\tInit Duration: {init_ms:.2f} ms" if init_ms else ""
    return (
        f"START RequestId: {request_id} Version: {function.version}\n"
        f"{output}"
        f"{'' if not output or output.endswith(chr(10)) else chr(10)}"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Memory Size: {function.memory_size} MB{init}"
    )


def install(runtime: SubprocessRuntime) -> None:
    """Make every moto Lambda invocation run through ``runtime``."""
    from moto.awslambda.models import LambdaFunction

    original_from_cloudformation = LambdaFunction.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        invocation_type = request_headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            threading.Thread(target=runtime.invoke_async, args=(self, event), daemon=True).start()
            return b""
        outcome = runtime.invoke(self, event)
        if outcome.function_error:
            response_headers["x-amz-function-error"] = outcome.function_error
        tail = outcome.logs.encode()[-LOG_TAIL_BYTES:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        return outcome.payload

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        # moto drops LoggingConfig and DeadLetterConfig; keep what the runtime honours.
        properties = cloudformation_json.get("Properties", {})
        function = original_from_cloudformation(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        function.emulator_log_group = properties.get("LoggingConfig", {}).get("LogGroup")
        function.emulator_dead_letter_arn = properties.get("DeadLetterConfig", {}).get("TargetArn")
        return function

    LambdaFunction.invoke = invoke  # type: ignore[method-assign]
    LambdaFunction.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment,arg-type]

"""Run deployed Lambda functions as local Python subprocesses instead of Docker containers.

moto invokes a function by starting a Docker container (``LambdaFunction._invoke_lambda``);
there is no Docker here. ``install`` replaces ``LambdaFunction.invoke``, the one method every
caller goes through (the Invoke API, S3 and SNS notifications, DynamoDB streams, EventBridge
targets, CloudFormation custom resources, Step Functions tasks), with
``SubprocessRuntime.invoke``:

- the code is the zip moto stored for the function (from the CDK asset uploaded to S3, or an
  inline ``ZipFile``), unpacked once per code hash;
- each invocation is a fresh ``python lambda_bootstrap.py`` process (a cold start every time:
  module-level state does not survive between invocations, unlike a warm Lambda sandbox);
- the environment is the function's variables plus Lambda's reserved ones, with
  ``AWS_ENDPOINT_URL`` pointing back at the emulator and dummy credentials, and nothing
  inherited from the server process;
- the result is what Lambda returns: the handler's JSON, or a ``FunctionError: Unhandled``
  with ``{"errorType": <exception class name>, "errorMessage": ...}``;
- ``InvocationType=Event`` (from the Invoke API, and EventBridge targets here) returns at
  once and runs the function in the background, retrying a failed invocation twice (or
  as the function's event-invoke config says) after ``ASYNC_RETRY_DELAYS_SECONDS``,
  scaled down from Lambda's one and two minutes so that tests can observe them, then
  sending the event to the function's ``DeadLetterConfig`` queue or topic, as Lambda does;
- the output (START/END/REPORT lines around what the handler printed) goes to the
  function's CloudWatch log group in moto and to the server log.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
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

#: Seconds a function may spend importing its module before it is killed (Lambda's init limit).
INIT_TIMEOUT_SECONDS = 10.0
#: Bytes of log tail returned with ``LogType=Tail`` (Lambda returns the last 4 KB).
LOG_TAIL_BYTES = 4096
#: Pause before each retry of a failed asynchronous invocation (Lambda: ~1 min, ~2 min).
ASYNC_RETRY_DELAYS_SECONDS = (1.0, 2.0)
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
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
    """Runs one invocation of a moto ``LambdaFunction`` in a local Python process."""

    def __init__(self, endpoint_url: str, work_dir: Path, python: str) -> None:
        self.endpoint_url = endpoint_url
        self.python = python
        self._code_root = work_dir / "lambda-code"
        self._results = work_dir / "lambda-results"
        self._code_root.mkdir(parents=True, exist_ok=True)
        self._results.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._log_lock = threading.Lock()

    def invoke(self, function: Any, event: Any) -> Invocation:
        request_id = str(uuid.uuid4())
        result_path = self._results / f"{request_id}.json"
        started = time.monotonic()
        runtime = str(function.run_time or "")
        if not runtime.startswith("python"):
            message = (
                f"{function.function_name}: runtime {runtime!r}; the emulator runs Python only"
            )
            return self._failure(request_id, UNSUPPORTED_RUNTIME, message, "")
        try:
            code_dir = self._unpack(function)
        except RuntimeError as error:
            return self._failure(request_id, "Runtime.InvalidEntrypoint", str(error), "")
        process = subprocess.Popen(
            [self.python, "-P", str(BOOTSTRAP), str(result_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self._environment(function, request_id, code_dir),
            cwd=code_dir,
        )
        with self._lock:
            self._running.add(process)
        try:
            output, _ = process.communicate(
                json.dumps(event).encode(),
                timeout=float(function.timeout) + INIT_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        finally:
            with self._lock:
                self._running.discard(process)
        duration_ms = (time.monotonic() - started) * 1000
        logs = _frame_logs(function, request_id, output.decode(errors="replace"), duration_ms)
        self._record_logs(function, logs)
        return self._outcome(request_id, result_path, process.returncode, logs)

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
        """Kill invocations still running (the server is stopping), and reap them: a child
        that exits after its parent becomes a zombie nobody may collect."""
        with self._lock:
            running = list(self._running)
        for process in running:
            process.kill()
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    def _outcome(
        self, request_id: str, result_path: Path, returncode: int, logs: str
    ) -> Invocation:
        try:
            outcome = json.loads(result_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            message = f"RequestId: {request_id} Error: Runtime exited with error: "
            message += f"exit status {returncode}"
            return self._failure(request_id, "Runtime.ExitError", message, logs)
        finally:
            result_path.unlink(missing_ok=True)
        if "error" in outcome:
            return Invocation(json.dumps(outcome["error"]).encode(), "Unhandled", logs)
        return Invocation(outcome["payload"].encode(), None, logs)

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

    def _environment(self, function: Any, request_id: str, code_dir: Path) -> dict[str, str]:
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
            "AWS_LAMBDA_LOG_STREAM_NAME": f"emulator/[$LATEST]{request_id.replace('-', '')}",
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONUNBUFFERED": "1",
            "EMULATOR_REQUEST_ID": request_id,
            "EMULATOR_FUNCTION_ARN": function.function_arn,
        }
        # There is no X-Ray daemon to send segments to; a function may still turn it on.
        variables.setdefault("AWS_XRAY_SDK_ENABLED", "false")
        return {**variables, **reserved}

    def _record_logs(self, function: Any, logs: str) -> None:
        group = log_group_name(function)
        try:
            function.logs_backend.ensure_log_group(group)
            stream = f"emulator/[$LATEST]{uuid.uuid4().hex}"
            function.logs_backend.create_log_stream(group, stream)
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": line} for line in logs.splitlines()]
            function.logs_backend.put_log_events(group, stream, events)
        except Exception as error:  # logging must never fail an invocation
            logs += f"\n(emulator: could not write to CloudWatch Logs: {error})"
        with self._log_lock:
            print(f"--- {function.function_name}\n{logs}", flush=True)


def invoke_in_server(function: Any, event: Any) -> tuple[bytes, str | None]:
    """Invoke a moto ``LambdaFunction`` synchronously from inside the server, as another
    service would; return the payload and the ``FunctionError`` (None on success)."""
    headers: dict[str, str] = {}
    payload = function.invoke(json.dumps(event), {}, headers)
    data = payload.encode() if isinstance(payload, str) else bytes(payload or b"")
    return data, headers.get("x-amz-function-error")


def _dead_letter(function: Any, event: Any, outcome: Invocation) -> None:
    """Send a failed asynchronous event to the function's dead-letter queue or topic."""
    target = getattr(function, "emulator_dead_letter_arn", None)
    if not target:
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


def _async_retries(function: Any) -> int:
    for config in getattr(function, "event_invoke_config", []):
        if "MaximumRetryAttempts" in config.config:
            return int(config.config["MaximumRetryAttempts"])
    return 2


def log_group_name(function: Any) -> str:
    """The function's log group: its ``LoggingConfig.LogGroup``, else ``/aws/lambda/<name>``."""
    return str(getattr(function, "emulator_log_group", None) or function.logs_group_name)


def _frame_logs(function: Any, request_id: str, output: str, duration_ms: float) -> str:
    return (
        f"START RequestId: {request_id} Version: {function.version}\n"
        f"{output}"
        f"{'' if not output or output.endswith(chr(10)) else chr(10)}"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Memory Size: {function.memory_size} MB"
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

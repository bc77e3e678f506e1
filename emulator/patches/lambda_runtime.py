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
  more sandboxes, within the bounds of ``lambda_sandboxes`` (which also ends idle ones and
  throttles beyond reserved concurrency); a timeout, a crash or a failed init ends a
  sandbox, and a changed function (code, handler, environment, timeout) gets new ones;
- payloads are held to Lambda's limits (``lambda_limits``): a request past them is
  refused with 413, a response past them is a ``Function.ResponseSizeTooLarge`` error;
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
  sending the event to the function's ``DeadLetterConfig`` queue or topic, as Lambda does
  (a throttled attempt is retried without counting as one),
  with the function's role (a send the role may not make is lost, as on AWS);
- the output (START/END/REPORT lines around what the handler printed) goes to the
  function's CloudWatch log group in moto if the role may write there
  (``logs:CreateLogStream``, ``logs:PutLogEvents``), and always to the server log.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from emulator.patches import iam_enforcement, iam_principals, lambda_limits
from emulator.patches.lambda_sandboxes import PoolLimits, Sandbox, SandboxPool, Throttled

#: Bytes of log tail returned with ``LogType=Tail`` (Lambda returns the last 4 KB).
LOG_TAIL_BYTES = 4096
#: Pause before each retry of a failed asynchronous invocation (Lambda: ~1 min, ~2 min).
ASYNC_RETRY_DELAYS_SECONDS = (1.0, 2.0)
#: Pause before retrying a throttled asynchronous invocation, and how long to keep trying
#: (Lambda keeps a throttled event up to its maximum event age, 6 hours by default).
THROTTLED_RETRY_SECONDS = 0.5
THROTTLED_EVENT_MAX_AGE_SECONDS = 300.0
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
    """Runs invocations of moto ``LambdaFunction`` objects in warm local Python sandboxes."""

    def __init__(self, endpoint_url: str, work_dir: Path, python: str) -> None:
        self.endpoint_url = endpoint_url
        self.python = python
        self._code_root = work_dir / "lambda-code"
        self._results = work_dir / "lambda-results"
        self._code_root.mkdir(parents=True, exist_ok=True)
        self._results.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.sandboxes = SandboxPool(PoolLimits.from_environment(), self._start_sandbox)
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
            sandbox = self.sandboxes.acquire(function, _configuration_key(function))
        except RuntimeError as error:
            return self._failure(request_id, "Runtime.InvalidEntrypoint", str(error), "")
        result_path = self._results / f"{request_id}.json"
        started = time.monotonic()
        output = sandbox.run(request_id, event, result_path, float(function.timeout))
        elapsed_ms = (time.monotonic() - started) * 1000
        self.sandboxes.release(sandbox)
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
        payload = outcome["payload"].encode()
        too_large = lambda_limits.response_too_large(payload)
        if too_large:
            return self._failure(request_id, lambda_limits.RESPONSE_TOO_LARGE, too_large, logs)
        return Invocation(payload, None, logs)

    def invoke_async(self, function: Any, event: Any) -> None:
        """Invoke like Lambda's asynchronous invocation: retry failures, then dead-letter."""
        retries = min(_async_retries(function), len(ASYNC_RETRY_DELAYS_SECONDS))
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(ASYNC_RETRY_DELAYS_SECONDS[attempt - 1])
            outcome = self.invoke_when_not_throttled(function, event)
            if outcome.function_error is None:
                return
        _dead_letter(function, event, outcome)

    def invoke_when_not_throttled(self, function: Any, event: Any) -> Invocation:
        """Invoke, retrying throttled attempts as Lambda's event queue does (they do not
        count as failures), for up to ``THROTTLED_EVENT_MAX_AGE_SECONDS``."""
        give_up = time.monotonic() + THROTTLED_EVENT_MAX_AGE_SECONDS
        while True:
            try:
                return self.invoke(function, event)
            except Throttled as throttled:
                if time.monotonic() >= give_up:
                    message = f"throttled for {THROTTLED_EVENT_MAX_AGE_SECONDS:.0f} s"
                    return self._failure("", "TooManyRequestsException", message, "")
                print(
                    f"emulator: {function.function_name} throttled ({throttled.reason})", flush=True
                )
                time.sleep(THROTTLED_RETRY_SECONDS)

    def shutdown(self) -> None:
        """End every sandbox (the server is stopping), and reap them: a child that exits
        after its parent becomes a zombie nobody may collect."""
        self.sandboxes.shutdown()

    def _start_sandbox(self, function: Any, key: tuple[str, ...]) -> Sandbox:
        code_dir = self._unpack(function)
        return Sandbox(
            key,
            [self.python, "-P", str(BOOTSTRAP)],
            self._environment(function, code_dir),
            code_dir,
        )

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
    service would; return the payload and the ``FunctionError`` (None on success).

    Raises werkzeug's ``HTTPException`` when Lambda refuses the invocation: 429 when it
    is throttled, 413 when the event is too large (``lambda_limits``)."""
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
        lambda_limits.check_request_size(body or "", invocation_type)
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            threading.Thread(target=runtime.invoke_async, args=(self, event), daemon=True).start()
            return b""
        try:
            outcome = runtime.invoke(self, event)
        except Throttled as throttled:
            raise lambda_limits.throttled(throttled.reason) from None
        # The version that ran: an alias's, or $LATEST for the unqualified function.
        response_headers["x-amz-executed-version"] = str(self.version)
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

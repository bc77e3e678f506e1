"""A Lambda sandbox for one Python function: import the handler once, then serve invocations.

Executed as a script (``python -P lambda_bootstrap.py``) by ``emulator.patches.lambda_runtime``, one
process per warm sandbox; it imports nothing from this package so that the handler sees
only its own code, the interpreter's packages and its environment.

Protocol, one invocation at a time:

- ``_HANDLER`` names the handler (``package.module.function``), ``LAMBDA_TASK_ROOT`` the
  unpacked code, ``AWS_LAMBDA_FUNCTION_TIMEOUT`` the timeout in seconds; the module is
  imported at start (Lambda's init phase);
- each request is one JSON line on stdin: ``{"request_id", "event", "result_path"}``;
- the outcome is written as JSON to ``result_path``: ``{"payload": <json text>}`` on
  success or ``{"error": {"errorType": ..., "errorMessage": ..., ...}}`` on failure, with
  ``"init_ms"`` (the import time) on the sandbox's first invocation;
- whatever the handler prints (stdout and stderr, one pipe) is the invocation's log, and
  ``END_MARKER`` followed by the request id and a newline closes it;
- end of file on stdin ends the sandbox.

Errors follow the Lambda Python runtime: ``errorType`` is the exception's class name
(Step Functions matches Retry/Catch on it), import failures are
``Runtime.ImportModuleError``, a missing handler is ``Runtime.HandlerNotFound``, a result
that is not JSON serializable is ``Runtime.MarshalError`` and a handler that runs past the
function's timeout is ``Sandbox.Timedout``. As on Lambda, a failed init, a timeout or a
crash ends the sandbox (the next invocation starts a new one); a handler exception does not.
"""

import importlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

#: Written (after a newline-free record separator) to close each invocation's output.
END_MARKER = "\x1eEMULATOR-INVOCATION-END "

Handler = Callable[[Any, Any], Any]


class LambdaContext:
    """The ``context`` argument: the attributes and method the Python runtime provides."""

    def __init__(self, request_id: str, timeout_seconds: float) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("EMULATOR_FUNCTION_ARN", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


_init_ms: float | None = None


def main() -> None:
    global _init_ms
    started = time.monotonic()
    timeout_seconds = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    handler, init_error = _load_handler(os.environ["_HANDLER"])
    _init_ms = (time.monotonic() - started) * 1000
    for line in sys.stdin:
        request = json.loads(line)
        request_id, result_path = request["request_id"], request["result_path"]
        if handler is None:
            error_type, message = init_error or ("Runtime.HandlerNotFound", "no handler")
            _write_error(result_path, error_type, message, request_id)
            _end(request_id)
            return  # a failed init is retried by a new sandbox, as on Lambda
        _invoke(handler, request["event"], request_id, result_path, timeout_seconds)
        _end(request_id)


def _load_handler(handler_name: str) -> tuple[Handler | None, tuple[str, str] | None]:
    module_name, _, function_name = handler_name.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as error:
        message = f"Unable to import module '{module_name}': {error}"
        print(f"[ERROR] Runtime.ImportModuleError: {message}", file=sys.stderr)
        traceback.print_exc()
        return None, ("Runtime.ImportModuleError", message)
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        print(f"[ERROR] Runtime.HandlerNotFound: {message}", file=sys.stderr)
        return None, ("Runtime.HandlerNotFound", message)
    return handler, None


def _invoke(
    handler: Handler, event: Any, request_id: str, result_path: str, timeout_seconds: float
) -> None:
    context = LambdaContext(request_id, timeout_seconds)
    finished = threading.Event()
    watchdog = threading.Timer(
        timeout_seconds, _expire, args=(finished, timeout_seconds, request_id, result_path)
    )
    watchdog.daemon = True
    watchdog.start()
    try:
        result = handler(event, context)
    except Exception as error:  # the runtime reports every exception the handler raises
        _report_exception(error, result_path, request_id)
        return
    finally:
        finished.set()
        watchdog.cancel()
    try:
        payload = json.dumps(result)
    except (TypeError, ValueError) as error:
        message = f"Unable to marshal response: {error}"
        _write_error(result_path, "Runtime.MarshalError", message, request_id)
        return
    _write(result_path, {"payload": payload})


def _expire(
    finished: threading.Event, timeout_seconds: float, request_id: str, result_path: str
) -> None:
    if finished.is_set():
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    message = f"{stamp} {request_id} Task timed out after {timeout_seconds:.2f} seconds"
    print(message, file=sys.stderr, flush=True)
    _write_error(result_path, "Sandbox.Timedout", message, request_id)
    _end(request_id)
    os._exit(0)  # the sandbox is reset after a timeout, as on Lambda


def _report_exception(error: Exception, result_path: str, request_id: str) -> None:
    # The first frame is this bootstrap calling the handler; Lambda shows only the handler's.
    frames = traceback.extract_tb(error.__traceback__)[1:]
    stack = traceback.format_list(frames)
    print(
        f"[ERROR] {type(error).__name__}: {error}\nTraceback (most recent call last):\n"
        + "".join(stack),
        file=sys.stderr,
        flush=True,
    )
    _write_error(result_path, type(error).__name__, str(error), request_id, stack)


def _write_error(
    result_path: str,
    error_type: str,
    message: str,
    request_id: str,
    stack: list[str] | None = None,
) -> None:
    error = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack or [],
    }
    _write(result_path, {"error": error})


def _write(result_path: str, outcome: dict[str, object]) -> None:
    global _init_ms
    if _init_ms is not None:  # reported once, with the invocation that waited for it
        outcome = {**outcome, "init_ms": _init_ms}
        _init_ms = None
    temporary = f"{result_path}.{threading.get_ident()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(outcome, handle)
    # The first writer wins (the handler finishing or the timeout firing); a hard link
    # publishes the whole file at once and fails if the other got there first.
    try:
        os.link(temporary, result_path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def _end(request_id: str) -> None:
    sys.stderr.flush()
    sys.stdout.write(f"{END_MARKER}{request_id}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Threads the handler left running do not keep an ended sandbox alive.
    os._exit(0)

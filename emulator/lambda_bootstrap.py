"""Run one Lambda invocation of a Python handler, the way the Lambda Python runtime does.

Executed as a script (``python -P lambda_bootstrap.py RESULT_PATH``) in a fresh process per
invocation by ``emulator.lambda_runtime``; it imports nothing from this package so that the
handler sees only its own code, the interpreter's packages and its environment.

Protocol:

- the event arrives as JSON on stdin;
- ``_HANDLER`` names the handler (``package.module.function``), ``LAMBDA_TASK_ROOT`` the
  unpacked code; ``AWS_LAMBDA_FUNCTION_TIMEOUT`` the timeout in seconds;
- the outcome is written as JSON to RESULT_PATH: ``{"payload": <json text>}`` on success or
  ``{"error": {"errorType": ..., "errorMessage": ..., ...}}`` on failure;
- whatever the handler prints (stdout and stderr) is the invocation's log.

Errors follow the Lambda Python runtime: ``errorType`` is the exception's class name
(Step Functions matches Retry/Catch on it), import failures are
``Runtime.ImportModuleError``, a missing handler is ``Runtime.HandlerNotFound``, a result
that is not JSON serializable is ``Runtime.MarshalError`` and a handler that runs past the
function's timeout is ``Sandbox.Timedout``. The timeout starts after the module is
imported (init has its own budget on Lambda).
"""

import importlib
import json
import os
import sys
import threading
import time
import traceback
from datetime import UTC, datetime


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


def main() -> None:
    result_path = sys.argv[1]
    request_id = os.environ["EMULATOR_REQUEST_ID"]
    timeout_seconds = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    # Only the runtime's own variables are meant for the bootstrap; hide them like Lambda does.
    os.environ.pop("EMULATOR_REQUEST_ID", None)
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])

    event = json.loads(sys.stdin.read() or "{}")
    handler = _load_handler(os.environ["_HANDLER"], result_path, request_id)

    context = LambdaContext(request_id, timeout_seconds)
    _start_timeout_watchdog(timeout_seconds, result_path, request_id)
    try:
        result = handler(event, context)
    except Exception as error:  # the runtime reports every exception the handler raises
        _report_exception(error, result_path, request_id)
        return
    try:
        payload = json.dumps(result)
    except (TypeError, ValueError) as error:
        _write_error(
            result_path,
            "Runtime.MarshalError",
            f"Unable to marshal response: {error}",
            request_id,
        )
        return
    _write(result_path, {"payload": payload})


def _load_handler(handler_name: str, result_path: str, request_id: str):  # type: ignore[no-untyped-def]
    module_name, _, function_name = handler_name.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as error:
        message = f"Unable to import module '{module_name}': {error}"
        print(f"[ERROR] Runtime.ImportModuleError: {message}", file=sys.stderr)
        traceback.print_exc()
        _write_error(result_path, "Runtime.ImportModuleError", message, request_id)
        sys.exit(0)
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        print(f"[ERROR] Runtime.HandlerNotFound: {message}", file=sys.stderr)
        _write_error(result_path, "Runtime.HandlerNotFound", message, request_id)
        sys.exit(0)
    return handler


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


def _start_timeout_watchdog(timeout_seconds: float, result_path: str, request_id: str) -> None:
    def expire() -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"{stamp} {request_id} Task timed out after {timeout_seconds:.2f} seconds"
        print(message, file=sys.stderr, flush=True)
        _write_error(result_path, "Sandbox.Timedout", message, request_id)
        sys.stdout.flush()
        os._exit(0)

    timer = threading.Timer(timeout_seconds, expire)
    timer.daemon = True
    timer.start()


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


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Like Lambda freezing the sandbox: threads the handler left running do not hold the
    # invocation open.
    os._exit(0)

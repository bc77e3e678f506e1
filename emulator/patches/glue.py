"""Everything this package changes in moto, installed in one call inside the server process.

Each gap between moto 5.2.5 and what a CDK-synthesized serverless stack needs to run is
closed in one named place; this module lists them in the order they are installed:

1. ``moto_version.check``: refuse any moto but the pinned release (``moto_version.PINNED``):
   every patch below reaches into its internals.
2. ``_point_moto_at_itself``: moto builds URLs back to itself (custom-resource response
   URLs, Step Functions' service clients) from ``MOTO_PORT`` and a Docker host name;
   they must name this server on 127.0.0.1.
3. ``lambda_runtime.install``: functions run as local Python subprocesses, not in Docker.
4. ``lambda_versions.install``: ``AWS::Lambda::Version`` and ``Alias`` give CloudFormation's
   return values, aliases are real, permissions on an alias are filed under its ARN.
5. ``custom_resources.install``: custom-resource properties reach the handler as strings,
   as CloudFormation sends them, and a failing provider fails the stack at once.
6. ``_execute_state_machines``: state machines created by CloudFormation run for real
   (moto's ``execute_state_machine`` mode otherwise only applies to API-created ones);
   a ``Retry`` waits ``STATES_RETRY_WAIT_SCALE`` of the interval AWS would wait.
7. ``eventbridge_targets.install``: EventBridge rules deliver to Lambda, Step Functions and
   SNS targets (moto 5.2.5 only delivers to logs, SQS, buses and API destinations).
8. ``dynamodb_streams.install``: DynamoDB stream records reach mapped functions
   asynchronously, honouring the event source mapping's settings;
   ``dynamodb_requests.install``: DynamoDB requests are atomic under concurrent load,
   each write gets one stream record, a failure is DynamoDB's 500, not an HTML page.
9. ``http_api.install``, ``rest_api.install``: HTTP APIs (API Gateway v2) deploy from
   CloudFormation, REST API stages too, and both serve requests through their Lambda proxy
   integrations (``EmulatorApp`` routes them).
10. ``s3_buckets.install``: a bucket's ``NotificationConfiguration`` (EventBridge on, or
    Lambda/queue/topic destinations) and versioning from the template take effect.
11. ``dynamodb_global_tables.install``: ``AWS::DynamoDB::GlobalTable`` (CDK's ``TableV2``)
    becomes a moto table in the deployment region.
12. ``cognito.install``: ``AWS::Cognito::UserPool`` and ``UserPoolClient`` become moto
    pools and clients that issue tokens; ``/_emulator/cognito/issue-clock`` shifts the
    time their tokens are issued at.
13. ``unsupported_resources.install``: resource types moto has no model for become named
    placeholders instead of breaking references; ``/_emulator/not-emulated`` lists them.
14. ``stack_creation``, ``change_sets``, ``stack_updates``, ``stack_deletion``, ``table_updates``:
    the CloudFormation lifecycle the CDK CLI drives: change sets, resource events,
    creation in dependency order, updates in place, rollback of a failed creation or
    update, deletion that keeps retained resources.
15. ``iam_enforcement.install``: IAM and KMS permissions are enforced for the stack's roles:
    ``EmulatorApp`` checks each request signed with a role's credentials before moto
    serves it, Step Functions' integrations call with the state machine's role, and
    ``/_emulator/permissions`` returns the permissions report.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from emulator.patches import (
    change_sets,
    cognito,
    custom_resources,
    dynamodb_global_tables,
    dynamodb_requests,
    dynamodb_streams,
    eventbridge_targets,
    http_api,
    iam_enforcement,
    lambda_versions,
    moto_version,
    rest_api,
    s3_buckets,
    stack_creation,
    stack_deletion,
    stack_updates,
    table_updates,
    unsupported_resources,
)
from emulator.patches.api_proxy import read_request
from emulator.patches.lambda_runtime import SubprocessRuntime
from emulator.patches.lambda_runtime import install as install_lambda_runtime
from emulator.protocol import (
    API_PATH_PREFIX,
    COGNITO_CLOCK_PATH,
    NOT_EMULATED_PATH,
    PERMISSIONS_PATH,
)

_runtime: SubprocessRuntime | None = None
_region = "us-east-1"


def install(endpoint_url: str, port: int, region: str, work_dir: str, python: str) -> None:
    """Install every piece of glue; call once, in the server process, before serving."""
    global _runtime, _region
    import moto

    moto_version.check(moto.__version__)
    _region = region
    _point_moto_at_itself(port)
    _runtime = SubprocessRuntime(endpoint_url, Path(work_dir), python)
    install_lambda_runtime(_runtime)
    lambda_versions.install()
    custom_resources.install()
    _execute_state_machines()
    eventbridge_targets.install()
    dynamodb_streams.install()
    dynamodb_requests.install()
    http_api.install()
    rest_api.install()
    s3_buckets.install()
    dynamodb_global_tables.install()
    cognito.install()
    unsupported_resources.install()
    for lifecycle in (stack_creation, change_sets, stack_updates, stack_deletion, table_updates):
        lifecycle.install()
    iam_enforcement.install(endpoint_url)


class EmulatorApp:
    """moto's WSGI application, with the API front door, the IAM check and the emulator's
    own paths."""

    def __init__(self, moto_app: Callable[..., Iterable[bytes]]) -> None:
        self.moto_app = moto_app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(API_PATH_PREFIX):
            from moto.core.models import DEFAULT_ACCOUNT_ID

            status, headers, body = _serve_api(environ, DEFAULT_ACCOUNT_ID, _region)
        elif path == COGNITO_CLOCK_PATH and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            status, headers, body = cognito.handle_clock_request(environ["wsgi.input"].read(length))
        elif path == NOT_EMULATED_PATH:
            status, headers = 200, {"content-type": "application/json"}
            body = json.dumps(unsupported_resources.not_emulated).encode()
        elif path == PERMISSIONS_PATH:
            status, headers = 200, {"content-type": "application/json"}
            body = json.dumps(iam_enforcement.report()).encode()
        else:
            denied = iam_enforcement.check_request(environ)
            if denied is None:
                return self.moto_app(environ, start_response)
            status, headers, body = denied
        headers = {**headers, "content-length": str(len(body))}
        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
        return [body]


def _serve_api(
    environ: dict[str, Any], account_id: str, region: str
) -> tuple[int, dict[str, str], bytes]:
    """Serve one request under ``API_PATH_PREFIX``: an HTTP API, else a REST API of that id."""
    api_id, _, rest = environ.get("PATH_INFO", "")[len(API_PATH_PREFIX) :].partition("/")
    request = read_request(environ, "/" + rest)
    api = http_api.find_api(account_id, region, api_id)
    if api is None:
        return rest_api.serve(account_id, region, api_id, request)
    return http_api.serve(api, request)


def wrap_wsgi_app(app: Callable[..., Iterable[bytes]]) -> EmulatorApp:
    """Put the emulator's routes in front of moto's WSGI application."""
    return EmulatorApp(app)


def shutdown() -> None:
    """Stop background delivery and kill invocations still running."""
    dynamodb_streams.shutdown()
    if _runtime is not None:
        _runtime.shutdown()


def _point_moto_at_itself(port: int) -> None:
    from moto import settings

    os.environ["MOTO_PORT"] = str(port)
    settings.moto_server_host = lambda: "http://127.0.0.1"  # type: ignore[assignment]


def _execute_state_machines() -> None:
    import moto.stepfunctions.models
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    # CloudFormation creates state machines through this module global, while the API (in
    # this mode) reads the executing backend: make CloudFormation write there too. The
    # package attribute of the same name stays, moto's URL routing is derived from it.
    moto.stepfunctions.models.stepfunctions_backends = _ExecutingStateMachineBackends()  # type: ignore[assignment]


#: The fraction of a ``Retry``'s interval (``IntervalSeconds`` grown by ``BackoffRate``, as
#: AWS computes it) that an execution waits before the next attempt: scaled down, as Lambda's
#: asynchronous retries are, so that a flow that retries ends while a test or the demo waits.
STATES_RETRY_WAIT_SCALE = 0.1


class _ScaledWaits:
    """The ``time`` module as moto's retrier sees it: ``sleep`` lasts a fraction as long."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class _ExecutingStateMachineBackends:
    """moto's executing Step Functions backends, imported on first use (it takes ~1.5 s,
    which a stack without a state machine need not pay at every start)."""

    _routed = False

    def __getitem__(self, account_id: str) -> Any:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        if not _ExecutingStateMachineBackends._routed:
            iam_enforcement.route_state_machine_calls()
            _scale_retry_waits()
            _ExecutingStateMachineBackends._routed = True
        return stepfunctions_parser_backends[account_id]


def _scale_retry_waits() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    retrier_decl.time = _ScaledWaits(STATES_RETRY_WAIT_SCALE)  # type: ignore[attr-defined, assignment]

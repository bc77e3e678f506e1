"""ApiEndpoint: what the REST and the HTTP API endpoints share, props, checks and attributes.

:class:`~constructs_lib.rest_api.RestApiEndpoint` and
:class:`~constructs_lib.http_api.HttpApiEndpoint` take the same props with the same defaults
and checks, expose the same attributes, and differ only in what their kind of API offers
(documented on each).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from constructs import Construct

from . import defaults
from ._alarms import AlarmOptions, api_alarms
from ._logs import owned_log_group
from ._routes import (
    Route,
    check_access,
    check_authorization_scopes,
    check_cors_origins,
    check_no_options_route,
    check_throttling,
    parse_routes,
)
from .errors import ConstructsLibDeprecationWarning

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs

    from .function import LambdaFunction

#: The props both endpoints take, documented once (each endpoint's docstring includes it).
SHARED_PROPS_DOC = """
    routes:
        ``{"METHOD /path": function}``, e.g. ``{"POST /orders": create, "GET
        /orders/{order_id}": read}``. Methods: ``GET POST PUT PATCH DELETE HEAD OPTIONS ANY``
        (uppercase). Paths start with ``/``; segments are literals, ``{param}``, or a greedy
        ``{proxy+}`` as the last segment. Targets are any ``aws_lambda.IFunction`` (a
        ``Function``, a ``Version``, an ``Alias``, an imported function) or a
        :class:`LambdaFunction` (its ``invoke_target``). Required.
    authorizer:
        An authorizer of the API's kind used by every route. Default: none, every route is
        authorized with AWS IAM (SigV4): callers need ``execute-api:Invoke`` on the route.
    authorization_scopes:
        OAuth scopes a JWT or Cognito user pool authorizer requires on every route; only
        together with such an authorizer. Default: none.
    public, public_reason:
        ``public=True`` lets anonymous callers in on every route; it needs a non-empty
        ``public_reason``, which is recorded as the acknowledgment of cdk-nag's
        unauthenticated-API findings, and no ``authorizer``. Default: ``False``.
    throttling_rate_limit, throttling_burst_limit:
        Stage-wide steady requests per second (1..10000) and burst (1..5000). Default: 100
        and 50 (:data:`constructs_lib.defaults.API_THROTTLING_RATE_LIMIT`, ``..._BURST_LIMIT``).
    cors_allowed_origins:
        Origins a browser may call the API from: ``["*"]`` alone or specific origins.
        Preflight (``OPTIONS``) requests are answered by API Gateway with the methods of the
        routes and the headers :data:`constructs_lib.defaults.CORS_ALLOWED_HEADERS`, without
        authorization and without invoking a function; ``OPTIONS`` routes are then refused.
        Default: none, no CORS.
    access_log_retention:
        Retention of the access log group; never ``INFINITE``. Default: one month.
    description:
        API description. Default: none.
    alarms:
        :class:`~constructs_lib.AlarmOptions`. Default: alarms on the stage's
        ``ServerErrorRate`` (5 % of requests) and ``Latency`` (p99 at 3 s).
"""

#: The attributes both endpoints expose.
SHARED_ATTRIBUTES_DOC = """
    api: the API construct
    stage: the one stage
    url: str, the stage's invoke URL
    routes: ``dict`` of normalised route key (``"GET /orders/{order_id}"``) to the route's
    construct (an ``aws_apigateway.Method`` or an ``aws_apigatewayv2.HttpRoute``)
    access_log_group: ``aws_logs.LogGroup``
    alarms: ``dict`` of alarm name to ``cloudwatch.Alarm``
"""


class ApiEndpoint(Construct):
    """Base of the API endpoints: checks the shared props and creates the access log group.

    A subclass checks what only its kind of API has, then builds the API, its stage and one
    route per key, filling :attr:`routes`, and ends with :meth:`_add_alarms` once its
    stage exists.
    """

    #: The one stage, built by the subclass.
    stage: Any

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Mapping[str, lambda_.IFunction | LambdaFunction],
        authorizer: object | None,
        authorization_scopes: Sequence[str] | None,
        public: bool,
        public_reason: str | None,
        throttling_rate_limit: int,
        throttling_burst_limit: int,
        cors_allowed_origins: Sequence[str] | None,
        access_log_retention: logs.RetentionDays | None,
        alarms: AlarmOptions | None,
    ) -> None:
        super().__init__(scope, construct_id)

        # validate
        self._parsed_routes: list[Route] = parse_routes(self, "routes", routes)
        check_access(self, authorizer=authorizer, public=public, public_reason=public_reason)
        check_authorization_scopes(self, authorization_scopes, authorizer)
        check_throttling(self, throttling_rate_limit, throttling_burst_limit)
        check_cors_origins(self, cors_allowed_origins)
        if cors_allowed_origins is not None:
            check_no_options_route(self, self._parsed_routes)

        # build
        self.access_log_group = owned_log_group(
            self, "AccessLogs", retention=access_log_retention, prop="access_log_retention"
        )
        self.routes: dict[str, Any] = {}
        self.alarms: dict[str, Any] = {}
        self._alarm_options = alarms

    def _add_alarms(self) -> None:
        """Create the stage's alarms (both kinds of stage publish the same two metrics)."""
        self.alarms = api_alarms(self, self._alarm_options, stage=self.stage)

    def _deprecated_routes(self, old_name: str) -> dict[str, Any]:
        warnings.warn(
            f"{type(self).__name__}.{old_name} is deprecated and will be removed in the next "
            "release; use .routes (the same dict) instead",
            ConstructsLibDeprecationWarning,
            stacklevel=3,
        )
        return self.routes


def cors_allowed_methods(methods: set[str]) -> list[str]:
    """The methods a preflight allows for routes of ``methods``: ``ANY`` stands for all."""
    return ["ANY"] if "ANY" in methods else sorted(methods | {"OPTIONS"})


def cors_allowed_headers() -> list[str]:
    """The request headers a preflight allows: :data:`defaults.CORS_ALLOWED_HEADERS`."""
    return list(defaults.CORS_ALLOWED_HEADERS)

"""HttpApiEndpoint: an HTTP API whose every route is authorized, throttled and access-logged."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final, cast

from aws_cdk import Stack
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import defaults
from ._acknowledge import AWS_SOLUTIONS, acknowledge
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
from ._validation import fail

#: One JSON object per request. HTTP APIs have their own context variables (routeKey, no
#: resourcePath); the caller fields are filled for IAM-authorized routes, the error fields
#: say why API Gateway, an authorizer or an integration failed a request.
_ACCESS_LOG_FIELDS: Final = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "user": "$context.identity.user",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "errorMessage": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
    "integrationError": "$context.integrationErrorMessage",
}


class HttpApiEndpoint(Construct):
    """An API Gateway HTTP API that routes ``"METHOD /path"`` keys to Lambda functions.

    Every route is a Lambda proxy integration with payload format 2.0, and its invoke
    permission names that route's method and path (aws-cdk's ``HttpLambdaIntegration``
    allows every method on the path). The ``$default`` stage deploys automatically, is
    throttled, emits per-route metrics and writes JSON access logs to a log group this
    construct owns. HTTP APIs have no X-Ray tracing, execution logs or request validators;
    use :class:`~constructs_lib.rest_api.RestApiEndpoint` when those are needed.

    Parameters
    ----------
    routes:
        ``{"METHOD /path": function}``, e.g. ``{"POST /orders": create, "GET
        /orders/{order_id}": read}``. Methods: ``GET POST PUT PATCH DELETE HEAD OPTIONS ANY``
        (uppercase). Paths start with ``/``; segments are literals, ``{param}``, or a greedy
        ``{proxy+}`` as the last segment. Targets are any ``aws_lambda.IFunction``: a
        ``Function``, a ``Version``, an ``Alias`` or an imported function
        (``Function.from_function_attributes(..., same_environment=True)``). Required.
    authorizer:
        A JWT, Cognito user pool or Lambda authorizer (``aws_apigatewayv2_authorizers``) used
        by every route. Default: none, every route is authorized with AWS IAM (SigV4):
        callers need ``execute-api:Invoke`` on the route.
    authorization_scopes:
        OAuth scopes a JWT or user pool authorizer requires on every route. Default: none.
    public, public_reason:
        ``public=True`` lets anonymous callers in on every route; it needs a non-empty
        ``public_reason``, which is recorded as the acknowledgment of cdk-nag's
        unauthenticated-API finding, and no ``authorizer``. Default: ``False``.
    throttling_rate_limit, throttling_burst_limit:
        Default-route steady requests per second (1..10000) and burst (1..5000). Default: 100
        and 50 (:data:`constructs_lib.defaults.API_THROTTLING_RATE_LIMIT`, ``..._BURST_LIMIT``).
    cors_allowed_origins:
        Origins allowed by the API's CORS configuration; API Gateway then answers preflight
        requests itself and adds the CORS headers to responses (ignoring any the functions
        return). ``["*"]`` alone or specific origins. Refused together with ``OPTIONS``
        routes, and with ``ANY`` routes unless ``public``: an authorized ``ANY`` route also
        catches the preflight, which carries no credentials. Default: none, no CORS.
    access_log_retention:
        Retention of the access log group; never ``INFINITE``. Default: one month.
    description:
        API description. Default: none.
    alarms:
        :class:`~constructs_lib.AlarmOptions`. Default: alarms on the stage's
        ``ServerErrorRate`` (5 % of requests) and ``Latency`` (p99 at 3 s).

    Attributes
    ----------
    api: ``aws_apigatewayv2.HttpApi``
    stage: ``aws_apigatewayv2.HttpStage`` (``$default``)
    url: str, the stage's invoke URL (``https://<id>.execute-api.<region>.amazonaws.com/``)
    routes: the parsed routes (``list[Route]``)
    http_routes: ``dict`` of route key (``"GET /orders/{order_id}"``) to
    ``aws_apigatewayv2.HttpRoute``
    access_log_group: ``aws_logs.LogGroup``
    alarms: ``dict`` of alarm name to ``cloudwatch.Alarm``
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Mapping[str, lambda_.IFunction],
        authorizer: apigatewayv2.IHttpRouteAuthorizer | None = None,
        authorization_scopes: Sequence[str] | None = None,
        public: bool = False,
        public_reason: str | None = None,
        throttling_rate_limit: int = defaults.API_THROTTLING_RATE_LIMIT,
        throttling_burst_limit: int = defaults.API_THROTTLING_BURST_LIMIT,
        cors_allowed_origins: Sequence[str] | None = None,
        access_log_retention: logs.RetentionDays | None = None,
        description: str | None = None,
        alarms: AlarmOptions | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        # validate
        self.routes: list[Route] = parse_routes(self, "routes", routes)
        check_access(self, authorizer=authorizer, public=public, public_reason=public_reason)
        check_throttling(self, throttling_rate_limit, throttling_burst_limit)
        check_cors_origins(self, cors_allowed_origins)
        if cors_allowed_origins is not None:
            check_no_options_route(self, self.routes)
            if not public:
                self._check_no_authorized_any_route()
        check_authorization_scopes(self, authorization_scopes, authorizer)

        # build
        self.access_log_group = owned_log_group(
            self, "AccessLogs", retention=access_log_retention, prop="access_log_retention"
        )
        self.api = apigatewayv2.HttpApi(
            self,
            "Api",
            description=description,
            # The $default stage is created below, with access logs and throttling.
            create_default_stage=False,
            cors_preflight=self._cors(cors_allowed_origins),
        )
        self.stage = apigatewayv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigatewayv2.ThrottleSettings(
                rate_limit=throttling_rate_limit, burst_limit=throttling_burst_limit
            ),
            detailed_metrics_enabled=True,
        )
        # Access logs through the stage's CloudFormation properties: HttpStage's own
        # access_log_settings takes an aws_apigateway.AccessLogFormat, and loading the REST
        # API module for one JSON string would cost every HTTP API user its import time.
        cfn_stage = cast(apigatewayv2.CfnStage, self.stage.node.default_child)
        cfn_stage.access_log_settings = apigatewayv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_log_group.log_group_arn,
            format=json.dumps(_ACCESS_LOG_FIELDS, separators=(",", ":")),
        )
        self.url: str = self.stage.url

        # wire
        route_authorizer: apigatewayv2.IHttpRouteAuthorizer
        if public:
            route_authorizer = apigatewayv2.HttpNoneAuthorizer()
        else:
            route_authorizer = authorizer or authorizers.HttpIamAuthorizer()
        integrations: dict[str, _LambdaProxyIntegration] = {}
        self.http_routes: dict[str, apigatewayv2.HttpRoute] = {}
        for route in self.routes:
            # One integration per function, shared by the routes it serves.
            target_path = route.target.node.path
            integration = integrations.setdefault(
                target_path,
                _LambdaProxyIntegration(f"Integration{len(integrations) + 1}", route.target),
            )
            (http_route,) = self.api.add_routes(
                path=route.path,
                methods=[apigatewayv2.HttpMethod[route.method]],
                integration=integration,
                authorizer=route_authorizer,
                authorization_scopes=list(authorization_scopes) if authorization_scopes else None,
            )
            self.http_routes[route.key] = http_route
            if public and public_reason is not None:
                acknowledge(http_route, AWS_SOLUTIONS, "AwsSolutions-APIG4", public_reason)

            # grant: API Gateway may invoke the function for this route's method and path
            # only; the stage is left open as '$default' is the API's one stage.
            route.target.add_permission(
                "InvokePermission",
                scope=http_route,
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=Stack.of(self).format_arn(
                    service="execute-api",
                    resource=self.api.api_id,
                    resource_name=f"*/{route.arn_method}{route.arn_path}",
                ),
            )

        # expose
        self.alarms = api_alarms(self, alarms, stage=self.stage)

    def _check_no_authorized_any_route(self) -> None:
        # An ANY route also matches the preflight, which browsers send without credentials:
        # the route's authorizer would refuse it before API Gateway's CORS answer.
        for route in self.routes:
            if route.method == "ANY":
                raise fail(
                    self,
                    "routes",
                    route.key,
                    "allowed with cors_allowed_origins: routes naming their methods (e.g. "
                    f"'GET {route.path}', 'PUT {route.path}'), as an authorized ANY route also "
                    "catches the credential-less CORS preflight (OPTIONS) and refuses it",
                )

    def _cors(self, origins: Sequence[str] | None) -> apigatewayv2.CorsPreflightOptions | None:
        if origins is None:
            return None
        methods = {route.method for route in self.routes}
        allowed_methods = (
            [apigatewayv2.CorsHttpMethod.ANY]
            if "ANY" in methods
            else [apigatewayv2.CorsHttpMethod[m] for m in sorted(methods | {"OPTIONS"})]
        )
        return apigatewayv2.CorsPreflightOptions(
            allow_origins=list(origins),
            allow_methods=allowed_methods,
            allow_headers=list(defaults.CORS_ALLOWED_HEADERS),
        )


class _LambdaProxyIntegration(apigatewayv2.HttpRouteIntegration):
    """A Lambda proxy integration (payload format 2.0) that grants no permission itself.

    aws-cdk's ``HttpLambdaIntegration`` allows API Gateway to invoke the function for any
    method of the route's path (``<api>/*/*/<path>``); the endpoint grants per route instead.
    """

    def __init__(self, integration_id: str, handler: lambda_.IFunction) -> None:
        super().__init__(integration_id)
        self._handler = handler

    def bind(
        self, *, route: apigatewayv2.IHttpRoute, scope: Construct
    ) -> apigatewayv2.HttpRouteIntegrationConfig:
        return apigatewayv2.HttpRouteIntegrationConfig(
            type=apigatewayv2.HttpIntegrationType.AWS_PROXY,
            uri=self._handler.function_arn,
            payload_format_version=apigatewayv2.PayloadFormatVersion.VERSION_2_0,
        )

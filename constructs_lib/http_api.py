"""HttpApiEndpoint: an HTTP API whose every route is authorized, throttled and access-logged."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final, cast

from aws_cdk import Stack
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import defaults
from ._acknowledge import AWS_SOLUTIONS, acknowledge
from ._endpoint import (
    SHARED_ATTRIBUTES_DOC,
    SHARED_PROPS_DOC,
    ApiEndpoint,
    cors_allowed_headers,
    cors_allowed_methods,
)
from ._routes import Route
from ._validation import fail

if TYPE_CHECKING:
    from ._alarms import AlarmOptions
    from .function import LambdaFunction

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


class HttpApiEndpoint(ApiEndpoint):
    """An API Gateway HTTP API that routes ``"METHOD /path"`` keys to Lambda functions.

    Every route is a Lambda proxy integration with payload format 2.0, and its invoke
    permission names that route's method and path (aws-cdk's ``HttpLambdaIntegration``
    allows every method on the path). The ``$default`` stage deploys automatically, is
    throttled, emits per-route metrics and writes JSON access logs to a log group this
    construct owns. HTTP APIs have no X-Ray tracing, execution logs or request validators;
    use :class:`~constructs_lib.rest_api.RestApiEndpoint` when those are needed.

    Parameters
    ----------
    The props shared with :class:`~constructs_lib.rest_api.RestApiEndpoint` (listed below),
    where ``authorizer`` is a JWT, Cognito user pool or Lambda authorizer
    (``aws_apigatewayv2_authorizers``). With ``cors_allowed_origins``, API Gateway answers
    preflight requests itself and adds the CORS headers to responses (ignoring any the
    functions return); ``ANY`` routes are then refused unless ``public``, as an authorized
    ``ANY`` route would also catch the credential-less preflight.

    Attributes
    ----------
    The attributes shared with :class:`~constructs_lib.rest_api.RestApiEndpoint` (listed
    below): ``api`` is an ``aws_apigatewayv2.HttpApi``, ``stage`` its
    ``aws_apigatewayv2.HttpStage`` ``$default``, ``url``
    ``https://<id>.execute-api.<region>.amazonaws.com/``, ``routes`` values
    ``aws_apigatewayv2.HttpRoute``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Mapping[str, lambda_.IFunction | LambdaFunction],
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
        super().__init__(
            scope,
            construct_id,
            routes=routes,
            authorizer=authorizer,
            authorization_scopes=authorization_scopes,
            public=public,
            public_reason=public_reason,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            cors_allowed_origins=cors_allowed_origins,
            access_log_retention=access_log_retention,
            alarms=alarms,
        )

        # validate
        if cors_allowed_origins is not None and not public:
            self._check_no_authorized_any_route()

        # build
        self.api = apigatewayv2.HttpApi(
            self,
            "Api",
            description=description,
            # The $default stage is created below, with access logs and throttling.
            create_default_stage=False,
            cors_preflight=self._cors(cors_allowed_origins),
        )
        self.stage = self._default_stage(throttling_rate_limit, throttling_burst_limit)
        self.url: str = self.stage.url

        # wire, grant
        route_authorizer: apigatewayv2.IHttpRouteAuthorizer
        if public:
            route_authorizer = apigatewayv2.HttpNoneAuthorizer()
        else:
            route_authorizer = authorizer or authorizers.HttpIamAuthorizer()
        self._add_routes(route_authorizer, authorization_scopes, public_reason if public else None)

        # expose
        self._add_alarms()

    def _add_routes(
        self,
        authorizer: apigatewayv2.IHttpRouteAuthorizer,
        authorization_scopes: Sequence[str] | None,
        public_reason: str | None,
    ) -> None:
        integrations: dict[str, _LambdaProxyIntegration] = {}
        for route in self._parsed_routes:
            # One integration per function, shared by the routes it serves.
            integration = integrations.setdefault(
                route.target.node.path,
                _LambdaProxyIntegration(f"Integration{len(integrations) + 1}", route.target),
            )
            (http_route,) = self.api.add_routes(
                path=route.path,
                methods=[apigatewayv2.HttpMethod[route.method]],
                integration=integration,
                authorizer=authorizer,
                authorization_scopes=list(authorization_scopes) if authorization_scopes else None,
            )
            if public_reason is not None:
                acknowledge(http_route, AWS_SOLUTIONS, "AwsSolutions-APIG4", public_reason)
            self._allow_invoke(route, http_route)
            self.routes[route.key] = http_route

    @property
    def http_routes(self) -> dict[str, apigatewayv2.HttpRoute]:
        """Deprecated: the same dict as :attr:`routes`."""
        return self._deprecated_routes("http_routes")

    def _default_stage(self, rate_limit: int, burst_limit: int) -> apigatewayv2.HttpStage:
        stage = apigatewayv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigatewayv2.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            detailed_metrics_enabled=True,
        )
        # Access logs through the stage's CloudFormation properties: HttpStage's own
        # access_log_settings takes an aws_apigateway.AccessLogFormat, and loading the REST
        # API module for one JSON string would cost every HTTP API user its import time.
        cfn_stage = cast(apigatewayv2.CfnStage, stage.node.default_child)
        cfn_stage.access_log_settings = apigatewayv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_log_group.log_group_arn,
            format=json.dumps(_ACCESS_LOG_FIELDS, separators=(",", ":")),
        )
        return stage

    def _allow_invoke(self, route: Route, http_route: apigatewayv2.HttpRoute) -> None:
        # API Gateway may invoke the function for this route's method and path only; the
        # stage is left open as '$default' is the API's one stage.
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

    def _check_no_authorized_any_route(self) -> None:
        # An ANY route also matches the preflight, which browsers send without credentials:
        # the route's authorizer would refuse it before API Gateway's CORS answer.
        for route in self._parsed_routes:
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
        methods = cors_allowed_methods({route.method for route in self._parsed_routes})
        return apigatewayv2.CorsPreflightOptions(
            allow_origins=list(origins),
            allow_methods=[apigatewayv2.CorsHttpMethod[m] for m in methods],
            allow_headers=cors_allowed_headers(),
        )


HttpApiEndpoint.__doc__ = f"{HttpApiEndpoint.__doc__}{SHARED_PROPS_DOC}{SHARED_ATTRIBUTES_DOC}"


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

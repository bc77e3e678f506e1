"""HTTP APIs (API Gateway v2): deploy them from CloudFormation and serve their Lambda routes.

moto 5.2.5 has an API Gateway v2 backend for the control plane but no CloudFormation
support for ``AWS::ApiGatewayV2::*`` (a template whose outputs read ``ApiEndpoint`` is
refused) and no data plane. This module adds both, in the smallest form that serves a
CDK ``HttpApi`` with ``HttpLambdaIntegration`` routes:

- CloudFormation models for ``Api``, ``Integration``, ``Route`` and ``Stage`` that create
  the objects in moto's API Gateway v2 backend (so ``apigatewayv2`` API calls see them).
  Physical ids and ``GetAtt`` attributes are CloudFormation's (``ApiEndpoint`` is the AWS
  URL, ``https://<api-id>.execute-api.<region>.amazonaws.com``).
- A front door, served by the emulator itself under ``<endpoint>/_emulator/execute-api/
  <api-id>/`` (``Emulator.local_url`` turns an AWS URL into this one): it matches the request to a
  route the way API Gateway does (exact paths before ``{param}`` paths before
  ``{proxy+}``, a method before ``ANY``, then ``$default``), builds the Lambda proxy event
  (payload format 2.0, or 1.0 if the integration says so), invokes the function, and maps
  its result back to HTTP (a function error becomes ``500 {"message": "Internal Server
  Error"}``, a missing route ``404 {"message": "Not Found"}``).

Routes with an authorizer (``AWS::ApiGatewayV2::Authorizer``, modelled here too) are
authorized before the function is invoked: JWT authorizers and ``AWS_IAM`` routes are
enforced, Lambda authorizers refuse every request (``emulator.patches.authorizers``).

Not emulated: Lambda authorizers, throttling, CORS preflight beyond echoing the API's
``CorsConfiguration``, access logs, custom domains, WebSocket APIs, integrations other
than Lambda proxy.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, TypeVar

from werkzeug.exceptions import HTTPException

from emulator.patches.api_proxy import (
    HttpRequest,
    Refused,
    best_match,
    function_arn,
    proxy_response,
    query_parameters,
    request_body,
)
from emulator.patches.authorizers import (
    authorize_http_route,
    caller_identity,
    http_event_authorizer,
)
from emulator.patches.cloudformation_models import CreatedResource

T = TypeVar("T")
_NOT_FOUND = (404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
_INTERNAL_ERROR = (
    500,
    {"content-type": "application/json"},
    b'{"message":"Internal Server Error"}',
)


def install() -> None:
    """Register the CloudFormation models (moto finds models by subclassing)."""
    from moto.cloudformation.parsing import get_model_map

    _define_models()
    get_model_map.cache_clear()


def _backend(account_id: str, region: str) -> Any:
    from moto.apigatewayv2.models import apigatewayv2_backends

    return apigatewayv2_backends[account_id][region]


def _define_models() -> None:
    from moto.core.common_models import CloudFormationModel

    class HttpApiModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGatewayV2::Api"

        @classmethod
        def create(
            cls, properties: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> HttpApiModel:
            api = _backend(account_id, region_name).create_api(
                api_key_selection_expression=properties.get("ApiKeySelectionExpression"),
                cors_configuration=properties.get("CorsConfiguration"),
                description=properties.get("Description"),
                disable_schema_validation=properties.get("DisableSchemaValidation"),
                disable_execute_api_endpoint=properties.get("DisableExecuteApiEndpoint"),
                name=properties.get("Name", resource_name),
                protocol_type=properties.get("ProtocolType", "HTTP"),
                route_selection_expression=properties.get("RouteSelectionExpression"),
                tags=properties.get("Tags", {}),
                version=properties.get("Version"),
            )
            return cls(api.api_id, {"ApiId": api.api_id, "ApiEndpoint": api.api_endpoint})

    class HttpApiIntegrationModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGatewayV2::Integration"

        @classmethod
        def create(
            cls, p: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> HttpApiIntegrationModel:
            integration = _backend(account_id, region_name).create_integration(
                api_id=p["ApiId"],
                connection_id=p.get("ConnectionId"),
                connection_type=p.get("ConnectionType"),
                content_handling_strategy=p.get("ContentHandlingStrategy"),
                credentials_arn=p.get("CredentialsArn"),
                description=p.get("Description"),
                integration_method=p.get("IntegrationMethod"),
                integration_subtype=p.get("IntegrationSubtype"),
                integration_type=p["IntegrationType"],
                integration_uri=p.get("IntegrationUri"),
                passthrough_behavior=p.get("PassthroughBehavior"),
                payload_format_version=p.get("PayloadFormatVersion"),
                request_parameters=p.get("RequestParameters"),
                request_templates=p.get("RequestTemplates"),
                response_parameters=p.get("ResponseParameters"),
                template_selection_expression=p.get("TemplateSelectionExpression"),
                timeout_in_millis=p.get("TimeoutInMillis"),
                tls_config=p.get("TlsConfig"),
            )
            return cls(integration.id, {"IntegrationId": integration.id})

    class HttpApiRouteModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGatewayV2::Route"

        @classmethod
        def create(
            cls, p: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> HttpApiRouteModel:
            route = _backend(account_id, region_name).create_route(
                api_id=p["ApiId"],
                api_key_required=p.get("ApiKeyRequired", False),
                authorization_scopes=p.get("AuthorizationScopes", []),
                authorization_type=p.get("AuthorizationType"),
                authorizer_id=p.get("AuthorizerId"),
                model_selection_expression=p.get("ModelSelectionExpression"),
                operation_name=p.get("OperationName"),
                request_models=p.get("RequestModels"),
                request_parameters=p.get("RequestParameters"),
                route_key=p["RouteKey"],
                route_response_selection_expression=p.get("RouteResponseSelectionExpression"),
                target=p.get("Target"),
            )
            return cls(route.route_id, {"RouteId": route.route_id})

    class HttpApiStageModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGatewayV2::Stage"

        @classmethod
        def create(
            cls, p: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> HttpApiStageModel:
            config = {
                "stageName": p["StageName"],
                "autoDeploy": p.get("AutoDeploy"),
                "description": p.get("Description"),
                "stageVariables": p.get("StageVariables", {}),
                "accessLogSettings": p.get("AccessLogSettings"),
                "defaultRouteSettings": p.get("DefaultRouteSettings"),
            }
            stage = _backend(account_id, region_name).create_stage(
                p["ApiId"], {k: v for k, v in config.items() if v is not None}
            )
            return cls(stage.name, {})

    class HttpApiAuthorizerModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGatewayV2::Authorizer"

        @classmethod
        def create(
            cls, p: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> HttpApiAuthorizerModel:
            authorizer = _backend(account_id, region_name).create_authorizer(
                api_id=p["ApiId"],
                auth_creds_arn=p.get("AuthorizerCredentialsArn"),
                auth_payload_format_version=p.get("AuthorizerPayloadFormatVersion"),
                auth_result_ttl=p.get("AuthorizerResultTtlInSeconds"),
                authorizer_uri=p.get("AuthorizerUri"),
                authorizer_type=p["AuthorizerType"],
                enable_simple_response=p.get("EnableSimpleResponses"),
                identity_source=p.get("IdentitySource"),
                identity_validation_expr=p.get("IdentityValidationExpression"),
                jwt_config=p.get("JwtConfiguration"),
                name=p.get("Name", resource_name),
            )
            return cls(authorizer.id, {"AuthorizerId": authorizer.id})


# --- the front door ------------------------------------------------------------------


def find_api(account_id: str, region: str, api_id: str) -> Any:
    """The HTTP API of that id, or None (it may be a REST API)."""
    return _backend(account_id, region).apis.get(api_id)


def serve(api: Any, request: HttpRequest) -> tuple[int, dict[str, str], bytes]:
    """Serve ``request`` (its path starting with the stage, unless ``$default``) on ``api``."""
    stage_name, path = _split_stage(api, request.path)
    if stage_name is None:
        return _NOT_FOUND
    request = replace(request, path=path)
    cors = _cors_headers(api.cors_configuration, request)
    if request.method == "OPTIONS" and cors and "access-control-request-method" in request.headers:
        return 204, cors, b""
    match = match_route(api.routes.values(), request.method, request.path)
    if match is None:
        return _NOT_FOUND
    route, path_parameters = match
    try:
        authorization = authorize_http_route(
            api, route, stage_name, request, api.backend.account_id, api.backend.region_name
        )
    except Refused as refused:
        status, headers, body = refused.response
        return status, {**headers, **cors}, body
    request = replace(request, authorization=authorization)
    integration_id = (route.target or "").removeprefix("integrations/")
    integration = api.integrations.get(integration_id)
    if integration is None or integration.integration_type != "AWS_PROXY":
        return _INTERNAL_ERROR
    status, headers, body = _invoke(api, stage_name, route, integration, request, path_parameters)
    return status, {**headers, **cors}, body


def _split_stage(api: Any, path: str) -> tuple[str | None, str]:
    first, _, remainder = path.lstrip("/").partition("/")
    if first and first != "$default" and first in api.stages:
        return first, "/" + remainder
    if "$default" in api.stages:
        return "$default", path
    return None, path


def match_route(routes: Iterable[Any], method: str, path: str) -> tuple[Any, dict[str, str]] | None:
    """Pick the HTTP API route API Gateway would pick for ``method path``, with its path
    parameters: the most specific route key (see ``best_match``), else ``$default``."""
    candidates = []
    default = None
    for route in routes:
        if route.route_key == "$default":
            default = route
            continue
        route_method, _, route_path = route.route_key.partition(" ")
        candidates.append((route, route_method, route_path))
    found = best_match(candidates, method, path)
    if found is None and default is not None:
        return default, {}
    return found


def _invoke(
    api: Any,
    stage: str,
    route: Any,
    integration: Any,
    request: HttpRequest,
    path_parameters: dict[str, str],
) -> tuple[int, dict[str, str], bytes]:
    from moto.awslambda.utils import get_backend

    from emulator.patches.lambda_runtime import invoke_in_server

    target = function_arn(integration.integration_uri or "")
    function = get_backend(api.backend.account_id, api.backend.region_name).get_function(target)
    # IAM: the function's resource policy must let API Gateway invoke it (else AWS answers 500).
    from emulator.patches.iam_enforcement import api_gateway_may_invoke

    if not api_gateway_may_invoke(
        function, target, api.api_id, stage, request.method, request.path
    ):
        return _INTERNAL_ERROR
    version = integration.payload_format_version or "2.0"
    if version == "1.0":
        event = _event_v1(api, stage, route, request, path_parameters)
    else:
        event = _event_v2(api, stage, route, request, path_parameters)
    try:
        payload, function_error = invoke_in_server(function, event)
    except HTTPException:  # Lambda refused the call (throttled, too large): API Gateway's 500
        return _INTERNAL_ERROR
    if function_error:
        return _INTERNAL_ERROR
    response = proxy_response(payload)
    if response is None:
        if version == "1.0":
            return _INTERNAL_ERROR
        # Payload 2.0 without a statusCode: API Gateway returns the result as JSON, 200.
        return 200, {"content-type": "application/json"}, payload
    return response


def _request_context(api: Any, stage: str, route: Any, request: HttpRequest) -> dict[str, Any]:
    now = time.time()
    domain = f"{api.api_id}.execute-api.{api.backend.region_name}.amazonaws.com"
    return {
        "accountId": api.backend.account_id,
        "apiId": api.api_id,
        "domainName": domain,
        "domainPrefix": api.api_id,
        "requestId": str(uuid.uuid4()),
        "routeKey": route.route_key,
        "stage": stage,
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }


def _event_v2(
    api: Any, stage: str, route: Any, request: HttpRequest, path_parameters: dict[str, str]
) -> dict[str, Any]:
    query = query_parameters(request.raw_query)
    body, is_base64 = request_body(request)
    headers = dict(request.headers)
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    context = _request_context(api, stage, route, request)
    context["http"] = {
        "method": request.method,
        "path": request.path,
        "protocol": "HTTP/1.1",
        "sourceIp": request.source_ip,
        "userAgent": request.headers.get("user-agent", ""),
    }
    authorizer = http_event_authorizer(request.authorization, "2.0")
    if authorizer:
        context["authorizer"] = authorizer
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body
    stage_variables = api.stages[stage].stage_variables
    if stage_variables:
        event["stageVariables"] = stage_variables
    return event


def _event_v1(
    api: Any, stage: str, route: Any, request: HttpRequest, path_parameters: dict[str, str]
) -> dict[str, Any]:
    query = query_parameters(request.raw_query)
    body, is_base64 = request_body(request)
    context = _request_context(api, stage, route, request)
    context.update(
        {
            "httpMethod": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "resourcePath": route.route_key.partition(" ")[2] or route.route_key,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": request.headers.get("user-agent"),
                **caller_identity(request.authorization),
            },
        }
    )
    authorizer = http_event_authorizer(request.authorization, "1.0")
    if authorizer:
        context["authorizer"] = authorizer
    return {
        "version": "1.0",
        "resource": route.route_key.partition(" ")[2] or route.route_key,
        "path": request.path,
        "httpMethod": request.method,
        "headers": request.headers,
        "multiValueHeaders": {k: [v] for k, v in request.headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "requestContext": context,
        "pathParameters": path_parameters or None,
        "stageVariables": api.stages[stage].stage_variables or None,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _cors_headers(configuration: Any, request: HttpRequest) -> dict[str, str]:
    origin = request.headers.get("origin")
    if not configuration or not origin:
        return {}
    allowed = configuration.get("AllowOrigins") or configuration.get("allowOrigins") or []
    if "*" not in allowed and origin not in allowed:
        return {}
    headers = {"access-control-allow-origin": "*" if "*" in allowed else origin}
    for key, header in (
        ("AllowMethods", "access-control-allow-methods"),
        ("AllowHeaders", "access-control-allow-headers"),
        ("ExposeHeaders", "access-control-expose-headers"),
    ):
        values = configuration.get(key) or configuration.get(key[0].lower() + key[1:])
        if values:
            headers[header] = ",".join(values)
    if configuration.get("MaxAge") is not None:
        headers["access-control-max-age"] = str(configuration["MaxAge"])
    if configuration.get("AllowCredentials"):
        headers["access-control-allow-credentials"] = "true"
    return headers

"""REST APIs (API Gateway v1): give them their stage and serve their Lambda proxy methods.

moto creates ``AWS::ApiGateway::RestApi``, ``Resource``, ``Method`` (with its integration)
and ``Deployment`` from CloudFormation, but not ``Stage`` (aws-cdk-lib's ``RestApi``
declares its ``prod`` stage as one) nor ``Authorizer``, drops a method's ``AuthorizerId``
and ``AuthorizationScopes``, and serves no requests. This module adds:

- CloudFormation models for ``AWS::ApiGateway::Stage`` and ``AWS::ApiGateway::Authorizer``
  that create them in moto's backend (``Ref`` is the stage name / authorizer id, as on
  AWS), and keeps a method's authorizer and scopes;
- the authorization step before a method's integration: Cognito user-pool authorizers
  and ``AWS_IAM`` methods are enforced, Lambda authorizers refuse every request
  (``emulator.patches.authorizers``);
- serving, through the same front door as HTTP APIs (``<endpoint>/_emulator/execute-api/
  <api-id>/<stage>/<path>``): the resource and method API Gateway would pick (``ANY`` and
  ``{proxy+}`` included), a Lambda proxy event in the REST format, and the function's
  result mapped back to HTTP. As on AWS, a path or method the API does not define answers
  ``403 {"message": "Missing Authentication Token"}``, and a function error or a result
  without ``statusCode`` answers ``502 {"message": "Internal server error"}``.

Not emulated: Lambda authorizers, API keys (``ApiKeyRequired`` is not checked), the API's
resource policy, request validators, mapping templates and non-proxy integrations, usage
plans, throttling, caching, custom domains.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Any

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
    authorize_rest_method,
    caller_identity,
    rest_event_authorizer,
)
from emulator.patches.cloudformation_models import CreatedResource

_MISSING_TOKEN = (
    403,
    {"content-type": "application/json"},
    b'{"message":"Missing Authentication Token"}',
)
_SERVER_ERROR_BODY = b'{"message": "Internal server error"}'
_BAD_GATEWAY = (502, {"content-type": "application/json"}, _SERVER_ERROR_BODY)
_INTERNAL_ERROR = (500, {"content-type": "application/json"}, _SERVER_ERROR_BODY)
_NOT_FOUND = (404, {"content-type": "application/json"}, b'{"message":"Not Found"}')


def _backend(account_id: str, region: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    return apigateway_backends[account_id][region]


def install() -> None:
    """Register the ``Stage`` and ``Authorizer`` models (moto finds models by subclassing)
    and make CloudFormation keep a method's authorizer."""
    from moto.cloudformation.parsing import get_model_map

    _define_stage_model()
    _define_authorizer_model()
    _keep_method_authorizers()
    get_model_map.cache_clear()


def _define_stage_model() -> None:
    from moto.core.common_models import CloudFormationModel

    class RestApiStageModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        name_property = "StageName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGateway::Stage"

        @classmethod
        def create(
            cls, p: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> RestApiStageModel:
            name = p.get("StageName", resource_name)
            _backend(account_id, region_name).create_stage(
                function_id=p["RestApiId"],
                stage_name=name,
                deploymentId=p.get("DeploymentId", ""),
                variables=p.get("Variables"),
                description=p.get("Description", ""),
                tracing_enabled=p.get("TracingEnabled"),
            )
            return cls(name)


def _define_authorizer_model() -> None:
    from moto.core.common_models import CloudFormationModel

    class RestApiAuthorizerModel(CreatedResource, CloudFormationModel):  # type: ignore[misc]
        name_property = "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApiGateway::Authorizer"

        @classmethod
        def create(
            cls, p: dict[str, Any], resource_name: str, account_id: str, region_name: str
        ) -> RestApiAuthorizerModel:
            authorizer = _backend(account_id, region_name).create_authorizer(
                p["RestApiId"],
                p.get("Name", resource_name),
                p["Type"],
                provider_arns=p.get("ProviderARNs"),
                auth_type=p.get("AuthType"),
                authorizer_uri=p.get("AuthorizerUri"),
                authorizer_credentials=p.get("AuthorizerCredentials"),
                identity_source=p.get("IdentitySource"),
                authorizer_result_ttl=p.get("AuthorizerResultTtlInSeconds"),
            )
            # moto 5.2.5 misspells this keyword on the way in and drops the value.
            authorizer.identity_validation_expression = p.get("IdentityValidationExpression")
            return cls(str(authorizer.id), {"AuthorizerId": str(authorizer.id)})


def _keep_method_authorizers() -> None:
    from moto.apigateway.models import Method

    create = Method.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_with_authorizer(
        cls: type[Method], resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> Method:
        method = create(cls, resource_name, cloudformation_json, *args, **kwargs)
        properties = cloudformation_json["Properties"]
        method.authorizer_id = properties.get("AuthorizerId")
        method.authorization_scopes = properties.get("AuthorizationScopes")
        return method  # type: ignore[no-any-return]

    Method.create_from_cloudformation_json = classmethod(create_with_authorizer)  # type: ignore[method-assign, assignment]


def serve(
    account_id: str, region: str, api_id: str, request: HttpRequest
) -> tuple[int, dict[str, str], bytes]:
    """Serve ``request`` (its path starting with the stage name) on REST API ``api_id``."""
    api = _backend(account_id, region).apis.get(api_id)
    if api is None:
        return _NOT_FOUND
    stage, _, rest = request.path.lstrip("/").partition("/")
    if stage not in api.stages:
        return _MISSING_TOKEN
    path = "/" + rest
    candidates = [
        (method, method_name, resource.get_path())
        for resource in api.resources.values()
        for method_name, method in resource.resource_methods.items()
    ]
    match = best_match(candidates, request.method, path)
    if match is None:
        return _MISSING_TOKEN
    method, path_parameters = match
    try:
        authorization = authorize_rest_method(
            api, method, stage, replace(request, path=path), account_id, region
        )
    except Refused as refused:
        return refused.response
    request = replace(request, authorization=authorization)
    integration = method.method_integration
    if integration is None or integration.integration_type != "AWS_PROXY":
        return _BAD_GATEWAY
    resource_path = next(
        resource.get_path()
        for resource in api.resources.values()
        if method in resource.resource_methods.values()
    )
    event = _event(account_id, api_id, stage, resource_path, request, path, path_parameters, api)
    from moto.awslambda.utils import get_backend

    from emulator.patches.lambda_runtime import invoke_in_server

    target = function_arn(integration.uri or "")
    function = get_backend(account_id, region).get_function(target)
    # IAM: the function's resource policy must let API Gateway invoke it (else AWS answers 500).
    from emulator.patches.iam_enforcement import api_gateway_may_invoke

    if not api_gateway_may_invoke(function, target, api_id, stage, request.method, path):
        return _INTERNAL_ERROR
    try:
        payload, function_error = invoke_in_server(function, event)
    except HTTPException:  # Lambda refused the call (throttled, too large): API Gateway's 500
        return _INTERNAL_ERROR
    if function_error:
        return _BAD_GATEWAY
    return proxy_response(payload) or _BAD_GATEWAY


def _event(
    account_id: str,
    api_id: str,
    stage: str,
    resource_path: str,
    request: HttpRequest,
    path: str,
    path_parameters: dict[str, str],
    api: Any,
) -> dict[str, Any]:
    query = query_parameters(request.raw_query)
    body, is_base64 = request_body(request)
    now = time.time()
    identity = {
        "sourceIp": request.source_ip,
        "userAgent": request.headers.get("user-agent"),
        **caller_identity(request.authorization),
    }
    authorizer = rest_event_authorizer(request.authorization)
    return {
        "resource": resource_path,
        "path": path,
        "httpMethod": request.method,
        "headers": request.headers or None,
        "multiValueHeaders": {k: [v] for k, v in request.headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": api.stages[stage].variables or None,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            **({"authorizer": authorizer} if authorizer else {}),
            "domainName": f"{api_id}.execute-api.{api.region_name}.amazonaws.com",
            "domainPrefix": api_id,
            "httpMethod": request.method,
            "identity": identity,
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourcePath": resource_path,
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }

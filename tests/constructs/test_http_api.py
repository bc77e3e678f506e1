"""HttpApiEndpoint: authorized payload 2.0 Lambda routes on a throttled, access-logged stage."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from constructs_lib import ConstructPropsError, ConstructsLibDeprecationWarning, HttpApiEndpoint
from tests.constructs import (
    ACCOUNT,
    REGION,
    cfn_lint_findings,
    findings_in,
    get_att,
    logical_id_of,
    nag_clean_user_pool,
    only,
    ref,
    unjustified_acknowledgments,
)
from tests.constructs import inline_function as handler
from tests.support import (
    ENV,
    Synthesized,
    as_list,
    nag_app,
    policy_statements,
    resources_of_type,
    synthesize,
)

STACKS = ("Defaults", "Jwt", "UserPool", "LambdaAuth", "Public", "BringYourOwn")
PUBLIC_REASON = "The product catalogue is public and read-only; it holds no personal data."
ISSUER = "https://auth.example.com/"
IMPORTED_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-legacy"


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()

    defaults = cdk.Stack(app, "Defaults", env=ENV)
    orders = handler(defaults).function
    HttpApiEndpoint(
        defaults,
        "Orders",
        routes={
            "POST /orders": orders,
            "GET /orders/{order_id}": orders,
            "ANY /files/{proxy+}": orders,
            "GET /": orders,
        },
    )

    jwt = cdk.Stack(app, "Jwt", env=ENV)
    HttpApiEndpoint(
        jwt,
        "Orders",
        routes={"POST /orders": handler(jwt).function},
        authorizer=authorizers.HttpJwtAuthorizer(
            "JwtAuthorizer", ISSUER, jwt_audience=["orders-api"]
        ),
        authorization_scopes=["orders/write"],
    )

    user_pool = cdk.Stack(app, "UserPool", env=ENV)
    HttpApiEndpoint(
        user_pool,
        "Orders",
        routes={"POST /orders": handler(user_pool).function},
        authorizer=authorizers.HttpUserPoolAuthorizer(
            "UserPoolAuthorizer", nag_clean_user_pool(user_pool)
        ),
    )

    lambda_auth = cdk.Stack(app, "LambdaAuth", env=ENV)
    HttpApiEndpoint(
        lambda_auth,
        "Orders",
        routes={"POST /orders": handler(lambda_auth).function},
        authorizer=authorizers.HttpLambdaAuthorizer(
            "LambdaAuthorizer",
            handler(lambda_auth, "Authorizer").function,
            response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
        ),
    )

    public = cdk.Stack(app, "Public", env=ENV)
    catalogue = handler(public).function
    HttpApiEndpoint(
        public,
        "Catalogue",
        routes={"GET /products": catalogue, "GET /products/{product_id}": catalogue},
        public=True,
        public_reason=PUBLIC_REASON,
        cors_allowed_origins=["https://shop.example.com"],
        throttling_rate_limit=20,
        throttling_burst_limit=10,
        access_log_retention=logs.RetentionDays.ONE_WEEK,
        description="Product catalogue",
    )

    own = cdk.Stack(app, "BringYourOwn", env=ENV)
    imported = lambda_.Function.from_function_attributes(
        own, "Imported", function_arn=IMPORTED_ARN, same_environment=True
    )
    live = handler(own, "Live", alias_name="live").alias
    assert live is not None
    HttpApiEndpoint(own, "Orders", routes={"GET /orders": imported, "POST /orders": live})

    return synthesize(app)


# --- helpers ----------------------------------------------------------------------------


def template(synth: Synthesized, stack: str) -> dict[str, Any]:
    return synth.templates[stack]


def routes(synth: Synthesized, stack: str) -> dict[str, dict[str, Any]]:
    """``{"POST /orders": properties}`` of every route."""
    return {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in resources_of_type(template(synth, stack), "AWS::ApiGatewayV2::Route").values()
    }


def integration_of(synth: Synthesized, stack: str, route_key: str) -> dict[str, Any]:
    target = routes(synth, stack)[route_key]["Target"]["Fn::Join"][1]
    assert target[0] == "integrations/"
    return template(synth, stack)["Resources"][target[1]["Ref"]]["Properties"]


def stage(synth: Synthesized, stack: str) -> dict[str, Any]:
    return only(resources_of_type(template(synth, stack), "AWS::ApiGatewayV2::Stage"))[1][
        "Properties"
    ]


def arn_text(value: Any) -> str:
    """An ARN rendered with ``<Ref>`` for its tokens, as a reader would write it."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)


def route_permissions(synth: Synthesized, stack: str) -> list[dict[str, Any]]:
    """Invoke permissions of the route targets (not of a Lambda authorizer)."""
    return [
        p["Properties"]
        for p in resources_of_type(template(synth, stack), "AWS::Lambda::Permission").values()
        if "/authorizers/" not in arn_text(p["Properties"]["SourceArn"])
    ]


def acknowledged(synth: Synthesized, stack: str, rule: str) -> list[dict[str, Any]]:
    return [
        entry
        for entry in synth.acknowledged
        if entry["ruleName"] == rule
        for construct in entry["violatingConstructs"]
        if construct["constructPath"].startswith(f"{stack}/")
    ]


# --- routes and integrations -------------------------------------------------------------


def test_http_api_creates_one_route_per_key(synth: Synthesized) -> None:
    assert set(routes(synth, "Defaults")) == {
        "POST /orders",
        "GET /orders/{order_id}",
        "ANY /files/{proxy+}",
        "GET /",
    }


def test_http_api_routes_are_payload_2_lambda_proxy_integrations(synth: Synthesized) -> None:
    function_id = logical_id_of(template(synth, "Defaults"), "AWS::Lambda::Function", "Handler")
    for key in routes(synth, "Defaults"):
        assert integration_of(synth, "Defaults", key) == {
            "ApiId": ref(
                logical_id_of(template(synth, "Defaults"), "AWS::ApiGatewayV2::Api", "OrdersApi")
            ),
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": get_att(function_id),
            "PayloadFormatVersion": "2.0",
        }


def test_http_api_shares_one_integration_per_function(synth: Synthesized) -> None:
    assert (
        len(resources_of_type(template(synth, "Defaults"), "AWS::ApiGatewayV2::Integration")) == 1
    )
    assert (
        len(resources_of_type(template(synth, "BringYourOwn"), "AWS::ApiGatewayV2::Integration"))
        == 2
    )


def test_http_api_invoke_permission_is_scoped_to_route_method_and_path(
    synth: Synthesized,
) -> None:
    api_id = logical_id_of(template(synth, "Defaults"), "AWS::ApiGatewayV2::Api", "OrdersApi")
    prefix = f"arn:<AWS::Partition>:execute-api:{REGION}:{ACCOUNT}:<{api_id}>/*"
    source_arns = sorted(arn_text(p["SourceArn"]) for p in route_permissions(synth, "Defaults"))
    assert source_arns == sorted(
        [
            f"{prefix}/POST/orders",
            f"{prefix}/GET/orders/*",
            f"{prefix}/*/files/*",
            f"{prefix}/GET/",
        ]
    )
    for permission in route_permissions(synth, "Defaults"):
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert permission["Action"] == "lambda:InvokeFunction"


def test_http_api_routes_to_an_imported_function_and_an_alias(synth: Synthesized) -> None:
    alias_id = logical_id_of(template(synth, "BringYourOwn"), "AWS::Lambda::Alias", "LiveAlias")
    assert integration_of(synth, "BringYourOwn", "GET /orders")["IntegrationUri"] == IMPORTED_ARN
    assert integration_of(synth, "BringYourOwn", "POST /orders")["IntegrationUri"] == ref(alias_id)
    by_target = {
        json.dumps(p["FunctionName"]): arn_text(p["SourceArn"])
        for p in route_permissions(synth, "BringYourOwn")
    }
    assert by_target[json.dumps(IMPORTED_ARN)].endswith("/*/GET/orders")
    assert by_target[json.dumps(ref(alias_id))].endswith("/*/POST/orders")


# --- authorization ------------------------------------------------------------------------


def test_http_api_authorizes_every_route_with_iam_by_default(synth: Synthesized) -> None:
    for properties in routes(synth, "Defaults").values():
        assert properties["AuthorizationType"] == "AWS_IAM"
        assert "AuthorizerId" not in properties


def test_http_api_uses_a_jwt_authorizer_with_scopes(synth: Synthesized) -> None:
    authorizer_id, authorizer = only(
        resources_of_type(template(synth, "Jwt"), "AWS::ApiGatewayV2::Authorizer")
    )
    assert authorizer["Properties"]["AuthorizerType"] == "JWT"
    assert authorizer["Properties"]["JwtConfiguration"] == {
        "Audience": ["orders-api"],
        "Issuer": ISSUER,
    }
    (properties,) = routes(synth, "Jwt").values()
    assert properties["AuthorizationType"] == "JWT"
    assert properties["AuthorizerId"] == ref(authorizer_id)
    assert properties["AuthorizationScopes"] == ["orders/write"]


def test_http_api_uses_a_cognito_user_pool_authorizer(synth: Synthesized) -> None:
    pool_id = logical_id_of(template(synth, "UserPool"), "AWS::Cognito::UserPool", "Users")
    authorizer_id, authorizer = only(
        resources_of_type(template(synth, "UserPool"), "AWS::ApiGatewayV2::Authorizer")
    )
    assert pool_id in json.dumps(authorizer["Properties"]["JwtConfiguration"]["Issuer"])
    (properties,) = routes(synth, "UserPool").values()
    assert properties["AuthorizationType"] == "JWT"
    assert properties["AuthorizerId"] == ref(authorizer_id)


def test_http_api_uses_a_lambda_authorizer(synth: Synthesized) -> None:
    authorizer_id, authorizer = only(
        resources_of_type(template(synth, "LambdaAuth"), "AWS::ApiGatewayV2::Authorizer")
    )
    assert authorizer["Properties"]["AuthorizerType"] == "REQUEST"
    assert authorizer["Properties"]["EnableSimpleResponses"] is True
    (properties,) = routes(synth, "LambdaAuth").values()
    assert properties["AuthorizationType"] == "CUSTOM"
    assert properties["AuthorizerId"] == ref(authorizer_id)


def test_http_api_public_routes_allow_anonymous_callers(synth: Synthesized) -> None:
    for properties in routes(synth, "Public").values():
        assert properties["AuthorizationType"] == "NONE"


def test_http_api_public_reason_is_recorded_as_the_acknowledgment(synth: Synthesized) -> None:
    entries = acknowledged(synth, "Public", "AwsSolutions-APIG4")
    assert len(entries) == 2, entries
    assert {entry["reason"] for entry in entries} == {PUBLIC_REASON}
    assert not acknowledged(synth, "Defaults", "AwsSolutions-APIG4")


# --- CORS ---------------------------------------------------------------------------------


def test_http_api_cors_allows_the_given_origins_and_route_methods(synth: Synthesized) -> None:
    _, api = only(resources_of_type(template(synth, "Public"), "AWS::ApiGatewayV2::Api"))
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["https://shop.example.com"]
    assert cors["AllowMethods"] == ["GET", "OPTIONS"]
    assert "Authorization" in cors["AllowHeaders"]
    assert api["Properties"]["Description"] == "Product catalogue"


def test_http_api_has_no_cors_without_origins(synth: Synthesized) -> None:
    _, api = only(resources_of_type(template(synth, "Defaults"), "AWS::ApiGatewayV2::Api"))
    assert "CorsConfiguration" not in api["Properties"]


# --- stage: access logs and throttling --------------------------------------------------------


def test_http_api_default_stage_deploys_automatically(synth: Synthesized) -> None:
    properties = stage(synth, "Defaults")
    assert properties["StageName"] == "$default"
    assert properties["AutoDeploy"] is True


def test_http_api_writes_json_access_logs_to_its_own_log_group(synth: Synthesized) -> None:
    log_group_id = logical_id_of(
        template(synth, "Defaults"), "AWS::Logs::LogGroup", "OrdersAccessLogs"
    )
    log_group = template(synth, "Defaults")["Resources"][log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == 30
    settings = stage(synth, "Defaults")["AccessLogSettings"]
    assert settings["DestinationArn"] == get_att(log_group_id)
    fields = json.loads(settings["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["routeKey"] == "$context.routeKey"
    assert {"ip", "caller", "status", "integrationError", "authorizerError"} <= set(fields)


def test_http_api_access_log_retention_can_be_set(synth: Synthesized) -> None:
    log_group_id = logical_id_of(
        template(synth, "Public"), "AWS::Logs::LogGroup", "CatalogueAccessLogs"
    )
    log_group = template(synth, "Public")["Resources"][log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == 7


def test_http_api_default_stage_is_throttled_with_detailed_metrics(synth: Synthesized) -> None:
    assert stage(synth, "Defaults")["DefaultRouteSettings"] == {
        "DetailedMetricsEnabled": True,
        "ThrottlingBurstLimit": 50,
        "ThrottlingRateLimit": 100,
    }
    settings = stage(synth, "Public")["DefaultRouteSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (20, 10)


def test_http_api_adds_no_role_and_no_wildcard_grant(synth: Synthesized) -> None:
    for stack in STACKS:
        for role in resources_of_type(template(synth, stack), "AWS::IAM::Role").values():
            assert "ManagedPolicyArns" not in role["Properties"]
            assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
                "Service": "lambda.amazonaws.com"
            }
        for statement in policy_statements(template(synth, stack)):
            assert not [a for a in as_list(statement["Action"]) if "*" in a], statement
            if "*" in as_list(statement["Resource"]):
                assert all(a.startswith("xray:") for a in as_list(statement["Action"]))


# --- reviews: cdk-nag and cfn-lint -----------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_http_api_stack_has_no_unacknowledged_nag_finding(synth: Synthesized, stack: str) -> None:
    assert findings_in(synth, stack) == [], synth.finding_summary()


def test_http_api_acknowledgments_are_granular_and_give_reasons(synth: Synthesized) -> None:
    assert unjustified_acknowledgments(synth) == []


def test_http_api_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []


def test_http_api_exposes_its_url_stage_log_group_and_routes() -> None:
    stack = cdk.Stack(cdk.App(), "Attributes", env=ENV)
    endpoint = HttpApiEndpoint(stack, "Orders", routes={"GET  /orders": handler(stack)})
    assert endpoint.url == endpoint.stage.url
    assert isinstance(endpoint.access_log_group, logs.LogGroup)
    assert list(endpoint.routes) == ["GET /orders"]
    assert isinstance(endpoint.routes["GET /orders"], apigatewayv2.HttpRoute)
    with pytest.warns(ConstructsLibDeprecationWarning, match=r"use \.routes"):
        assert endpoint.http_routes is endpoint.routes


# --- validation -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scope() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Validation", env=ENV)


@pytest.fixture(scope="module")
def target(scope: cdk.Stack) -> lambda_.IFunction:
    return handler(scope).function


_counter = iter(range(1_000_000))


def error_of(scope: cdk.Stack, **props: Any) -> str:
    with pytest.raises(ConstructPropsError) as caught:
        HttpApiEndpoint(scope, f"Api{next(_counter)}", **props)
    return str(caught.value)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("POST/orders", "allowed: 'METHOD /path'"),
        ("FETCH /orders", "unknown method 'FETCH'"),
        ("post /orders", "unknown method 'post'"),
        ("GET orders", "path 'orders' is invalid"),
        ("GET /orders/", "path '/orders/' is invalid"),
        ("GET /{proxy+}/items", "path '/{proxy+}/items' is invalid"),
    ],
)
def test_http_api_refuses_a_malformed_route_key(
    scope: cdk.Stack, target: lambda_.IFunction, key: str, expected: str
) -> None:
    message = error_of(scope, routes={key: target})
    assert message.startswith("Validation/Api")
    assert f"routes={key!r}" in message
    assert expected in message


def test_http_api_refuses_a_duplicate_route(scope: cdk.Stack, target: lambda_.IFunction) -> None:
    message = error_of(scope, routes={"GET /orders": target, " GET /orders ": target})
    assert "routes=' GET /orders '" in message and "duplicate route" in message


def test_http_api_refuses_empty_routes(scope: cdk.Stack) -> None:
    message = error_of(scope, routes={})
    assert message.startswith("Validation/Api") and "routes={}" in message


def test_http_api_refuses_a_target_that_is_not_a_function(scope: cdk.Stack) -> None:
    message = error_of(scope, routes={"GET /orders": None})
    assert "routes='GET /orders: NoneType'" in message and "aws_lambda.IFunction" in message


def test_http_api_refuses_an_authorizer_together_with_public(
    scope: cdk.Stack, target: lambda_.IFunction
) -> None:
    message = error_of(
        scope,
        routes={"GET /orders": target},
        authorizer=authorizers.HttpJwtAuthorizer("Jwt", ISSUER, jwt_audience=["orders-api"]),
        public=True,
        public_reason=PUBLIC_REASON,
    )
    assert "public=True is invalid" in message and "without an authorizer" in message


def test_http_api_refuses_public_without_a_reason(
    scope: cdk.Stack, target: lambda_.IFunction
) -> None:
    message = error_of(scope, routes={"GET /orders": target}, public=True)
    assert "public_reason=None is invalid" in message


@pytest.mark.parametrize(
    ("prop", "value", "allowed"),
    [
        ("throttling_rate_limit", 0, "allowed 1..10000"),
        ("throttling_burst_limit", 5_001, "allowed 1..5000"),
        ("throttling_rate_limit", 1.5, "allowed 1..10000"),
        ("cors_allowed_origins", "https://shop.example.com", "non-empty list of origins"),
        ("authorization_scopes", ["orders/read"], "only together with an authorizer"),
        ("access_log_retention", logs.RetentionDays.INFINITE, "finite"),
    ],
)
def test_http_api_refuses_out_of_range_props(
    scope: cdk.Stack, target: lambda_.IFunction, prop: str, value: Any, allowed: str
) -> None:
    message = error_of(scope, routes={"GET /orders": target}, **{prop: value})
    assert message.startswith("Validation/Api")
    assert f"{prop}=" in message and allowed in message


def test_http_api_refuses_an_options_route_together_with_cors(
    scope: cdk.Stack, target: lambda_.IFunction
) -> None:
    message = error_of(
        scope,
        routes={"OPTIONS /orders": target},
        cors_allowed_origins=["https://shop.example.com"],
    )
    assert "routes='OPTIONS /orders'" in message and "cors_allowed_origins" in message


def test_http_api_refuses_an_authorized_any_route_together_with_cors(
    scope: cdk.Stack, target: lambda_.IFunction
) -> None:
    message = error_of(
        scope,
        routes={"ANY /files/{proxy+}": target},
        cors_allowed_origins=["https://shop.example.com"],
    )
    assert "routes='ANY /files/{proxy+}'" in message
    assert "'GET /files/{proxy+}'" in message and "preflight" in message

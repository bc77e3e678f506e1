"""RestApiEndpoint: authorized Lambda proxy routes, logged, throttled, traced and validated."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from constructs_lib import ConstructPropsError, ConstructsLibDeprecationWarning, RestApiEndpoint
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
    resources_under,
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

STACKS = ("Defaults", "Cognito", "Token", "Public", "BringYourOwn", "Waf")
PUBLIC_REASON = "The product catalogue is public and read-only; it holds no personal data."
WEB_ACL_ARN = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/orders/a1b2c3d4"
IMPORTED_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-legacy"


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()

    defaults = cdk.Stack(app, "Defaults", env=ENV)
    orders = handler(defaults).function
    RestApiEndpoint(
        defaults,
        "Orders",
        routes={
            "POST /orders": orders,
            "GET /orders/{order_id}": orders,
            "ANY /files/{proxy+}": orders,
        },
    )

    with_cognito = cdk.Stack(app, "Cognito", env=ENV)
    authorizer = apigateway.CognitoUserPoolsAuthorizer(
        with_cognito, "UserPoolAuthorizer", cognito_user_pools=[nag_clean_user_pool(with_cognito)]
    )
    RestApiEndpoint(
        with_cognito,
        "Orders",
        routes={"POST /orders": handler(with_cognito).function},
        authorizer=authorizer,
        authorization_scopes=["orders/write"],
    )

    with_token = cdk.Stack(app, "Token", env=ENV)
    token_authorizer = apigateway.TokenAuthorizer(
        with_token, "TokenAuthorizer", handler=handler(with_token, "Authorizer").function
    )
    RestApiEndpoint(
        with_token,
        "Orders",
        routes={"POST /orders": handler(with_token).function},
        authorizer=token_authorizer,
    )

    public = cdk.Stack(app, "Public", env=ENV)
    catalogue = handler(public).function
    RestApiEndpoint(
        public,
        "Catalogue",
        routes={"GET /": catalogue, "GET /products/{product_id}": catalogue},
        public=True,
        public_reason=PUBLIC_REASON,
        cors_allowed_origins=["https://shop.example.com"],
        throttling_rate_limit=20,
        throttling_burst_limit=10,
        access_log_retention=logs.RetentionDays.ONE_WEEK,
        execution_log_retention=logs.RetentionDays.THREE_DAYS,
        stage_name="v1",
        description="Product catalogue",
    )

    own = cdk.Stack(app, "BringYourOwn", env=ENV)
    imported = lambda_.Function.from_function_attributes(
        own, "Imported", function_arn=IMPORTED_ARN, same_environment=True
    )
    live = handler(own, "Live", alias_name="live").alias
    assert live is not None
    RestApiEndpoint(own, "Orders", routes={"GET /orders": imported, "POST /orders": live})
    RestApiEndpoint(own, "Reports", routes={"GET /reports": live})

    waf = cdk.Stack(app, "Waf", env=ENV)
    RestApiEndpoint(
        waf,
        "Orders",
        routes={"POST /orders": handler(waf).function},
        web_acl_arn=WEB_ACL_ARN,
        create_account_logging_role=False,
    )

    return synthesize(app)


# --- helpers ----------------------------------------------------------------------------


def template(synth: Synthesized, stack: str) -> dict[str, Any]:
    return synth.templates[stack]


def methods(synth: Synthesized, stack: str) -> dict[str, dict[str, Any]]:
    """``{"POST /orders": properties}`` of every method, the path read from its resource."""
    resources = template(synth, stack)["Resources"]
    found = {}
    for method in resources_of_type(template(synth, stack), "AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        found[f"{properties['HttpMethod']} {path_of(resources, properties['ResourceId'])}"] = (
            properties
        )
    return found


def path_of(resources: dict[str, Any], resource_ref: dict[str, Any]) -> str:
    if "Fn::GetAtt" in resource_ref:  # the API's root resource
        return "/"
    resource = resources[resource_ref["Ref"]]["Properties"]
    parent = path_of(resources, resource["ParentId"])
    return f"{parent.rstrip('/')}/{resource['PathPart']}"


def stage(synth: Synthesized, stack: str) -> dict[str, Any]:
    return only(resources_of_type(template(synth, stack), "AWS::ApiGateway::Stage"))[1]


def arn_text(value: Any) -> str:
    """An ARN rendered with ``<Ref>`` for its tokens, as a reader would write it."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)


def permissions(synth: Synthesized, stack: str) -> list[dict[str, Any]]:
    return [
        p["Properties"]
        for p in resources_of_type(template(synth, stack), "AWS::Lambda::Permission").values()
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


def test_rest_api_creates_one_method_per_route_on_its_path(synth: Synthesized) -> None:
    assert set(methods(synth, "Defaults")) == {
        "POST /orders",
        "GET /orders/{order_id}",
        "ANY /files/{proxy+}",
    }
    assert set(methods(synth, "Public")) == {
        "GET /",
        "GET /products/{product_id}",
        "OPTIONS /",
        "OPTIONS /products/{product_id}",
    }


def test_rest_api_routes_are_lambda_proxy_integrations_of_their_function(
    synth: Synthesized,
) -> None:
    function_id = logical_id_of(template(synth, "Defaults"), "AWS::Lambda::Function", "Handler")
    for properties in methods(synth, "Defaults").values():
        integration = properties["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        assert get_att(function_id) in integration["Uri"]["Fn::Join"][1]


def test_rest_api_invoke_permission_is_scoped_to_route_method_and_path(
    synth: Synthesized,
) -> None:
    api_id = logical_id_of(template(synth, "Defaults"), "AWS::ApiGateway::RestApi", "OrdersApi")
    stage_id = logical_id_of(template(synth, "Defaults"), "AWS::ApiGateway::Stage", "OrdersApi")
    prefix = f"arn:<AWS::Partition>:execute-api:{REGION}:{ACCOUNT}:<{api_id}>/<{stage_id}>"
    source_arns = sorted(arn_text(p["SourceArn"]) for p in permissions(synth, "Defaults"))
    assert source_arns == sorted(
        [f"{prefix}/POST/orders", f"{prefix}/GET/orders/*", f"{prefix}/*/files/*"]
    )
    for permission in permissions(synth, "Defaults"):
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert permission["Action"] == "lambda:InvokeFunction"


def test_rest_api_grants_no_test_invoke_permission(synth: Synthesized) -> None:
    for stack in STACKS:
        for permission in permissions(synth, stack):
            assert "test-invoke-stage" not in json.dumps(permission["SourceArn"])


def test_rest_api_routes_to_an_imported_function_and_an_alias(synth: Synthesized) -> None:
    alias_id = logical_id_of(template(synth, "BringYourOwn"), "AWS::Lambda::Alias", "LiveAlias")
    uris = {
        key: json.dumps(properties["Integration"]["Uri"])
        for key, properties in methods(synth, "BringYourOwn").items()
    }
    assert IMPORTED_ARN in uris["GET /orders"]
    assert json.dumps(ref(alias_id)) in uris["POST /orders"]
    assert json.dumps(ref(alias_id)) in uris["GET /reports"]
    targets = sorted(json.dumps(p["FunctionName"]) for p in permissions(synth, "BringYourOwn"))
    assert targets == sorted(
        [json.dumps(IMPORTED_ARN), json.dumps(ref(alias_id)), json.dumps(ref(alias_id))]
    )


def test_rest_api_is_regional(synth: Synthesized) -> None:
    _, api = only(resources_of_type(template(synth, "Defaults"), "AWS::ApiGateway::RestApi"))
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


# --- authorization ------------------------------------------------------------------------


def test_rest_api_authorizes_every_route_with_iam_by_default(synth: Synthesized) -> None:
    for properties in methods(synth, "Defaults").values():
        assert properties["AuthorizationType"] == "AWS_IAM"
        assert "AuthorizerId" not in properties


def test_rest_api_uses_a_cognito_user_pool_authorizer_with_scopes(synth: Synthesized) -> None:
    authorizer_id, authorizer = only(
        resources_of_type(template(synth, "Cognito"), "AWS::ApiGateway::Authorizer")
    )
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    (properties,) = methods(synth, "Cognito").values()
    assert properties["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert properties["AuthorizerId"] == ref(authorizer_id)
    assert properties["AuthorizationScopes"] == ["orders/write"]


def test_rest_api_uses_a_token_authorizer_as_custom_authorization(synth: Synthesized) -> None:
    authorizer_id, authorizer = only(
        resources_of_type(template(synth, "Token"), "AWS::ApiGateway::Authorizer")
    )
    assert authorizer["Properties"]["Type"] == "TOKEN"
    (properties,) = methods(synth, "Token").values()
    assert properties["AuthorizationType"] == "CUSTOM"
    assert properties["AuthorizerId"] == ref(authorizer_id)


def test_rest_api_public_routes_allow_anonymous_callers(synth: Synthesized) -> None:
    for properties in methods(synth, "Public").values():
        assert properties["AuthorizationType"] == "NONE"


def test_rest_api_public_reason_is_recorded_as_the_acknowledgment(synth: Synthesized) -> None:
    for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
        entries = acknowledged(synth, "Public", rule)
        assert len(entries) == 2, entries  # GET / and GET /products/{product_id}
        assert {entry["reason"] for entry in entries} == {PUBLIC_REASON}


def test_rest_api_iam_routes_acknowledge_cog4_with_the_iam_reason(synth: Synthesized) -> None:
    entries = acknowledged(synth, "Defaults", "AwsSolutions-COG4")
    assert len(entries) == 3
    assert all(
        e["reason"].startswith("This method is authorized with AWS IAM (SigV4)") for e in entries
    )
    assert not acknowledged(synth, "Defaults", "AwsSolutions-APIG4")
    assert not acknowledged(synth, "Cognito", "AwsSolutions-COG4")


# --- request validation and CORS -------------------------------------------------------------


def test_rest_api_validates_body_and_parameters_of_every_method(synth: Synthesized) -> None:
    validator_id, validator = only(
        resources_of_type(template(synth, "Defaults"), "AWS::ApiGateway::RequestValidator")
    )
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert validator["Properties"]["ValidateRequestParameters"] is True
    found = methods(synth, "Defaults")
    for properties in found.values():
        assert properties["RequestValidatorId"] == ref(validator_id)
    assert found["GET /orders/{order_id}"]["RequestParameters"] == {
        "method.request.path.order_id": True
    }
    assert found["ANY /files/{proxy+}"]["RequestParameters"] == {"method.request.path.proxy": True}
    assert "RequestParameters" not in found["POST /orders"]


def test_rest_api_cors_preflight_answers_the_allowed_origin_without_a_backend(
    synth: Synthesized,
) -> None:
    preflight = methods(synth, "Public")["OPTIONS /products/{product_id}"]
    assert preflight["AuthorizationType"] == "NONE"
    assert preflight["Integration"]["Type"] == "MOCK"
    (response,) = preflight["Integration"]["IntegrationResponses"]
    headers = response["ResponseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Origin"] == (
        "'https://shop.example.com'"
    )
    assert headers["method.response.header.Access-Control-Allow-Methods"] == "'GET,OPTIONS'"


def test_rest_api_has_no_preflight_without_cors_origins(synth: Synthesized) -> None:
    assert not [k for k in methods(synth, "Defaults") if k.startswith("OPTIONS ")]


# --- stage: logging, throttling, tracing ------------------------------------------------------


def test_rest_api_writes_json_access_logs_to_its_own_log_group(synth: Synthesized) -> None:
    log_group_id = logical_id_of(
        template(synth, "Defaults"), "AWS::Logs::LogGroup", "OrdersAccessLogs"
    )
    log_group = template(synth, "Defaults")["Resources"][log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == 30
    settings = stage(synth, "Defaults")["Properties"]["AccessLogSetting"]
    assert settings["DestinationArn"] == get_att(log_group_id)
    fields = json.loads(settings["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert {"ip", "caller", "user", "requestTime", "httpMethod", "resourcePath", "status"} <= set(
        fields
    )


def test_rest_api_owns_its_execution_log_group_with_retention(synth: Synthesized) -> None:
    api_id = logical_id_of(template(synth, "Defaults"), "AWS::ApiGateway::RestApi", "OrdersApi")
    log_group_id = logical_id_of(
        template(synth, "Defaults"), "AWS::Logs::LogGroup", "OrdersExecutionLogs"
    )
    log_group = template(synth, "Defaults")["Resources"][log_group_id]
    assert arn_text(log_group["Properties"]["LogGroupName"]) == (
        f"API-Gateway-Execution-Logs_<{api_id}>/prod"
    )
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert log_group_id in as_list(stage(synth, "Defaults").get("DependsOn", []))


def test_rest_api_log_retention_and_stage_name_can_be_set(synth: Synthesized) -> None:
    resources = template(synth, "Public")["Resources"]
    access = logical_id_of(template(synth, "Public"), "AWS::Logs::LogGroup", "CatalogueAccessLogs")
    execution = logical_id_of(
        template(synth, "Public"), "AWS::Logs::LogGroup", "CatalogueExecutionLogs"
    )
    assert resources[access]["Properties"]["RetentionInDays"] == 7
    assert resources[execution]["Properties"]["RetentionInDays"] == 3
    assert arn_text(resources[execution]["Properties"]["LogGroupName"]).endswith("/v1")
    assert stage(synth, "Public")["Properties"]["StageName"] == "v1"


def test_rest_api_stage_is_throttled_traced_and_logs_execution_without_data(
    synth: Synthesized,
) -> None:
    properties = stage(synth, "Defaults")["Properties"]
    assert properties["TracingEnabled"] is True
    assert properties["MethodSettings"] == [
        {
            "DataTraceEnabled": False,
            "HttpMethod": "*",
            "LoggingLevel": "INFO",
            "MetricsEnabled": True,
            "ResourcePath": "/*",
            "ThrottlingBurstLimit": 50,
            "ThrottlingRateLimit": 100,
        }
    ]


def test_rest_api_throttling_can_be_set(synth: Synthesized) -> None:
    (settings,) = stage(synth, "Public")["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 20
    assert settings["ThrottlingBurstLimit"] == 10


# --- account logging role -------------------------------------------------------------------


def test_rest_api_account_logging_role_writes_to_the_api_log_groups_only(
    synth: Synthesized,
) -> None:
    role_id = logical_id_of(
        template(synth, "Defaults"), "AWS::IAM::Role", "ApiGatewayAccountLogging"
    )
    role = template(synth, "Defaults")["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
        }
    ]
    access = logical_id_of(template(synth, "Defaults"), "AWS::Logs::LogGroup", "OrdersAccessLogs")
    execution = logical_id_of(
        template(synth, "Defaults"), "AWS::Logs::LogGroup", "OrdersExecutionLogs"
    )
    _, policy = only(
        resources_under(
            template(synth, "Defaults"), "ApiGatewayAccountLoggingCloudWatchRoleDefault"
        )
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [(s["Action"], arn_text(s["Resource"])) for s in statements[:1]] == [
        (
            "logs:DescribeLogGroups",
            "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*",
        )
    ]
    assert statements[1:] == [
        {
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            "Effect": "Allow",
            "Resource": [get_att(execution), get_att(access)],
        }
    ]


def test_rest_api_account_setting_points_at_that_role_before_the_stage(
    synth: Synthesized,
) -> None:
    role_id = logical_id_of(
        template(synth, "Defaults"), "AWS::IAM::Role", "ApiGatewayAccountLogging"
    )
    policy_id = logical_id_of(
        template(synth, "Defaults"), "AWS::IAM::Policy", "ApiGatewayAccountLogging"
    )
    account_id, account = only(
        resources_of_type(template(synth, "Defaults"), "AWS::ApiGateway::Account")
    )
    assert account["Properties"] == {"CloudWatchRoleArn": get_att(role_id)}
    assert as_list(account["DependsOn"]) == [policy_id]
    assert account_id in as_list(stage(synth, "Defaults")["DependsOn"])


def test_rest_apis_of_one_stack_share_one_account_logging_role(synth: Synthesized) -> None:
    (account_id,) = resources_of_type(template(synth, "BringYourOwn"), "AWS::ApiGateway::Account")
    stages = resources_of_type(template(synth, "BringYourOwn"), "AWS::ApiGateway::Stage")
    assert len(stages) == 2
    for each in stages.values():
        assert account_id in as_list(each["DependsOn"])
    policy_id = logical_id_of(
        template(synth, "BringYourOwn"), "AWS::IAM::Policy", "ApiGatewayAccountLogging"
    )
    written = [
        s["Resource"]
        for s in template(synth, "BringYourOwn")["Resources"][policy_id]["Properties"][
            "PolicyDocument"
        ]["Statement"]
        if "logs:PutLogEvents" in as_list(s["Action"])
    ]
    assert len(written) == 2  # one statement per API, each naming that API's log groups


def test_rest_api_can_leave_the_account_logging_role_to_the_account(synth: Synthesized) -> None:
    assert not resources_of_type(template(synth, "Waf"), "AWS::ApiGateway::Account")
    roles = resources_of_type(template(synth, "Waf"), "AWS::IAM::Role")
    assert list(roles) == [
        logical_id_of(template(synth, "Waf"), "AWS::IAM::Role", "HandlerExecutionRole")
    ]


def test_rest_api_roles_have_no_managed_policy_and_no_wildcard_action(synth: Synthesized) -> None:
    for stack in STACKS:
        for role in resources_of_type(template(synth, stack), "AWS::IAM::Role").values():
            assert "ManagedPolicyArns" not in role["Properties"]
        for statement in policy_statements(template(synth, stack)):
            assert not [a for a in as_list(statement["Action"]) if "*" in a], statement
            if "*" in as_list(statement["Resource"]):
                assert all(a.startswith("xray:") for a in as_list(statement["Action"]))


# --- WAF --------------------------------------------------------------------------------------


def test_rest_api_associates_a_given_web_acl_with_the_stage(synth: Synthesized) -> None:
    api_id = logical_id_of(template(synth, "Waf"), "AWS::ApiGateway::RestApi", "OrdersApi")
    stage_id = logical_id_of(template(synth, "Waf"), "AWS::ApiGateway::Stage", "OrdersApi")
    _, association = only(
        resources_of_type(template(synth, "Waf"), "AWS::WAFv2::WebACLAssociation")
    )
    assert association["Properties"]["WebACLArn"] == WEB_ACL_ARN
    assert arn_text(association["Properties"]["ResourceArn"]) == (
        f"arn:<AWS::Partition>:apigateway:{REGION}::/restapis/<{api_id}>/stages/<{stage_id}>"
    )
    assert not acknowledged(synth, "Waf", "AwsSolutions-APIG3")


def test_rest_api_without_web_acl_acknowledges_apig3_with_its_controls(
    synth: Synthesized,
) -> None:
    (entry,) = acknowledged(synth, "Defaults", "AwsSolutions-APIG3")
    assert entry["acknowledgedAt"] == "Defaults/Orders/Api/DeploymentStage.prod"
    assert "throttled to 100 requests per second with bursts of 50" in entry["reason"]
    assert "web_acl_arn=" in entry["reason"]
    (public_entry,) = acknowledged(synth, "Public", "AwsSolutions-APIG3")
    assert PUBLIC_REASON in public_entry["reason"]


# --- reviews: cdk-nag and cfn-lint -----------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_rest_api_stack_has_no_unacknowledged_nag_finding(synth: Synthesized, stack: str) -> None:
    assert findings_in(synth, stack) == [], synth.finding_summary()


def test_rest_api_acknowledgments_are_granular_and_give_reasons(synth: Synthesized) -> None:
    assert unjustified_acknowledgments(synth) == []


def test_rest_api_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert cfn_lint_findings(synth) == []


def test_rest_api_exposes_its_url_stage_and_log_group() -> None:
    stack = cdk.Stack(cdk.App(), "Attributes", env=ENV)
    endpoint = RestApiEndpoint(stack, "Orders", routes={"GET /orders": handler(stack).function})
    assert endpoint.stage.node.path == endpoint.api.deployment_stage.node.path
    assert endpoint.url == endpoint.api.url
    assert isinstance(endpoint.access_log_group, logs.LogGroup)
    assert list(endpoint.routes) == ["GET /orders"]
    assert isinstance(endpoint.routes["GET /orders"], apigateway.Method)
    with pytest.warns(ConstructsLibDeprecationWarning, match=r"use \.routes"):
        assert endpoint.methods is endpoint.routes
    assert endpoint.account_logging_role is not None


# --- validation -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scope() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Validation", env=ENV)


@pytest.fixture(scope="module")
def target(scope: cdk.Stack) -> lambda_.IFunction:
    return handler(scope).function


_counter = iter(range(1_000_000))


def build(scope: cdk.Stack, **props: Any) -> RestApiEndpoint:
    return RestApiEndpoint(scope, f"Api{next(_counter)}", **props)


def error_of(scope: cdk.Stack, **props: Any) -> str:
    with pytest.raises(ConstructPropsError) as caught:
        build(scope, **props)
    return str(caught.value)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("POST/orders", "allowed: 'METHOD /path'"),
        ("POST /orders extra", "allowed: 'METHOD /path'"),
        ("FETCH /orders", "unknown method 'FETCH'"),
        ("get /orders", "unknown method 'get'"),
        ("GET orders", "path 'orders' is invalid"),
        ("GET /orders/", "path '/orders/' is invalid"),
        ("GET /orders//items", "path '/orders//items' is invalid"),
        ("GET /{proxy+}/items", "path '/{proxy+}/items' is invalid"),
        ("GET /orders/{order id}", "allowed: 'METHOD /path'"),
        ("GET /orders/{id}/items/{id}", "path '/orders/{id}/items/{id}' is invalid"),
        ("GET /orders?x=1", "path '/orders?x=1' is invalid"),
    ],
)
def test_rest_api_refuses_a_malformed_route_key(
    scope: cdk.Stack, target: lambda_.IFunction, key: str, expected: str
) -> None:
    message = error_of(scope, routes={key: target})
    assert message.startswith("Validation/Api")
    assert f"routes={key!r}" in message
    assert expected in message


def test_rest_api_refuses_a_duplicate_route_also_when_spaced_differently(
    scope: cdk.Stack, target: lambda_.IFunction
) -> None:
    message = error_of(scope, routes={"POST /orders": target, "POST   /orders": target})
    assert "routes='POST   /orders'" in message
    assert "duplicate route" in message and "'POST /orders'" in message


def test_rest_api_refuses_two_parameter_names_at_one_place(
    scope: cdk.Stack, target: lambda_.IFunction
) -> None:
    message = error_of(scope, routes={"GET /orders/{id}": target, "PUT /orders/{order_id}": target})
    assert "routes='PUT /orders/{order_id}'" in message
    assert "conflicts with {id}" in message


def test_rest_api_refuses_empty_routes(scope: cdk.Stack) -> None:
    message = error_of(scope, routes={})
    assert message.startswith("Validation/Api") and "routes={}" in message
    assert "non-empty dict" in message


def test_rest_api_refuses_a_target_that_is_not_a_function(
    scope: cdk.Stack, target: lambda_.IFunction
) -> None:
    message = error_of(scope, routes={"GET /orders": "orders-function"})
    assert "routes='GET /orders: str'" in message
    assert "aws_lambda.IFunction" in message
    assert "or a LambdaFunction" in message


def test_rest_api_refuses_an_authorizer_together_with_public(scope: cdk.Stack) -> None:
    authorizer = apigateway.TokenAuthorizer(
        scope, "ValidationAuthorizer", handler=handler(scope, "AuthorizerHandler").function
    )
    message = error_of(
        scope,
        routes={"GET /orders": handler(scope, "Authorized").function},
        authorizer=authorizer,
        public=True,
        public_reason=PUBLIC_REASON,
    )
    assert "public=True is invalid" in message and "without an authorizer" in message


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_rest_api_refuses_public_without_a_reason(
    scope: cdk.Stack, target: lambda_.IFunction, reason: str | None
) -> None:
    message = error_of(scope, routes={"GET /orders": target}, public=True, public_reason=reason)
    assert f"public_reason={reason!r} is invalid" in message


def test_rest_api_refuses_a_public_reason_for_an_authorized_api(
    scope: cdk.Stack, target: lambda_.IFunction
) -> None:
    message = error_of(scope, routes={"GET /orders": target}, public_reason=PUBLIC_REASON)
    assert "allowed only together with public=True" in message


@pytest.mark.parametrize(
    ("prop", "value", "allowed"),
    [
        ("throttling_rate_limit", 0, "allowed 1..10000"),
        ("throttling_rate_limit", 10_001, "allowed 1..10000"),
        ("throttling_burst_limit", 0, "allowed 1..5000"),
        ("throttling_burst_limit", 5_001, "allowed 1..5000"),
        ("stage_name", "prod stage", "letters, digits"),
        ("cors_allowed_origins", [], "non-empty list of origins"),
        ("cors_allowed_origins", ["*", "https://a.example.com"], "['*'] alone"),
        ("authorization_scopes", ["orders/read"], "only together with an authorizer"),
        ("access_log_retention", logs.RetentionDays.INFINITE, "finite"),
    ],
)
def test_rest_api_refuses_out_of_range_props(
    scope: cdk.Stack, target: lambda_.IFunction, prop: str, value: Any, allowed: str
) -> None:
    message = error_of(scope, routes={"GET /orders": target}, **{prop: value})
    assert message.startswith("Validation/Api")
    assert f"{prop}=" in message and allowed in message


def test_rest_api_refuses_an_options_route_together_with_cors(
    scope: cdk.Stack, target: lambda_.IFunction
) -> None:
    message = error_of(
        scope,
        routes={"OPTIONS /orders": target},
        cors_allowed_origins=["https://shop.example.com"],
    )
    assert "routes='OPTIONS /orders'" in message and "cors_allowed_origins" in message

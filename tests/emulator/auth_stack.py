"""A small CDK app of authorized APIs for the emulator's authorizer tests.

Built with the library's endpoints: each serves ``GET /echo`` from one function that
answers with the proxy event's ``requestContext``:

- ``IamRest`` and ``IamHttp``: the library's default authorization, AWS IAM (SigV4);
- ``ScopedRest``: a Cognito user-pool authorizer requiring a scope (access tokens);
- ``JwtHttp``: a JWT authorizer for the pool, audience ``AppClient`` (not ``OtherClient``).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2_authorizers as http_authorizers
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_

from constructs_lib import HttpApiEndpoint, RestApiEndpoint

STACK_NAME = "EmulatorAuth"
HANDLERS = Path(__file__).resolve().parent / "tiny_handlers"
#: The scope moto's access tokens carry (Cognito's, for tokens from InitiateAuth).
SIGNIN_SCOPE = "aws.cognito.signin.user.admin"


def synthesize(outdir: Path) -> Path:
    """Synthesize the app into ``outdir`` and return it (the cloud assembly)."""
    app = cdk.App(
        outdir=str(outdir), builtin_cloud_formation_validation=False, analytics_reporting=False
    )
    stack = cdk.Stack(app, STACK_NAME)
    echo = lambda_.Function(
        stack,
        "Echo",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="echo.handle",
        code=lambda_.Code.from_asset(str(HANDLERS), exclude=["__pycache__"]),
    )
    routes = {"GET /echo": echo}
    pool = cognito.UserPool(stack, "Users", removal_policy=cdk.RemovalPolicy.DESTROY)
    flows = cognito.AuthFlow(user_password=True)
    app_client = pool.add_client("AppClient", auth_flows=flows)
    other_client = pool.add_client("OtherClient", auth_flows=flows)
    endpoints = {
        "IamRest": RestApiEndpoint(stack, "IamRest", routes=routes),
        "IamHttp": HttpApiEndpoint(stack, "IamHttp", routes=routes),
        "ScopedRest": RestApiEndpoint(
            stack,
            "ScopedRest",
            routes=routes,
            authorizer=apigateway.CognitoUserPoolsAuthorizer(
                stack, "ScopedAuthorizer", cognito_user_pools=[pool]
            ),
            authorization_scopes=[SIGNIN_SCOPE],
            create_account_logging_role=False,
        ),
        "JwtHttp": HttpApiEndpoint(
            stack,
            "JwtHttp",
            routes=routes,
            authorizer=http_authorizers.HttpJwtAuthorizer(
                "JwtAuthorizer",
                jwt_issuer=f"https://cognito-idp.{stack.region}.amazonaws.com/{pool.user_pool_id}",
                jwt_audience=[app_client.user_pool_client_id],
            ),
        ),
    }
    for name, endpoint in endpoints.items():
        cdk.CfnOutput(stack, f"{name}Url", value=endpoint.url)
    cdk.CfnOutput(stack, "UserPoolId", value=pool.user_pool_id)
    cdk.CfnOutput(stack, "AppClientId", value=app_client.user_pool_client_id)
    cdk.CfnOutput(stack, "OtherClientId", value=other_client.user_pool_client_id)
    app.synth()
    return outdir

"""Authorized APIs served by the emulator: SigV4 on AWS_IAM routes, tokens on Cognito/JWT ones.

One synthesis and one deployment of ``auth_stack`` for the module; the echo function
answers with the ``requestContext`` API Gateway built, so the tests see what a function
would receive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator import (
    DeployedStack,
    Emulator,
    HttpResponse,
    create_user,
    deploy_stack,
    http_request,
    sign_in,
)

from .auth_stack import SIGNIN_SCOPE, STACK_NAME

PASSWORD = "Choose-a-l0ng-passw0rd!"


@pytest.fixture(scope="module")
def cloud_assembly(booting_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .auth_stack import synthesize

    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="module")
def stack(emulator: Emulator, cloud_assembly: Path) -> DeployedStack:
    return deploy_stack(emulator, cloud_assembly, STACK_NAME)


def echo_url(stack: DeployedStack, api: str) -> str:
    return stack.outputs[f"{api}Url"] + "echo"


def iam_user(emulator: Emulator, name: str, policy: dict[str, Any] | None) -> dict[str, str]:
    """An IAM user with an inline policy (if given) and an access key; the key's credentials."""
    iam = emulator.client("iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="invoke", PolicyDocument=json.dumps(policy))
    return dict(iam.create_access_key(UserName=name)["AccessKey"])


def invoke_policy(resource: str, effect: str = "Allow") -> dict[str, Any]:
    statement = {"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}
    return {"Version": "2012-10-17", "Statement": [statement]}


def api_arn(emulator: Emulator, stack: DeployedStack, api: str, rest: str) -> str:
    api_id = stack.outputs[f"{api}Url"].split("//")[1].split(".")[0]
    return f"arn:aws:execute-api:{emulator.region}:{emulator.account_id}:{api_id}/{rest}"


@pytest.fixture(scope="module")
def invoker(emulator: Emulator, stack: DeployedStack) -> dict[str, str]:
    """Allowed to invoke GET /echo of both IAM APIs (on any stage), nothing else."""
    resources = [
        api_arn(emulator, stack, "IamRest", "*/GET/echo"),
        api_arn(emulator, stack, "IamHttp", "*/GET/echo"),
    ]
    return iam_user(emulator, "invoker", invoke_policy(resources))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("api", "answer"),
    [
        ("IamRest", {"message": "Missing Authentication Token"}),
        ("IamHttp", {"message": "Forbidden"}),
    ],
)
def test_an_unsigned_request_to_an_iam_route_is_refused(
    emulator: Emulator, stack: DeployedStack, api: str, answer: dict[str, str]
) -> None:
    response = http_request(emulator, "GET", echo_url(stack, api))
    assert (response.status, response.json()) == (403, answer)


@pytest.mark.parametrize(("api", "payload"), [("IamRest", "rest"), ("IamHttp", "2.0")])
def test_an_allowed_principal_reaches_the_function_as_the_caller(
    emulator: Emulator, stack: DeployedStack, invoker: dict[str, str], api: str, payload: str
) -> None:
    response = http_request(emulator, "GET", echo_url(stack, api), aws_credentials=invoker)
    assert response.status == 200, response
    context = response.json()
    caller = context["identity"] if payload == "rest" else context["authorizer"]["iam"]
    assert caller["userArn"] == f"arn:aws:iam::{emulator.account_id}:user/invoker"
    assert caller["accessKey"] == invoker["AccessKeyId"]


@pytest.mark.parametrize("api", ["IamRest", "IamHttp"])
def test_a_principal_without_an_allow_is_refused_naming_the_route_arn(
    emulator: Emulator, stack: DeployedStack, api: str
) -> None:
    other_api = "IamHttp" if api == "IamRest" else "IamRest"
    outsider = iam_user(
        emulator, f"outsider-{api}", invoke_policy(api_arn(emulator, stack, other_api, "*"))
    )
    response = http_request(emulator, "GET", echo_url(stack, api), aws_credentials=outsider)
    stage = "prod" if api == "IamRest" else "$default"
    route = api_arn(emulator, stack, api, f"{stage}/GET/echo")
    assert response.status == 403
    assert response.json() == {
        "Message": f"User: arn:aws:iam::{emulator.account_id}:user/outsider-{api} is not "
        f"authorized to perform: execute-api:Invoke on resource: {route}"
    }


def test_an_explicit_deny_beats_an_allow(emulator: Emulator, stack: DeployedStack) -> None:
    credentials = iam_user(
        emulator, "denied", invoke_policy(api_arn(emulator, stack, "IamRest", "*"))
    )
    emulator.client("iam").put_user_policy(
        UserName="denied",
        PolicyName="deny",
        PolicyDocument=json.dumps(
            invoke_policy(api_arn(emulator, stack, "IamRest", "*/GET/*"), "Deny")
        ),
    )
    response = http_request(
        emulator, "GET", echo_url(stack, "IamRest"), aws_credentials=credentials
    )
    assert response.status == 403
    assert "is not authorized to perform: execute-api:Invoke" in response.json()["Message"]


def test_an_assumed_role_session_is_the_caller(emulator: Emulator, stack: DeployedStack) -> None:
    iam = emulator.client("iam")
    role = iam.create_role(
        RoleName="api-caller",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]
    iam.put_role_policy(
        RoleName="api-caller",
        PolicyName="invoke",
        PolicyDocument=json.dumps(invoke_policy(api_arn(emulator, stack, "IamHttp", "*"))),
    )
    credentials = emulator.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="tester")[
        "Credentials"
    ]
    response = http_request(
        emulator, "GET", echo_url(stack, "IamHttp"), aws_credentials=credentials
    )
    assert response.status == 200, response
    iam_context = response.json()["authorizer"]["iam"]
    assert (
        iam_context["userArn"]
        == f"arn:aws:sts::{emulator.account_id}:assumed-role/api-caller/tester"
    )
    assert iam_context["callerId"] == f"{role['RoleId']}:tester"


@pytest.mark.parametrize("api", ["IamRest", "IamHttp"])
def test_a_wrong_secret_or_an_unknown_key_is_refused(
    emulator: Emulator, stack: DeployedStack, invoker: dict[str, str], api: str
) -> None:
    wrong_secret = {**invoker, "SecretAccessKey": "not-the-secret"}
    response = http_request(emulator, "GET", echo_url(stack, api), aws_credentials=wrong_secret)
    assert response.status == 403
    assert response.json()["message"].startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    unknown = {"AccessKeyId": "AKIAUNKNOWN000000000", "SecretAccessKey": "x"}
    response = http_request(emulator, "GET", echo_url(stack, api), aws_credentials=unknown)
    assert (response.status, response.json()) == (
        403,
        {"message": "The security token included in the request is invalid."},
    )


def test_a_signature_covers_the_query_string(
    emulator: Emulator, stack: DeployedStack, invoker: dict[str, str]
) -> None:
    url = echo_url(stack, "IamRest") + "?a=1"
    signed = http_request(emulator, "GET", url, aws_credentials=invoker)
    assert signed.status == 200, signed
    # The same signed headers replayed on another query string no longer match.
    from emulator.flows import _sigv4_headers

    headers = _sigv4_headers(emulator, "GET", emulator.local_url(url), None, {}, invoker)
    replayed = http_request(emulator, "GET", url.replace("a=1", "a=2"), headers=headers)
    assert replayed.status == 403


@pytest.fixture(scope="module")
def user(emulator: Emulator, stack: DeployedStack) -> str:
    create_user(emulator, stack.outputs["UserPoolId"], "echo-user", PASSWORD)
    return "echo-user"


def call_jwt_api(emulator: Emulator, stack: DeployedStack, user: str, client: str) -> HttpResponse:
    """``GET /echo`` on the JWT-authorized API with the user's ID token from ``client``."""
    tokens = sign_in(emulator, stack.outputs[client], user, PASSWORD)
    bearer = {"Authorization": f"Bearer {tokens['IdToken']}"}
    return http_request(emulator, "GET", echo_url(stack, "JwtHttp"), headers=bearer)


def test_the_jwt_authorizer_passes_the_claims_to_the_function(
    emulator: Emulator, stack: DeployedStack, user: str
) -> None:
    response = call_jwt_api(emulator, stack, user, "AppClientId")
    assert response.status == 200, response
    jwt = response.json()["authorizer"]["jwt"]
    assert jwt["claims"]["aud"] == stack.outputs["AppClientId"]
    assert jwt["claims"]["cognito:username"] == user
    assert jwt["claims"]["token_use"] == "id"
    assert jwt["claims"]["exp"].isdigit()


def test_the_jwt_authorizer_refuses_a_token_of_another_app_client(
    emulator: Emulator, stack: DeployedStack, user: str
) -> None:
    response = call_jwt_api(emulator, stack, user, "OtherClientId")
    assert (response.status, response.json()) == (401, {"message": "Unauthorized"})
    challenge = response.headers["www-authenticate"]
    assert 'error_description="the token does not have a valid audience"' in challenge


def test_a_scoped_cognito_method_takes_an_access_token_with_the_scope_not_an_id_token(
    emulator: Emulator, stack: DeployedStack, user: str
) -> None:
    tokens = sign_in(emulator, stack.outputs["AppClientId"], user, PASSWORD)
    url = echo_url(stack, "ScopedRest")
    refused = http_request(emulator, "GET", url, headers={"Authorization": tokens["IdToken"]})
    assert (refused.status, refused.json()) == (401, {"message": "Unauthorized"})

    response = http_request(emulator, "GET", url, headers={"Authorization": tokens["AccessToken"]})
    assert response.status == 200, response
    claims = response.json()["authorizer"]["claims"]
    assert claims["token_use"] == "access"
    assert claims["scope"] == SIGNIN_SCOPE
    assert claims["client_id"] == stack.outputs["AppClientId"]
    assert claims["exp"].endswith(" UTC " + claims["exp"][-4:])


def test_each_pool_signs_with_its_own_key_which_its_jwks_publishes(
    emulator: Emulator, stack: DeployedStack, user: str
) -> None:
    from joserfc import jwt
    from joserfc.errors import BadSignatureError
    from joserfc.jwk import KeySet
    from moto.utilities.utils import load_resource

    token = sign_in(emulator, stack.outputs["AppClientId"], user, PASSWORD)["IdToken"]
    jwks_url = f"{emulator.endpoint_url}/{stack.outputs['UserPoolId']}/.well-known/jwks.json"
    published = http_request(emulator, "GET", jwks_url).json()
    claims = jwt.decode(token, KeySet.import_key_set(published), algorithms=["RS256"]).claims
    assert claims["iss"].endswith("/" + stack.outputs["UserPoolId"])
    shipped_with_moto = KeySet.import_key_set(
        load_resource("cognitoidp/resources/jwks-public.json")
    )
    with pytest.raises(BadSignatureError):
        jwt.decode(token, shipped_with_moto, algorithms=["RS256"])

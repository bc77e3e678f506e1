"""One emulator, one synthesis and one OrdersSample deployment shared by every e2e module,
and a user signed in to its pool.

The emulator boots while the app synthesizes; modules that need other stacks deploy them
into the same emulator under other names. Skipped only when the emulator cannot start.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import (
    DeployedStack,
    Emulator,
    create_user,
    deploy_stack,
    sign_in,
    start_emulator,
)
from tests.emulator_support import ready_or_skip

STACK = "OrdersSample"
USERNAME = "e2e-user@example.com"
PASSWORD = "Choose-a-l0ng-passw0rd!"


@pytest.fixture(scope="session")
def booting_emulator() -> Iterator[Emulator]:
    with start_emulator(wait=False) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def cloud_assembly(booting_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Synthesized while the emulator boots: the same app code `make synth` runs.
    import aws_cdk as cdk

    from orders_sample.stack import OrdersSample

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir), analytics_reporting=False)
    OrdersSample(app, STACK)
    app.synth()
    return outdir


@pytest.fixture(scope="session")
def emulator(booting_emulator: Emulator, cloud_assembly: Path) -> Emulator:
    return ready_or_skip(booting_emulator)


@pytest.fixture(scope="session")
def stack(emulator: Emulator, cloud_assembly: Path) -> DeployedStack:
    return deploy_stack(emulator, cloud_assembly, STACK)


def signed_in_user(emulator: Emulator, stack: DeployedStack) -> dict[str, str]:
    """The tokens of a user of ``stack``'s pool, created and signed in through its app client
    as README's "Try it" does."""
    create_user(emulator, stack.outputs["UserPoolId"], USERNAME, PASSWORD)
    return sign_in(emulator, stack.outputs["UserPoolClientId"], USERNAME, PASSWORD)


def api_headers(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """``API output name -> headers`` that authorize the user of ``tokens`` on that API."""
    return {api: authorization(api, tokens["IdToken"]) for api in ("RestApiUrl", "HttpApiUrl")}


@pytest.fixture(scope="session")
def tokens(emulator: Emulator, stack: DeployedStack) -> dict[str, str]:
    """A user of the sample's pool, signed in."""
    return signed_in_user(emulator, stack)


def authorization(api: str, id_token: str) -> dict[str, str]:
    """The header each API's authorizer reads: the bare ID token for the REST API's Cognito
    authorizer, ``Bearer <token>`` for the HTTP API's JWT authorizer."""
    return {"Authorization": id_token if api == "RestApiUrl" else f"Bearer {id_token}"}


@pytest.fixture(scope="session")
def signed_in(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """``API output name -> headers`` that authorize the signed-in user on that API."""
    return api_headers(tokens)

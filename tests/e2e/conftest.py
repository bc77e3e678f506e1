"""One OrdersSample deployment for every end-to-end module, and a user signed in to its pool.

The package-scoped fixtures synthesize the app once (while the emulator boots) and deploy
it once; each test module drives its flows against that deployment. Skipped only when the
emulator cannot start.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import (
    DeployedStack,
    Emulator,
    EmulatorStartError,
    create_user,
    deploy_stack,
    sign_in,
    start_emulator,
)

STACK = "OrdersSample"
USERNAME = "e2e-user@example.com"
PASSWORD = "Choose-a-l0ng-passw0rd!"


@pytest.fixture(scope="package")
def booting_emulator() -> Iterator[Emulator]:
    with start_emulator(wait=False) as emulator:
        yield emulator


@pytest.fixture(scope="package")
def cloud_assembly(booting_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Synthesized while the emulator boots: the same app code `make synth` runs.
    import aws_cdk as cdk

    from orders_sample.stack import OrdersSample

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir), analytics_reporting=False)
    OrdersSample(app, STACK)
    app.synth()
    return outdir


@pytest.fixture(scope="package")
def emulator(booting_emulator: Emulator, cloud_assembly: Path) -> Emulator:
    try:
        return booting_emulator.wait_until_ready()
    except EmulatorStartError as error:
        pytest.skip(f"the emulator (moto server) cannot start here: {error}")


@pytest.fixture(scope="package")
def stack(emulator: Emulator, cloud_assembly: Path) -> DeployedStack:
    return deploy_stack(emulator, cloud_assembly, STACK)


@pytest.fixture(scope="package")
def tokens(emulator: Emulator, stack: DeployedStack) -> dict[str, str]:
    """A user of the stack's pool, signed in through its app client, as README's "Try it"."""
    create_user(emulator, stack.outputs["UserPoolId"], USERNAME, PASSWORD)
    return sign_in(emulator, stack.outputs["UserPoolClientId"], USERNAME, PASSWORD)


def authorization(api: str, id_token: str) -> dict[str, str]:
    """The header each API's authorizer reads: the bare ID token for the REST API's Cognito
    authorizer, ``Bearer <token>`` for the HTTP API's JWT authorizer."""
    return {"Authorization": id_token if api == "RestApiUrl" else f"Bearer {id_token}"}


@pytest.fixture(scope="package")
def signed_in(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """``API output name -> headers`` that authorize the signed-in user on that API."""
    return {api: authorization(api, tokens["IdToken"]) for api in ("RestApiUrl", "HttpApiUrl")}

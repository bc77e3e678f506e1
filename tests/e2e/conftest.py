"""One emulator, one synthesis and one OrdersSample deployment shared by every e2e module.

The emulator boots while the app synthesizes; modules that need other stacks deploy them
into the same emulator under other names. Skipped only when the emulator cannot start.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import DeployedStack, Emulator, deploy_stack, start_emulator
from tests.emulator_support import ready_or_skip

STACK = "OrdersSample"


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

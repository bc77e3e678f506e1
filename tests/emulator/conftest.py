"""Fixtures for the emulator's tests: one emulator and one deployment per module, one
synthesis of the tiny app per test session.

The first module's server boots (a few seconds of importing moto) while the tiny app
synthesizes; later modules reuse the cloud assembly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import DeployedStack, Emulator, deploy_stack, start_emulator
from tests.emulator_support import ready_or_skip


@pytest.fixture(scope="module")
def booting_emulator() -> Iterator[Emulator]:
    with start_emulator(wait=False) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def tiny_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .tiny_stack import synthesize  # imports aws_cdk

    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="module")
def cloud_assembly(booting_emulator: Emulator, tiny_assembly: Path) -> Path:
    # Requested after booting_emulator: the server boots while the app synthesizes.
    return tiny_assembly


@pytest.fixture(scope="module")
def emulator(booting_emulator: Emulator, cloud_assembly: Path) -> Emulator:
    return ready_or_skip(booting_emulator)


@pytest.fixture(scope="module")
def tiny_stack(emulator: Emulator, cloud_assembly: Path) -> DeployedStack:
    from .tiny_stack import STACK_NAME

    return deploy_stack(emulator, cloud_assembly, STACK_NAME)

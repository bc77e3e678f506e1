"""Helpers for tests that run the emulator (no aws_cdk import: the server boots meanwhile)."""

from __future__ import annotations

import pytest

from emulator import Emulator, EmulatorStartError


def ready_or_skip(booting_emulator: Emulator) -> Emulator:
    """Wait for a booting emulator; skip the tests that need it if it cannot start here."""
    try:
        return booting_emulator.wait_until_ready()
    except EmulatorStartError as error:
        pytest.skip(f"the emulator (moto server) cannot start here: {error}")

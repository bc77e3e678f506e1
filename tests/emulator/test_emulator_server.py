"""The emulator starts on 127.0.0.1 and, however the block ends, leaves nothing behind."""

from __future__ import annotations

import io
import os
import socket
import zipfile

import pytest

from emulator import Emulator, EmulatorStartError, start_emulator

SLEEPER = "import time\ndef handler(event, context):\n    time.sleep(60)\n"


def _sleeping_function(emulator: Emulator) -> str:
    """Create (through the API, no stack needed) a function that sleeps a minute."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("sleeper.py", SLEEPER)
    role = emulator.client("iam").create_role(RoleName="sleeper", AssumeRolePolicyDocument="{}")
    emulator.client("lambda").create_function(
        FunctionName="sleeper",
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="sleeper.handler",
        Code={"ZipFile": archive.getvalue()},
        Timeout=120,
    )
    return "sleeper"


def _port_is_free(port: int) -> bool:
    """Nothing listens on the port any more. (Binding it to find out fails whenever another
    process's outgoing connection was given it as its local port, which the CDK CLI's and the
    emulators' connections in the other test worker do often enough.)"""
    with socket.socket() as probe:
        probe.settimeout(2)
        try:
            probe.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def _group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_stopping_after_an_error_leaves_no_process_port_or_files_behind() -> None:
    try:
        with pytest.raises(RuntimeError, match="the test fails here"), start_emulator() as emulator:
            assert emulator.endpoint_url == f"http://127.0.0.1:{emulator.port}"
            assert emulator.client("s3").list_buckets()["Buckets"] == []
            # A function still running when the block ends must not survive it.
            emulator.client("lambda").invoke(
                FunctionName=_sleeping_function(emulator), InvocationType="Event"
            )
            process = emulator._process
            assert process is not None
            port, pgid, work_dir = emulator.port, process.pid, emulator.work_dir
            raise RuntimeError("the test fails here")
    except EmulatorStartError as error:
        pytest.skip(f"the emulator (moto server) cannot start here: {error}")

    assert process.poll() is not None
    assert _group_is_gone(pgid), "a Lambda subprocess outlived the emulator"
    assert _port_is_free(port)
    assert not work_dir.exists()
    assert not emulator.running

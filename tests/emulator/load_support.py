"""Build what the emulator's load tests need through the AWS APIs (no CDK synthesis), and
read the emulator's processes from /proc."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from emulator import Emulator

HANDLERS = Path(__file__).resolve().parent / "load_handlers"
#: A role for the functions: every action on every resource (their IAM is not under test).
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(HANDLERS / "load.py", "load.py")
    return buffer.getvalue()


def create_role(emulator: Emulator, name: str) -> str:
    iam = emulator.client("iam")
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    return arn


def create_function(
    emulator: Emulator, name: str, handler: str, role_arn: str, **settings: Any
) -> str:
    """Create a function running ``load_handlers/load.py``'s ``handler``; return its ARN."""
    arn: str = emulator.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role_arn,
        Handler=f"load.{handler}",
        Code={"ZipFile": handler_zip()},
        Timeout=30,
        **settings,
    )["FunctionArn"]
    return arn


def create_table(emulator: Emulator, name: str, key: str, stream: bool) -> dict[str, Any]:
    extra: dict[str, Any] = (
        {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
        if stream
        else {}
    )
    description: dict[str, Any] = emulator.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )["TableDescription"]
    return description


def stream_records(emulator: Emulator, stream_arn: str) -> list[dict[str, Any]]:
    """Every record in the table's stream, read with GetRecords from the start."""
    streams = emulator.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            break
        records += page["Records"]
        iterator = page.get("NextShardIterator")
    return records


def sandbox_processes(emulator: Emulator) -> list[int]:
    """Process ids of the emulator's live Lambda sandboxes (``lambda_bootstrap`` children)."""
    return [pid for pid, command in _group_processes(emulator) if "lambda_bootstrap" in command]


def resident_mebibytes(emulator: Emulator) -> float:
    """Resident memory of the emulator's server and every process it started, in MiB."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid, _ in _group_processes(emulator):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return total / 2**20


def _group_processes(emulator: Emulator) -> list[tuple[int, str]]:
    """(pid, command line) of the processes in the server's process group."""
    group = emulator.server_pid
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name (field 2) may hold spaces; the fields after it do not.
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[2]) == group:
            found.append((int(entry.name), command))
    return found

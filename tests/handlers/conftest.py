"""Fixtures for the Lambda handler tests: AWS mocked in-process by moto, no network."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
sys.path.insert(0, str(LAMBDA_SRC))

REGION = "us-east-1"
TABLE_NAME = "orders-test"
BUCKET_NAME = "orders-uploads-test"
ROLE_ARN = "arn:aws:iam::123456789012:role/orders-workflow"

# Read when the handler modules are imported (Tracer, Metrics, Logger), so set them for the
# import only; tests set what they need per test, leaving the session's environment alone.
IMPORT_ENV = {
    "POWERTOOLS_SERVICE_NAME": "orders",
    "POWERTOOLS_METRICS_NAMESPACE": "Orders",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
with pytest.MonkeyPatch.context() as _patch:
    for _name, _value in IMPORT_ENV.items():
        _patch.setenv(_name, _value)
    import orders.api
    import orders.aws
    import orders.idempotency
    import orders.ingest
    import orders.store
    import orders.stream
    import orders.workflow


def pytest_configure(config: pytest.Config) -> None:
    # Powertools warns when an invocation adds no metric (every rejected request): expected.
    config.addinivalue_line(
        "filterwarnings", "ignore:No application metrics to publish:UserWarning"
    )


class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name = "orders-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:orders-test"
    aws_request_id = "lambda-request-0001"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


def _clear_clients() -> None:
    orders.aws.forget_clients()
    orders.idempotency.cache_clear()


@pytest.fixture(scope="module")
def aws_session() -> Iterator[boto3.Session]:
    """Moto for every AWS call of one test module, with dummy credentials and the
    handlers' environment; the environment is restored afterwards.

    Module scope keeps the suite fast: moto's backends and boto3's models load once per
    module, and each test cleans only the resources it uses.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            **IMPORT_ENV,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "TABLE_NAME": TABLE_NAME,
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            _clear_clients()  # clients made under another mock would talk to its gone backend
            yield boto3.Session(region_name=REGION)
        _clear_clients()


@pytest.fixture
def aws(aws_session: boto3.Session) -> boto3.Session:
    """The module's mocked AWS session (for tests that need no resource)."""
    return aws_session


def new_table(session: boto3.Session, name: str, partition_key: str) -> Any:
    """A new on-demand moto table with a string partition key."""
    return session.resource("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": partition_key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": partition_key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture(scope="module")
def _orders_table(aws_session: boto3.Session) -> Any:
    return new_table(aws_session, TABLE_NAME, "order_id")


@pytest.fixture
def table(_orders_table: Any) -> Any:
    """The orders table (partition key ``order_id``), emptied for each test."""
    with _orders_table.batch_writer() as batch:
        for item in _orders_table.scan(ProjectionExpression="order_id")["Items"]:
            batch.delete_item(Key=item)
    return _orders_table


@pytest.fixture(scope="module")
def _uploads_bucket(aws_session: boto3.Session) -> Any:
    return aws_session.resource("s3").create_bucket(Bucket=BUCKET_NAME)


@pytest.fixture
def bucket(_uploads_bucket: Any) -> str:
    """The name of the upload bucket, emptied for each test."""
    _uploads_bucket.objects.all().delete()
    return BUCKET_NAME


@pytest.fixture
def state_machine(aws_session: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new one-state machine for each test; its ARN is in ``STATE_MACHINE_ARN``."""
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    arn = aws_session.client("stepfunctions").create_state_machine(
        name=f"orders-workflow-{uuid.uuid4().hex}",
        definition=json.dumps(definition),
        roleArn=ROLE_ARN,
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    return arn


class _Records(logging.Handler):
    """Keeps each log line as Powertools formats it (JSON), at the time it is logged."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)

    def entries(self, message: str) -> list[dict[str, Any]]:
        """The parsed log entries whose message is ``message``."""
        parsed = [json.loads(line) for line in self.lines]
        return [entry for entry in parsed if entry.get("message") == message]


@pytest.fixture
def logs() -> Iterator[_Records]:
    """Records logged by the handlers' Powertools logger (named after the service)."""
    service_logger = logging.getLogger(IMPORT_ENV["POWERTOOLS_SERVICE_NAME"])
    handler = _Records()
    # Powertools' own formatter: it holds the appended keys (correlation_id and the like).
    handler.setFormatter(service_logger.handlers[0].formatter)
    service_logger.addHandler(handler)
    yield handler
    service_logger.removeHandler(handler)


class _LostFirstResponse:
    """A DynamoDB client whose every ``PutItem`` commits, loses its answer and is sent again,
    as botocore does after a 500 or a timeout that came after the write had succeeded."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.puts = 0

    def put_item(self, **request: Any) -> Any:
        self._client.put_item(**request)  # committed; the answer never reaches the caller
        self.puts += 2
        return self._client.put_item(**request)  # the SDK's retry of the same request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def lost_put_responses(aws_session: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every PutItem the handlers make is retried by "the SDK" after it had succeeded."""
    client = _LostFirstResponse(orders.store.dynamodb())
    monkeypatch.setattr(orders.store, "dynamodb", lambda: client)
    return client

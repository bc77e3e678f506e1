"""AWS clients, each created on first use and reused by warm invocations.

The clients are botocore's: boto3 adds nothing these functions call (resources, managed
S3 transfers), and importing it loads s3transfer as well, a measurable share of a cold
start. Region, credentials and ``AWS_ENDPOINT_URL`` come from the environment, as for boto3.
botocore is imported when the first client is made, not when a handler module is.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import botocore.session


@functools.cache
def client(service_name: str) -> Any:
    """The client of ``service_name`` (``"dynamodb"``, ``"s3"``, ``"stepfunctions"``).

    Creating clients is not thread-safe: create one before sharing it with threads.
    """
    return _session().create_client(service_name)


@functools.cache
def _session() -> botocore.session.Session:
    # Imported on first use: botocore's session and client modules are the largest import
    # of these functions, and a request that is refused before any AWS call never needs them.
    import botocore.session

    return botocore.session.get_session()


def forget_clients() -> None:
    """Drop every client and the session (tests switch between mocked AWS backends)."""
    client.cache_clear()
    _session.cache_clear()

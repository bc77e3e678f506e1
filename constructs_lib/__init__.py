"""Secure-by-default AWS CDK constructs for serverless back ends.

``from constructs_lib import LambdaFunction`` loads only the aws_cdk service modules
that construct needs: every public name is imported on first use (each aws_cdk service
module costs 0.3-0.9 s to load through jsii).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ConstructPropsError, ConstructsLibDeprecationWarning

if TYPE_CHECKING:
    from ._acknowledge import acknowledge_finding
    from ._alarms import AlarmOptions, AlarmSetting
    from ._deployment import LambdaDeployment
    from .function import LambdaFunction
    from .http_api import HttpApiEndpoint
    from .idempotency import IdempotencyStore
    from .operations_hub import OperationsHub
    from .queues import failure_queue
    from .rest_api import RestApiEndpoint
    from .role import LeastPrivilegeRole, apply_permissions_boundary
    from .s3_trigger import S3Trigger
    from .stream_mapping import StreamMapping
    from .table import DynamoTable
    from .workflow import Workflow

_MODULE_OF = {
    "LeastPrivilegeRole": ".role",
    "apply_permissions_boundary": ".role",
    "failure_queue": ".queues",
    "acknowledge_finding": "._acknowledge",
    "LambdaFunction": ".function",
    "DynamoTable": ".table",
    "IdempotencyStore": ".idempotency",
    "RestApiEndpoint": ".rest_api",
    "HttpApiEndpoint": ".http_api",
    "S3Trigger": ".s3_trigger",
    "StreamMapping": ".stream_mapping",
    "Workflow": ".workflow",
    "AlarmOptions": "._alarms",
    "AlarmSetting": "._alarms",
    "LambdaDeployment": "._deployment",
    "OperationsHub": ".operations_hub",
}

__all__ = [
    "AlarmOptions",
    "AlarmSetting",
    "ConstructPropsError",
    "ConstructsLibDeprecationWarning",
    "DynamoTable",
    "HttpApiEndpoint",
    "IdempotencyStore",
    "LambdaDeployment",
    "LambdaFunction",
    "LeastPrivilegeRole",
    "OperationsHub",
    "RestApiEndpoint",
    "S3Trigger",
    "StreamMapping",
    "Workflow",
    "acknowledge_finding",
    "apply_permissions_boundary",
    "failure_queue",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # The version is defined once, in pyproject.toml; the installed metadata carries it.
        from importlib.metadata import version

        return version("constructs-lib")
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

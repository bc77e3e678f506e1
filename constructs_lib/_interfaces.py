"""Props that take an aws-cdk interface, and accept this library's construct for it too.

Where a prop takes an ``aws_lambda.IFunction``, ``iam.IRole`` or ``aws_dynamodb.ITable``, the
library's own :class:`LambdaFunction`, :class:`LeastPrivilegeRole` or :class:`DynamoTable`
is accepted and stands for the resource it wraps. Anything else is refused with a
:class:`ConstructPropsError` naming what is allowed.

jsii interfaces are not runtime-checkable, so a CDK value is recognised by the members the
library uses. The library's construct classes are looked up among the loaded modules: a value
cannot be an instance of a module nobody imported, and importing it here would cost every
construct the aws_cdk service modules of the others.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from constructs import Construct

from ._validation import fail

if TYPE_CHECKING:
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_s3 as s3

#: Per interface: members a CDK value has, the library construct that stands in for one
#: (module, class, attribute giving the wrapped resource), and what the error says is allowed.
_FUNCTION = (
    ("function_arn", "grant_invoke", "add_permission"),
    ("function", "LambdaFunction", "invoke_target"),
    "an aws_lambda.IFunction or a LambdaFunction",
)
_ROLE = (
    ("role_arn", "role_name", "add_to_principal_policy"),
    ("role", "LeastPrivilegeRole", "role"),
    "an aws_iam.IRole or a LeastPrivilegeRole",
)
_TABLE = (
    ("table_arn", "table_stream_arn", "grant_read_data"),
    ("table", "DynamoTable", "table"),
    "an aws_dynamodb.ITable or a DynamoTable",
)
_FUNCTION_WITH_ENVIRONMENT = (
    ("function_arn", "add_environment", "grant_invoke"),
    ("function", "LambdaFunction", "function"),
    "a LambdaFunction or an aws_lambda.Function defined in this app (imported functions "
    "and aliases have no environment to set)",
)
_BUCKET = (("bucket_arn", "bucket_name", "arn_for_objects"), None, "an aws_s3.IBucket")


def function_of(scope: Construct, prop: str, value: object) -> lambda_.IFunction:
    """``value`` as an ``IFunction``; a :class:`LambdaFunction` gives its ``invoke_target``."""
    return cast("lambda_.IFunction", _as_interface(scope, prop, value, *_FUNCTION))


def function_with_environment_of(scope: Construct, prop: str, value: object) -> lambda_.Function:
    """``value`` as a ``Function`` whose environment this app sets; a :class:`LambdaFunction`
    gives its ``function``."""
    return cast("lambda_.Function", _as_interface(scope, prop, value, *_FUNCTION_WITH_ENVIRONMENT))


def role_of(scope: Construct, prop: str, value: object) -> iam.IRole:
    """``value`` as an ``IRole``; a :class:`LeastPrivilegeRole` gives its ``role``."""
    return cast("iam.IRole", _as_interface(scope, prop, value, *_ROLE))


def table_of(scope: Construct, prop: str, value: object) -> dynamodb.ITable:
    """``value`` as an ``ITable``; a :class:`DynamoTable` gives its ``table``."""
    return cast("dynamodb.ITable", _as_interface(scope, prop, value, *_TABLE))


def bucket_of(scope: Construct, prop: str, value: object) -> s3.IBucket:
    """``value`` as an ``IBucket`` (the library has no bucket construct of its own)."""
    return cast("s3.IBucket", _as_interface(scope, prop, value, *_BUCKET))


def _as_interface(
    scope: Construct,
    prop: str,
    value: object,
    members: Iterable[str],
    stand_in: tuple[str, str, str] | None,
    allowed: str,
) -> object:
    if stand_in is not None:
        module, class_name, attribute = stand_in
        wrapper = library_construct(value, module, class_name)
        if wrapper is not None:
            return getattr(wrapper, attribute)
    if value is None or not all(hasattr(value, name) for name in members):
        node = getattr(value, "node", None)
        shown = node.path if node is not None else value
        raise fail(scope, prop, shown, f"allowed: {allowed}")
    return value


def library_construct(value: object, module: str, class_name: str) -> Any:
    """``value`` if it is an instance of this library's ``module.class_name``, else None."""
    loaded = sys.modules.get(f"{__package__}.{module}")
    cls = getattr(loaded, class_name, None)
    return value if cls is not None and isinstance(value, cls) else None

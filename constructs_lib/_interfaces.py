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

FUNCTION_MEMBERS = ("function_arn", "grant_invoke", "add_permission")
ROLE_MEMBERS = ("role_arn", "role_name", "add_to_principal_policy")
TABLE_MEMBERS = ("table_arn", "table_stream_arn", "grant_read_data")
BUCKET_MEMBERS = ("bucket_arn", "bucket_name", "arn_for_objects")


def function_of(scope: Construct, prop: str, value: object) -> lambda_.IFunction:
    """``value`` as an ``IFunction``; a :class:`LambdaFunction` gives its ``invoke_target``."""
    wrapper = library_construct(value, "function", "LambdaFunction")
    if wrapper is not None:
        return cast("lambda_.IFunction", wrapper.invoke_target)
    _check_members(
        scope, prop, value, FUNCTION_MEMBERS, "an aws_lambda.IFunction or a LambdaFunction"
    )
    return cast("lambda_.IFunction", value)


def role_of(scope: Construct, prop: str, value: object) -> iam.IRole:
    """``value`` as an ``IRole``; a :class:`LeastPrivilegeRole` gives its ``role``."""
    wrapper = library_construct(value, "role", "LeastPrivilegeRole")
    if wrapper is not None:
        return cast("iam.IRole", wrapper.role)
    _check_members(scope, prop, value, ROLE_MEMBERS, "an aws_iam.IRole or a LeastPrivilegeRole")
    return cast("iam.IRole", value)


def table_of(scope: Construct, prop: str, value: object) -> dynamodb.ITable:
    """``value`` as an ``ITable``; a :class:`DynamoTable` gives its ``table``."""
    wrapper = library_construct(value, "table", "DynamoTable")
    if wrapper is not None:
        return cast("dynamodb.ITable", wrapper.table)
    _check_members(scope, prop, value, TABLE_MEMBERS, "an aws_dynamodb.ITable or a DynamoTable")
    return cast("dynamodb.ITable", value)


def bucket_of(scope: Construct, prop: str, value: object) -> s3.IBucket:
    """``value`` as an ``IBucket`` (the library has no bucket construct of its own)."""
    _check_members(scope, prop, value, BUCKET_MEMBERS, "an aws_s3.IBucket")
    return cast("s3.IBucket", value)


def library_construct(value: object, module: str, class_name: str) -> Any:
    """``value`` if it is an instance of this library's ``module.class_name``, else None."""
    loaded = sys.modules.get(f"{__package__}.{module}")
    cls = getattr(loaded, class_name, None)
    return value if cls is not None and isinstance(value, cls) else None


def _check_members(
    scope: Construct, prop: str, value: object, members: Iterable[str], allowed: str
) -> None:
    if value is None or not all(hasattr(value, name) for name in members):
        node = getattr(value, "node", None)
        shown = node.path if node is not None else value
        raise fail(scope, prop, shown, f"allowed: {allowed}")

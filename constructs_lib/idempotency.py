"""IdempotencyStore: the table Powertools' idempotency utility keeps its records in."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from constructs import Construct

from ._interfaces import function_with_environment_of
from ._validation import fail
from .table import DynamoTable

if TYPE_CHECKING:
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_lambda as lambda_

    from ._alarms import AlarmOptions
    from .function import LambdaFunction

#: Partition key and TTL attribute of Powertools' ``DynamoDBPersistenceLayer`` defaults.
PARTITION_KEY = "id"
TIME_TO_LIVE_ATTRIBUTE = "expiration"

#: The calls ``DynamoDBPersistenceLayer`` makes: ``put_item`` (claim a key), ``get_item``
#: (read a record the claim found), ``update_item`` (store the result), ``delete_item``
#: (release the key when the function fails).
PERSISTENCE_ACTIONS = (
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)

#: What a caller of a table under a customer-managed key needs on the key: aws-cdk's
#: read/write grant without its wildcard actions (``ReEncrypt*``, ``GenerateDataKey*``),
#: which item reads and writes do not use.
KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")

#: The variable the table's name is passed in, unless ``enable_for`` is told otherwise.
ENVIRONMENT_VARIABLE = "IDEMPOTENCY_TABLE_NAME"

_ENVIRONMENT_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class IdempotencyStore(Construct):
    """A DynamoDB table for Powertools' idempotency utility (DynamoDB persistence layer).

    The table has the layout ``DynamoDBPersistenceLayer`` expects by default: partition key
    ``id`` (string) and time to live on ``expiration``, so DynamoDB deletes records once
    they expire. It is a :class:`~constructs_lib.DynamoTable`: billed on demand, with
    point-in-time recovery and encryption at rest. :meth:`enable_for` gives a function
    exactly the access the utility needs and tells it the table's name.

    Parameters
    ----------
    removal_policy:
        Default: ``RemovalPolicy.RETAIN``, with deletion protection. Losing the records
        while clients still retry would let a retried request run twice.
    encryption_key:
        A customer-managed KMS key to encrypt with. Default: none, DynamoDB encrypts with an
        AWS-owned key.
    point_in_time_recovery:
        Default: ``True``.
    table_name:
        Default: none (CloudFormation names the table).
    alarms:
        :class:`~constructs_lib.AlarmOptions`, as on :class:`~constructs_lib.DynamoTable`.
        Default: alarms on the table's ``ThrottledRequests`` and ``SystemErrors``.

    Attributes
    ----------
    table: ``aws_dynamodb.Table``
    alarms: ``dict`` of alarm name to ``cloudwatch.Alarm`` (the table's)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        encryption_key: kms.IKey | None = None,
        point_in_time_recovery: bool = True,
        table_name: str | None = None,
        alarms: AlarmOptions | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # validate and build: DynamoTable checks what it is given.
        self._encryption_key = encryption_key
        records = DynamoTable(
            self,
            "Records",
            partition_key=PARTITION_KEY,
            time_to_live_attribute=TIME_TO_LIVE_ATTRIBUTE,
            removal_policy=removal_policy,
            encryption_key=encryption_key,
            point_in_time_recovery=point_in_time_recovery,
            table_name=table_name,
            alarms=alarms,
        )
        self.table: dynamodb.Table = records.table
        self.alarms = records.alarms

    def enable_for(
        self,
        function: lambda_.Function | LambdaFunction,
        *,
        environment_variable: str = ENVIRONMENT_VARIABLE,
    ) -> iam.Grant:
        """Let ``function`` keep idempotency records here, and tell it where.

        Grants ``dynamodb:GetItem``, ``PutItem``, ``UpdateItem`` and ``DeleteItem`` on this
        table only (and :data:`KEY_ACTIONS` on its key, when it has a customer-managed one),
        and sets ``environment_variable`` to the table's name on the function.

        Parameters
        ----------
        function:
            A :class:`LambdaFunction` or an ``aws_lambda.Function``: imported functions and
            aliases have no environment this stack can set.
        environment_variable:
            Default: ``IDEMPOTENCY_TABLE_NAME``.

        Returns
        -------
        ``aws_iam.Grant``
            The grant on the table.
        """
        target = function_with_environment_of(self, "function", function)
        if not isinstance(environment_variable, str) or not _ENVIRONMENT_VARIABLE_NAME.fullmatch(
            environment_variable
        ):
            raise fail(
                self,
                "environment_variable",
                environment_variable,
                "allowed: a name of letters, digits and underscores, not starting with a digit",
            )

        target.add_environment(environment_variable, self.table.table_name)
        if self._encryption_key is not None:
            self._encryption_key.grant(target, *KEY_ACTIONS)
        return self.table.grant(target, *PERSISTENCE_ACTIONS)

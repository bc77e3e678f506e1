"""DynamoTable: an on-demand table with recovery, encryption and deletion protection on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from . import defaults
from ._alarms import AlarmOptions, table_alarms
from ._validation import check_non_empty_string, check_one_of, fail

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms


class DynamoTable(Construct):
    """An ``AWS::DynamoDB::Table`` with the settings a production table needs.

    Parameters
    ----------
    partition_key:
        Name of the partition key attribute. Required.
    partition_key_type:
        Default: ``AttributeType.STRING``.
    sort_key, sort_key_type:
        Optional sort key. Default: none; type ``STRING``.
    stream:
        Stream view type (e.g. ``StreamViewType.NEW_AND_OLD_IMAGES``). Default: no stream.
    time_to_live_attribute:
        Attribute holding the expiry epoch seconds. Default: none.
    removal_policy:
        Default: ``RemovalPolicy.RETAIN``; a retained table also gets deletion protection.
    encryption_key:
        A customer-managed KMS key to encrypt with. Default: none, DynamoDB encrypts with an
        AWS-owned key.
    point_in_time_recovery:
        Continuous backups for the last 35 days. Default: ``True``.
    table_name:
        Default: none (CloudFormation names the table, so stacks can be deployed twice).
    alarms:
        :class:`~constructs_lib.AlarmOptions`. Default: alarms on ``ThrottledRequests`` and
        ``SystemErrors``, summed over the item and query operations.

    Billing is always on demand (pay per request): no capacity to size or to throttle on.

    Attributes
    ----------
    table: ``aws_dynamodb.Table``
    alarms: ``dict`` of alarm name to ``cloudwatch.Alarm``
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        partition_key: str,
        partition_key_type: dynamodb.AttributeType = dynamodb.AttributeType.STRING,
        sort_key: str | None = None,
        sort_key_type: dynamodb.AttributeType = dynamodb.AttributeType.STRING,
        stream: dynamodb.StreamViewType | None = None,
        time_to_live_attribute: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        encryption_key: kms.IKey | None = None,
        point_in_time_recovery: bool = defaults.TABLE_POINT_IN_TIME_RECOVERY,
        table_name: str | None = None,
        alarms: AlarmOptions | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        # validate
        check_non_empty_string(self, "partition_key", partition_key)
        if sort_key is not None:
            check_non_empty_string(self, "sort_key", sort_key)
            if sort_key == partition_key:
                raise fail(self, "sort_key", sort_key, "allowed: a name other than partition_key")
        if time_to_live_attribute is not None:
            check_non_empty_string(self, "time_to_live_attribute", time_to_live_attribute)
        # CloudFormation has no Snapshot deletion policy for AWS::DynamoDB::Table.
        check_one_of(
            self, "removal_policy", removal_policy, [RemovalPolicy.RETAIN, RemovalPolicy.DESTROY]
        )

        # build
        retained = removal_policy == RemovalPolicy.RETAIN
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=partition_key, type=partition_key_type),
            sort_key=(dynamodb.Attribute(name=sort_key, type=sort_key_type) if sort_key else None),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=stream,
            time_to_live_attribute=time_to_live_attribute,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=point_in_time_recovery
            ),
            encryption=(
                dynamodb.TableEncryption.CUSTOMER_MANAGED
                if encryption_key is not None
                else dynamodb.TableEncryption.DEFAULT
            ),
            encryption_key=encryption_key,
            deletion_protection=retained,
            removal_policy=removal_policy,
            table_name=table_name,
        )

        # expose
        self.alarms = table_alarms(self, alarms, table=self.table)

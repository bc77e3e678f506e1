"""S3Trigger: run a function for objects created under a prefix, with no hidden helper."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import defaults
from ._acknowledge import AWS_SOLUTIONS, acknowledge, acknowledge_wildcard_resource
from ._alarms import AlarmOptions, s3_trigger_alarms
from ._deprecation import renamed_prop
from ._interfaces import bucket_of, function_of
from ._validation import check_duration, check_int_range, fail
from .queues import failure_queue

if TYPE_CHECKING:
    from .function import LambdaFunction

#: What the function may do with the objects under the prefix.
OBJECT_READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
#: Key prefix of server access log objects in the log bucket.
ACCESS_LOG_PREFIX = "access-logs/"
#: What the function may do under the quarantine prefix.
QUARANTINE_WRITE_ACTIONS = ("s3:PutObject",)
#: Id of the bucket's request-metrics filter on the quarantine prefix.
QUARANTINE_METRICS_FILTER_ID = "Quarantine"


class S3Trigger(Construct):
    """Invoke a function for every object created in a bucket under a prefix/suffix.

    Delivery goes S3 → Amazon EventBridge → an EventBridge rule → the function. The
    bucket's EventBridge switch is set directly on its ``AWS::S3::Bucket`` resource, so
    the stack holds no ``BucketNotificationsHandler`` function, no role with a managed
    policy and no ``s3:PutBucketNotification`` on ``*`` (which is what
    ``Bucket.add_event_notification`` adds). Events the function does not accept after
    the retries go to an encrypted dead-letter queue.

    Parameters
    ----------
    function:
        Any ``aws_lambda.IFunction`` (function, alias, imported function) or a
        :class:`LambdaFunction` (its ``invoke_target``). Required. The
        function receives EventBridge ``Object Created`` events
        (``event["detail"]["bucket"]["name"]``, ``event["detail"]["object"]["key"]``).
    bucket:
        An existing ``aws_s3.IBucket``. Default: a new bucket that blocks all public access,
        is encrypted (SSE-S3), TLS-only, versioned, retained, and writes server access logs
        to a log bucket created beside it. A ``s3.Bucket`` defined in the same app gets its
        EventBridge notifications switched on here. An imported bucket must have them on
        already (S3 console → Properties → Amazon EventBridge → On, or
        ``PutBucketNotificationConfiguration`` with ``EventBridgeConfiguration``): this
        construct cannot change an imported bucket.
    prefix, suffix:
        Object key prefix / suffix to match (e.g. ``"uploads/"``, ``".json"``). Default:
        every key. ``*`` is refused in either, and a prefix starting with ``/`` (an object
        uploaded as ``s3://bucket/uploads/a.json`` has the key ``uploads/a.json``).
    retry_attempts:
        EventBridge delivery retries, 0..185. Default: 8.
    max_event_age:
        60 seconds..24 hours. Default: 1 hour.
    dead_letter_queue:
        Where events go that the function did not accept after the retries. Default: a new
        SQS queue, SQS-encrypted, TLS-only, 14 days' retention, retained. (Called
        ``on_failure_queue`` before; that name still works for one release and warns.)
    quarantine_prefix:
        Key prefix, in the same bucket, where the function keeps what it rejects (files it
        cannot read, elements it cannot store) for a person to fix and upload again.
        Default: None (no quarantine). The function may ``s3:PutObject`` under it (and use
        the bucket's KMS key to encrypt, if it has one); quarantined objects are encrypted
        as the bucket is and kept until deleted. It must lie outside what the rule matches
        (not start with ``prefix``, nor ``prefix`` with it; a trigger without ``prefix``
        matches every key and takes no quarantine), so that nothing quarantined is
        ingested again. The function learns the prefix from you (e.g. an environment
        variable set to ``.quarantine_prefix``). On a bucket defined in the app, a
        request-metrics filter on the prefix (CloudWatch request metrics, billed as custom
        metrics) feeds the ``QuarantinedObjects`` alarm.
    alarms:
        :class:`~constructs_lib.AlarmOptions`. Default: alarms on the rule's
        ``FailedInvocations`` and ``DeadLetterQueueMessages``, and with a quarantine on a
        bucket defined in the app, ``QuarantinedObjects`` (a put under the prefix, 1 of 1).

    Attributes
    ----------
    bucket: ``aws_s3.IBucket``
    access_logs_bucket: ``aws_s3.Bucket`` or None (None when a bucket was given)
    rule: ``aws_events.Rule``
    dead_letter_queue: ``aws_sqs.IQueue``
    quarantine_prefix: ``str`` or None
    alarms: ``dict`` of alarm name to ``cloudwatch.Alarm``

    The function may read (``s3:GetObject``, ``s3:GetObjectVersion``) the objects whose keys
    match ``<prefix>*<suffix>`` and nothing else in the bucket.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction | LambdaFunction,
        bucket: s3.IBucket | None = None,
        prefix: str | None = None,
        suffix: str | None = None,
        retry_attempts: int = defaults.TRIGGER_RETRY_ATTEMPTS,
        max_event_age: Duration | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        on_failure_queue: sqs.IQueue | None = None,
        quarantine_prefix: str | None = None,
        alarms: AlarmOptions | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        dead_letter_queue = renamed_prop(
            self, "on_failure_queue", on_failure_queue, "dead_letter_queue", dead_letter_queue
        )
        max_event_age = max_event_age or Duration.seconds(defaults.TRIGGER_MAX_EVENT_AGE_SECONDS)

        # validate
        function = function_of(self, "function", function)
        if bucket is not None:
            bucket = bucket_of(self, "bucket", bucket)
        self._check_key_part("prefix", prefix)
        self._check_key_part("suffix", suffix)
        self._check_quarantine_prefix(quarantine_prefix, prefix)
        check_int_range(
            self, "retry_attempts", retry_attempts, *defaults.TRIGGER_RETRY_ATTEMPTS_RANGE
        )
        check_duration(
            self, "max_event_age", max_event_age, *defaults.TRIGGER_MAX_EVENT_AGE_RANGE_SECONDS
        )

        # build
        self.access_logs_bucket: s3.Bucket | None = None
        if bucket is None:
            self.access_logs_bucket = self._access_logs_bucket()
            bucket = self._secure_bucket(self.access_logs_bucket)
        self.bucket: s3.IBucket = bucket
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue or failure_queue(
            self, "DeadLetterQueue", holds="object-created events the function did not accept"
        )

        # wire
        _send_object_events_to_eventbridge(self.bucket)
        self.rule = self._object_created_rule(prefix, suffix)
        self.rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )
        )

        # grant
        self._grant_object_read(function, f"{prefix or ''}*{suffix or ''}")
        quarantine_puts = self._quarantine(function, quarantine_prefix)

        # expose
        self.quarantine_prefix = quarantine_prefix
        self.alarms = s3_trigger_alarms(
            self, alarms, rule=self.rule, queue=self.dead_letter_queue, quarantine=quarantine_puts
        )

    def _object_created_rule(self, prefix: str | None, suffix: str | None) -> events.Rule:
        return events.Rule(
            self,
            "ObjectCreated",
            description=f"Objects created in the bucket matching {prefix or ''}*{suffix or ''}",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail=self._detail_pattern(prefix, suffix),
            ),
        )

    def _grant_object_read(self, function: lambda_.IFunction, key_pattern: str) -> None:
        # Read the objects the rule matches, nothing else. GetObjectVersion lets the function
        # read the very version whose creation it was told about, not a newer one.
        iam.Grant.add_to_principal(
            grantee=function,
            actions=list(OBJECT_READ_ACTIONS),
            resource_arns=[self.bucket.arn_for_objects(key_pattern)],
        )
        if self.bucket.encryption_key is not None:
            self.bucket.encryption_key.grant_decrypt(function)
        self._acknowledge_object_read(function, key_pattern)

    def _quarantine(
        self, function: lambda_.IFunction, quarantine_prefix: str | None
    ) -> tuple[str, str] | None:
        """Let the function write under the quarantine prefix; what counts its puts, if any."""
        if quarantine_prefix is None:
            return None
        self._grant_quarantine_write(function, quarantine_prefix)
        return self._count_quarantine_puts(quarantine_prefix)

    def _grant_quarantine_write(self, function: lambda_.IFunction, quarantine_prefix: str) -> None:
        objects = self.bucket.arn_for_objects(f"{quarantine_prefix}*")
        iam.Grant.add_to_principal(
            grantee=function, actions=list(QUARANTINE_WRITE_ACTIONS), resource_arns=[objects]
        )
        if self.bucket.encryption_key is not None:
            self.bucket.encryption_key.grant_encrypt(function)
        if isinstance(function.role, iam.Role):
            acknowledge_wildcard_resource(
                function.role,
                objects,
                "s3:PutObject only, under the trigger's quarantine prefix "
                f"'{quarantine_prefix}': the function keeps there the files and elements it "
                "rejects, under keys derived from the rejected object, not known in advance.",
            )

    def _count_quarantine_puts(self, quarantine_prefix: str) -> tuple[str, str] | None:
        # Request metrics per prefix are the one S3 metric that sees a put under a prefix;
        # a bucket not defined in this app cannot be given the filter.
        if not isinstance(self.bucket, s3.Bucket):
            return None
        self.bucket.add_metric(id=QUARANTINE_METRICS_FILTER_ID, prefix=quarantine_prefix)
        return self.bucket.bucket_name, QUARANTINE_METRICS_FILTER_ID

    def _check_quarantine_prefix(self, value: str | None, prefix: str | None) -> None:
        if value is None or Token.is_unresolved(value):
            return
        self._check_key_part("quarantine_prefix", value)
        if prefix is None or Token.is_unresolved(prefix):
            if prefix is None:
                raise fail(
                    self,
                    "quarantine_prefix",
                    value,
                    "allowed only with a prefix: without one the trigger matches every key, "
                    "so each quarantined object would be ingested again",
                )
            return
        if value.startswith(prefix) or prefix.startswith(value):
            raise fail(
                self,
                "quarantine_prefix",
                value,
                f"allowed: a prefix outside the trigger's prefix {prefix!r} (neither may start "
                "with the other), so that nothing quarantined is ingested again",
            )

    def _check_key_part(self, prop: str, value: str | None) -> None:
        if value is None or Token.is_unresolved(value):
            return
        if not isinstance(value, str) or not value or "*" in value:
            raise fail(self, prop, value, "allowed: a non-empty literal key part without '*'")
        if prop == "prefix" and value.startswith("/"):
            raise fail(
                self,
                prop,
                value,
                "allowed: a prefix without a leading '/': an object uploaded as "
                "'s3://bucket/uploads/a.json' has the key 'uploads/a.json', so this prefix "
                f"would match none of them (write {value.lstrip('/')!r})",
            )

    def _detail_pattern(self, prefix: str | None, suffix: str | None) -> dict[str, object]:
        detail: dict[str, object] = {"bucket": {"name": [self.bucket.bucket_name]}}
        if prefix and suffix:
            # An EventBridge pattern can AND a prefix with a suffix only through a wildcard.
            key = events.Match.wildcard(_escape_wildcard(prefix) + "*" + _escape_wildcard(suffix))
        elif prefix:
            key = events.Match.prefix(prefix)
        elif suffix:
            key = events.Match.suffix(suffix)
        else:
            return detail
        detail["object"] = {"key": key}
        return detail

    def _access_logs_bucket(self) -> s3.Bucket:
        logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(defaults.ACCESS_LOG_EXPIRATION_DAYS))
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            logs_bucket,
            AWS_SOLUTIONS,
            "AwsSolutions-S1",
            "This bucket is the server access log destination of the trigger's bucket; "
            "logging access to the log bucket itself would write logs about log delivery "
            "without end.",
        )
        return logs_bucket

    def _secure_bucket(self, access_logs_bucket: s3.Bucket) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Server access logs are delivered under a bucket policy, not the LogDeliveryWrite
        # ACL that aws-cdk's server_access_logs_bucket uses unless the app sets a feature
        # flag: ACLs are disabled on both buckets (BucketOwnerEnforced).
        cfn_bucket = cast(s3.CfnBucket, bucket.node.default_child)
        cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=access_logs_bucket.bucket_name,
            log_file_prefix=ACCESS_LOG_PREFIX,
        )
        access_logs_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowServerAccessLogDelivery",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[access_logs_bucket.arn_for_objects(f"{ACCESS_LOG_PREFIX}*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                },
            )
        )
        return bucket

    def _acknowledge_object_read(self, function: lambda_.IFunction, key_pattern: str) -> None:
        # The finding sits on the function's role policy, so that is where it is acknowledged.
        role = function.role
        if not isinstance(role, iam.Role):
            return
        acknowledge_wildcard_resource(
            role,
            self.bucket.arn_for_objects(key_pattern),
            "s3:GetObject and s3:GetObjectVersion only, on the objects whose keys match the "
            f"trigger's pattern '{key_pattern}': the function reads the objects whose creation "
            "triggers it, whose keys are not known in advance.",
        )


def _send_object_events_to_eventbridge(bucket: s3.IBucket) -> None:
    # Set on the resource itself: aws-cdk's event_bridge_enabled=True goes through the
    # BucketNotificationsHandler custom resource, which is what this construct avoids.
    cfn_bucket = bucket.node.default_child
    if isinstance(cfn_bucket, s3.CfnBucket):
        cfn_bucket.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )


def _escape_wildcard(text: str) -> str:
    return text.replace("\\", "\\\\")

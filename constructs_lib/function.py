"""LambdaFunction: a function with its own role, log group, tracing and dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import defaults
from ._acknowledge import acknowledge_unscoped_resources
from ._alarms import AlarmOptions, function_alarms
from ._deployment import LambdaDeployment, release_through_codedeploy
from ._logs import owned_log_group
from ._queues import failure_queue
from ._template import drop_dependency_enforced_by_reference
from ._validation import check_duration, check_int_range, check_non_empty_string, fail
from .role import LeastPrivilegeRole

#: The newest Python runtime this aws-cdk-lib knows (cdk-nag's L1 / LatestVersion rules want it).
DEFAULT_RUNTIME = lambda_.Runtime.PYTHON_3_14


class LambdaFunction(Construct):
    """A Lambda function wired the way a security review expects.

    Parameters
    ----------
    code, handler:
        The function's code and handler (``"orders.api.handler"``). Required.
    runtime:
        Default: ``Runtime.PYTHON_3_14``, the newest Python runtime aws-cdk-lib knows.
        Any runtime works (e.g. ``PROVIDED_AL2023`` with a Go ``bootstrap``).
    memory_size:
        MB, 128..10240. Default: 256.
    timeout:
        1 second..15 minutes. Default: 10 seconds.
    environment:
        Environment variables. Default: none.
    log_retention:
        Retention of the function's own log group; never ``INFINITE``. Default: one month.
    role:
        Execution role to use instead of a new :class:`LeastPrivilegeRole`. Default: a new
        role with no managed policy, allowed to write to this function's log group only.
    architecture:
        Default: ``Architecture.ARM_64``.
    tracing:
        X-Ray active tracing. Default: ``True``.
    reserved_concurrent_executions:
        Default: none (account pool).
    alias_name:
        Publish a version and point an alias with this name at it. Default: none.
    provisioned_concurrent_executions:
        Provisioned concurrency on the alias; needs ``alias_name``. Default: none.
    on_failure_queue:
        Dead-letter queue for asynchronous invocations that failed all retries. Default: a
        new SQS queue, SQS-encrypted, TLS-only, 14 days' retention, retained.
    powertools_layer:
        Attach the Powertools for AWS Lambda (Python) v3 layer (Python runtimes only).
        Default: ``True``.
    powertools_layer_version:
        Layer version number. Default: :data:`constructs_lib.defaults.POWERTOOLS_LAYER_VERSION`.
    description, function_name:
        Passed through. Default: none (CloudFormation names the function).
    alarms:
        :class:`~constructs_lib.AlarmOptions`. Default: alarms on ``ErrorRate`` (5 % of
        invocations), ``Throttles``, ``Duration`` (p99 at 90 % of ``timeout``; left out
        for a token timeout), ``DeadLetterQueueMessages`` and ``DeadLetterErrors``.
    deployment:
        :class:`~constructs_lib.LambdaDeployment`: release each new version behind the
        alias (needs ``alias_name``) through CodeDeploy, canary or linear, rolling back on
        this function's alarms. Default: none (the alias moves at once).

    Attributes
    ----------
    function: ``aws_lambda.Function``
    role: ``iam.IRole`` (the execution role)
    log_group: ``aws_logs.LogGroup``
    dead_letter_queue: ``aws_sqs.IQueue``
    alias: ``aws_lambda.Alias`` or None
    alarms: ``dict`` of alarm name to ``cloudwatch.Alarm``
    deployment_group: ``aws_codedeploy.LambdaDeploymentGroup`` or None
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        runtime: lambda_.Runtime = DEFAULT_RUNTIME,
        memory_size: int = defaults.FUNCTION_MEMORY_MB,
        timeout: Duration | None = None,
        environment: Mapping[str, str] | None = None,
        log_retention: logs.RetentionDays | None = None,
        role: iam.IRole | None = None,
        architecture: lambda_.Architecture = lambda_.Architecture.ARM_64,
        tracing: bool = True,
        reserved_concurrent_executions: int | None = None,
        alias_name: str | None = None,
        provisioned_concurrent_executions: int | None = None,
        on_failure_queue: sqs.IQueue | None = None,
        powertools_layer: bool = True,
        powertools_layer_version: int = defaults.POWERTOOLS_LAYER_VERSION,
        description: str | None = None,
        function_name: str | None = None,
        alarms: AlarmOptions | None = None,
        deployment: LambdaDeployment | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = timeout or Duration.seconds(defaults.FUNCTION_TIMEOUT_SECONDS)

        # validate
        if not isinstance(code, lambda_.Code):
            raise fail(self, "code", code, "allowed: an aws_lambda.Code")
        check_non_empty_string(self, "handler", handler)
        check_int_range(self, "memory_size", memory_size, *defaults.FUNCTION_MEMORY_RANGE_MB, "MB")
        check_duration(self, "timeout", timeout, *defaults.FUNCTION_TIMEOUT_RANGE_SECONDS)
        check_int_range(
            self, "reserved_concurrent_executions", reserved_concurrent_executions, 0, 1_000_000
        )
        self._check_alias_props(
            alias_name, provisioned_concurrent_executions, reserved_concurrent_executions
        )
        check_int_range(self, "powertools_layer_version", powertools_layer_version, 1, 100_000)

        # build
        self.log_group = owned_log_group(self, "LogGroup", retention=log_retention)
        self.role: iam.IRole = (
            role if role is not None else LeastPrivilegeRole(self, "ExecutionRole").role
        )
        self.dead_letter_queue: sqs.IQueue = on_failure_queue or failure_queue(
            self, "DeadLetterQueue", holds="failed asynchronous invocations of this function"
        )
        self.function = lambda_.Function(
            self,
            "Function",
            code=code,
            handler=handler,
            runtime=runtime,
            architecture=architecture,
            memory_size=memory_size,
            timeout=timeout,
            environment=dict(environment or {}),
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            reserved_concurrent_executions=reserved_concurrent_executions,
            dead_letter_queue=self.dead_letter_queue,
            description=description,
            function_name=function_name,
        )
        drop_dependency_enforced_by_reference(self.function, self.role)
        if powertools_layer and runtime.family == lambda_.RuntimeFamily.PYTHON:
            self.function.add_layers(
                lambda_.LayerVersion.from_layer_version_arn(
                    self,
                    "PowertoolsLayer",
                    self._powertools_layer_arn(runtime, architecture, powertools_layer_version),
                )
            )
        self.alias: lambda_.Alias | None = None
        if alias_name is not None:
            self.alias = lambda_.Alias(
                self,
                "Alias",
                alias_name=alias_name,
                version=self.function.current_version,
                provisioned_concurrent_executions=provisioned_concurrent_executions,
            )

        # grant: the function writes only to its own log group
        self.log_group.grant_write(self.role)
        if tracing and isinstance(self.role, iam.Role):
            acknowledge_unscoped_resources(
                self.role,
                "xray:PutTraceSegments and xray:PutTelemetryRecords are granted on '*' "
                "for Lambda active tracing: AWS X-Ray has no resource-level permissions, "
                "so no narrower resource exists.",
            )

        # expose: alarms, and releases that roll back on them
        self.alarms = function_alarms(self, alarms, per_version=deployment is not None)
        self.deployment_group = release_through_codedeploy(self, deployment)

    def _check_alias_props(
        self, alias_name: str | None, provisioned: int | None, reserved: int | None
    ) -> None:
        if alias_name is not None:
            check_non_empty_string(self, "alias_name", alias_name)
        if provisioned is None:
            return
        if alias_name is None:
            raise fail(
                self,
                "provisioned_concurrent_executions",
                provisioned,
                "allowed only together with alias_name (provisioned concurrency is set on an "
                "alias)",
            )
        upper = 1_000_000
        if reserved is not None and not Token.is_unresolved(reserved):
            upper = reserved
        check_int_range(self, "provisioned_concurrent_executions", provisioned, 1, upper)

    def _powertools_layer_arn(
        self, runtime: lambda_.Runtime, architecture: lambda_.Architecture, version: int
    ) -> str:
        # Layer names carry the Python version and architecture, e.g.
        # AWSLambdaPowertoolsPythonV3-python314-arm64; the region comes from the stack.
        stack = Stack.of(self)
        python_tag = runtime.name.replace(".", "")
        arch_tag = "arm64" if architecture.name == lambda_.Architecture.ARM_64.name else "x86_64"
        return (
            f"arn:{stack.partition}:lambda:{stack.region}:{defaults.POWERTOOLS_LAYER_ACCOUNT}"
            f":layer:AWSLambdaPowertoolsPythonV3-{python_tag}-{arch_tag}:{version}"
        )



"""LambdaFunction: a function with its own role, log group, tracing and dead-letter queue."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Annotations, CfnMapping, Duration, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import defaults
from ._acknowledge import acknowledge_unscoped_resources
from ._alarms import AlarmOptions, function_alarms
from ._deployment import LambdaDeployment, release_through_codedeploy
from ._deprecation import renamed_prop
from ._interfaces import role_of
from ._logs import owned_log_group
from ._template import drop_dependency_enforced_by_reference
from ._validation import check_duration, check_int_range, check_non_empty_string, fail
from .queues import failure_queue
from .role import LeastPrivilegeRole

#: The runtime a function gets unless one is given: :data:`defaults.FUNCTION_RUNTIME`.
DEFAULT_RUNTIME: lambda_.Runtime = getattr(lambda_.Runtime, defaults.FUNCTION_RUNTIME)
#: The architecture a function gets unless one is given: :data:`defaults.FUNCTION_ARCHITECTURE`.
DEFAULT_ARCHITECTURE: lambda_.Architecture = getattr(
    lambda_.Architecture, defaults.FUNCTION_ARCHITECTURE
)
#: Recursive loop detection unless told otherwise: :data:`defaults.FUNCTION_RECURSIVE_LOOP`.
DEFAULT_RECURSIVE_LOOP: lambda_.RecursiveLoop = lambda_.RecursiveLoop[
    defaults.FUNCTION_RECURSIVE_LOOP
]
#: aws-cdk's warning that SnapStart applies to published versions only: the library refuses
#: snap_start without the alias (a published version), so the warning is answered.
_SNAP_START_PUBLISH_WARNING = "@aws-cdk/aws-lambda:snapStartRequirePublish"
#: Construct id of the per-stack mapping of Powertools layer publishers (env-agnostic stacks).
_PUBLISHERS_MAPPING_ID = "PowertoolsLayerPublishers"


@jsii.implements(iam.IGrantable)
class LambdaFunction(Construct):
    """A Lambda function wired the way a security review expects.

    Parameters
    ----------
    code, handler:
        The function's code and handler (``"orders.api.handler"``). Required.
    runtime:
        Default: ``Runtime.PYTHON_3_14`` (:data:`constructs_lib.defaults.FUNCTION_RUNTIME`),
        the newest Python runtime aws-cdk-lib knows. Any runtime works (e.g.
        ``PROVIDED_AL2023`` with a Go ``bootstrap``).
    memory_size:
        MB, 128..10240. Default: 256.
    timeout:
        1 second..15 minutes. Default: 10 seconds.
    environment:
        Environment variables. Default: none.
    log_retention:
        Retention of the function's own log group; never ``INFINITE``. Default: one month.
    role:
        Execution role to use instead of a new one: an ``iam.IRole`` or a
        :class:`LeastPrivilegeRole`. Default: a new :class:`LeastPrivilegeRole` with no
        managed policy, allowed to write to this function's log group only.
    architecture:
        Default: ``Architecture.ARM_64``.
    tracing:
        X-Ray active tracing. Default: ``True``.
    recursive_loop:
        What Lambda does when it detects the function in a recursive loop through SQS, SNS
        or S3: ``RecursiveLoop.TERMINATE`` stops the chain, ``ALLOW`` lets it run (for a
        function that recurses on purpose). Default: ``RecursiveLoop.TERMINATE``, written
        into the template (:data:`constructs_lib.defaults.FUNCTION_RECURSIVE_LOOP`).
    snap_start:
        Lambda SnapStart on the published versions (``SnapStartConf.ON_PUBLISHED_VERSIONS``):
        new execution environments resume from a snapshot taken when a version is published.
        Needs ``alias_name`` (the alias serves the published version; ``$LATEST`` never has
        SnapStart) and a runtime that supports it (Python 3.12 and later, Java 11 and later,
        .NET 8 and later); refused with ``provisioned_concurrent_executions``, which AWS does
        not combine with SnapStart. Default: ``False``: for Python, SnapStart is billed for
        caching each version's snapshot and for each restore
        (:data:`constructs_lib.defaults.FUNCTION_SNAP_START`).
    reserved_concurrent_executions:
        Default: none (account pool).
    alias_name:
        Publish a version and point an alias with this name at it. Default: none.
    provisioned_concurrent_executions:
        Provisioned concurrency on the alias; needs ``alias_name``. Default: none.
    dead_letter_queue:
        Queue for asynchronous invocations that failed all retries. Default: a new SQS
        queue, SQS-encrypted, TLS-only, 14 days' retention, retained. (Called
        ``on_failure_queue`` before; that name still works for one release and warns.)
    powertools_layer:
        Attach the Powertools for AWS Lambda (Python) v3 layer (Python runtimes only), from
        the account that publishes it in the stack's region and partition. A stack whose
        region has no published layer is refused (pass ``powertools_layer=False`` and your
        own ``layers=``); an environment-agnostic stack picks the account from a
        ``Mappings`` entry at deploy time. Default: ``True``.
    powertools_layer_version:
        Which layer: a layer version number, or a Powertools release (``"3.23.0"``) resolved
        at deploy time from the public SSM parameter AWS publishes for it,
        ``/aws/service/powertools/python/<arch>/python3.<minor>/<release>`` (it exists in
        every region the layer is published in; ``"latest"`` is refused, as a deploy must
        be repeatable). Default: the version pinned for the stack's region,
        :data:`constructs_lib.defaults.POWERTOOLS_LAYER_VERSION` (commercial regions and
        China) or :data:`constructs_lib.defaults.POWERTOOLS_GOVCLOUD_LAYER_VERSION`
        (AWS GovCloud (US)); an environment-agnostic stack looks it up at deploy time.
    layers:
        More layers to attach. Default: none.
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
    invoke_target: ``aws_lambda.IFunction``, what invokers call: the alias if there is
    one, else the function. Props of this library that take an ``IFunction`` accept the
    ``LambdaFunction`` itself and use this.
    grant_principal: the execution role, so that ``table.grant_read_data(function)`` works.
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
        role: iam.IRole | LeastPrivilegeRole | None = None,
        architecture: lambda_.Architecture = DEFAULT_ARCHITECTURE,
        tracing: bool = defaults.FUNCTION_TRACING,
        recursive_loop: lambda_.RecursiveLoop = DEFAULT_RECURSIVE_LOOP,
        snap_start: bool = defaults.FUNCTION_SNAP_START,
        reserved_concurrent_executions: int | None = None,
        alias_name: str | None = None,
        provisioned_concurrent_executions: int | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        powertools_layer: bool = True,
        powertools_layer_version: int | str | None = None,
        layers: Sequence[lambda_.ILayerVersion] | None = None,
        description: str | None = None,
        function_name: str | None = None,
        on_failure_queue: sqs.IQueue | None = None,
        alarms: AlarmOptions | None = None,
        deployment: LambdaDeployment | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        dead_letter_queue = renamed_prop(
            self, "on_failure_queue", on_failure_queue, "dead_letter_queue", dead_letter_queue
        )
        timeout = timeout or Duration.seconds(defaults.FUNCTION_TIMEOUT_SECONDS)
        given_role = role_of(self, "role", role) if role is not None else None

        # validate
        self._check_props(
            code, handler, memory_size, timeout, reserved_concurrent_executions,
            alias_name, provisioned_concurrent_executions, powertools_layer_version,
        )  # fmt: skip
        self._check_start_and_loop(
            snap_start, recursive_loop, runtime, alias_name, provisioned_concurrent_executions
        )

        # build
        all_layers = list(layers or []) + self._powertools_layers(
            powertools_layer, runtime, architecture, powertools_layer_version
        )
        self.log_group = owned_log_group(self, "LogGroup", retention=log_retention)
        self.role: iam.IRole = given_role or LeastPrivilegeRole(self, "ExecutionRole").role
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue or failure_queue(
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
            recursive_loop=recursive_loop,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            reserved_concurrent_executions=reserved_concurrent_executions,
            dead_letter_queue=self.dead_letter_queue,
            layers=all_layers or None,
            description=description,
            function_name=function_name,
        )
        drop_dependency_enforced_by_reference(self.function, self.role)
        self.alias = self._alias(alias_name, provisioned_concurrent_executions, snap_start)

        # grant
        self._grant_logging_and_tracing(tracing)

        # expose: alarms, and releases that roll back on them
        self.alarms = function_alarms(self, alarms, per_version=deployment is not None)
        self.deployment_group = release_through_codedeploy(self, deployment)

    def _alias(
        self, alias_name: str | None, provisioned: int | None, snap_start: bool
    ) -> lambda_.Alias | None:
        if alias_name is None:
            return None
        if snap_start:
            Annotations.of(self.function).acknowledge_warning(
                _SNAP_START_PUBLISH_WARNING,
                "SnapStart is served through the alias, which points at a published version",
            )
        return lambda_.Alias(
            self,
            "Alias",
            alias_name=alias_name,
            version=self.function.current_version,
            provisioned_concurrent_executions=provisioned,
        )

    def _grant_logging_and_tracing(self, tracing: bool) -> None:
        # The function writes only to its own log group.
        self.log_group.grant_write(self.role)
        if tracing and isinstance(self.role, iam.Role):
            acknowledge_unscoped_resources(
                self.role,
                "xray:PutTraceSegments and xray:PutTelemetryRecords are granted on '*' "
                "for Lambda active tracing: AWS X-Ray has no resource-level permissions, "
                "so no narrower resource exists.",
            )

    # expose
    @property
    def invoke_target(self) -> lambda_.IFunction:
        """What invokers call: the alias when ``alias_name`` was given, else the function."""
        return self.alias if self.alias is not None else self.function

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The execution role: grants given to this construct land on it."""
        return self.role

    def _check_props(
        self,
        code: lambda_.Code,
        handler: str,
        memory_size: int,
        timeout: Duration,
        reserved: int | None,
        alias_name: str | None,
        provisioned: int | None,
        powertools_layer_version: int | str | None,
    ) -> None:
        if not isinstance(code, lambda_.Code):
            raise fail(self, "code", code, "allowed: an aws_lambda.Code")
        check_non_empty_string(self, "handler", handler)
        check_int_range(self, "memory_size", memory_size, *defaults.FUNCTION_MEMORY_RANGE_MB, "MB")
        check_duration(self, "timeout", timeout, *defaults.FUNCTION_TIMEOUT_RANGE_SECONDS)
        check_int_range(self, "reserved_concurrent_executions", reserved, 0, 1_000_000)
        if isinstance(powertools_layer_version, str):
            if not re.fullmatch(r"\d+\.\d+\.\d+", powertools_layer_version):
                raise fail(
                    self,
                    "powertools_layer_version",
                    powertools_layer_version,
                    "allowed: a layer version number, or a Powertools release such as "
                    "'3.23.0' (not 'latest': a deploy must be repeatable)",
                )
        elif powertools_layer_version is not None:
            check_int_range(self, "powertools_layer_version", powertools_layer_version, 1, 100_000)
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

    def _check_start_and_loop(
        self,
        snap_start: bool,
        recursive_loop: lambda_.RecursiveLoop,
        runtime: lambda_.Runtime,
        alias_name: str | None,
        provisioned: int | None,
    ) -> None:
        if not isinstance(recursive_loop, lambda_.RecursiveLoop):
            raise fail(
                self,
                "recursive_loop",
                recursive_loop,
                "allowed: aws_lambda.RecursiveLoop.TERMINATE or RecursiveLoop.ALLOW",
            )
        if not isinstance(snap_start, bool):
            raise fail(self, "snap_start", snap_start, "allowed: True or False")
        if not snap_start:
            return
        if not runtime.supports_snap_start:
            raise fail(
                self,
                "snap_start",
                True,
                f"allowed only on a runtime with SnapStart (Python 3.12 and later, Java 11 and "
                f"later, .NET 8 and later), not {runtime.name}",
            )
        if alias_name is None:
            raise fail(
                self,
                "snap_start",
                True,
                "allowed only together with alias_name: SnapStart applies to published "
                "versions, which the alias serves ($LATEST never has SnapStart)",
            )
        if provisioned is not None:
            raise fail(
                self,
                "snap_start",
                True,
                "allowed only without provisioned_concurrent_executions: AWS Lambda does not "
                "combine SnapStart with provisioned concurrency",
            )

    def _powertools_layers(
        self,
        wanted: bool,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        version: int | str | None,
    ) -> list[lambda_.ILayerVersion]:
        if not wanted or runtime.family != lambda_.RuntimeFamily.PYTHON:
            return []
        return [self._powertools_layer(runtime, architecture, version)]

    def _powertools_layer(
        self,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        version: int | str | None,
    ) -> lambda_.ILayerVersion:
        arch_tag = "arm64" if architecture.name == lambda_.Architecture.ARM_64.name else "x86_64"
        if isinstance(version, str):
            # The parameter holds the layer ARN of that release, per region and partition.
            parameter = f"/aws/service/powertools/python/{arch_tag}/{runtime.name}/{version}"
            arn = f"{{{{resolve:ssm:{parameter}}}}}"
        else:
            # Layer names carry the Python version and architecture, e.g.
            # AWSLambdaPowertoolsPythonV3-python314-arm64; the partition comes from the stack.
            stack = Stack.of(self)
            python_tag = runtime.name.replace(".", "")
            publisher = self._powertools_publisher(stack)
            pinned = version if version is not None else publisher["Version"]
            arn = (
                f"arn:{stack.partition}:lambda:{stack.region}:{publisher['Account']}"
                f":layer:AWSLambdaPowertoolsPythonV3-{python_tag}-{arch_tag}:{pinned}"
            )
        return lambda_.LayerVersion.from_layer_version_arn(self, "PowertoolsLayer", arn)

    def _powertools_publisher(self, stack: Stack) -> dict[str, str]:
        """The publishing account of the stack's region and the layer version pinned there
        (``Account``, ``Version``): values, or lookups in a mapping when the region is only
        known at deploy time."""
        publishers = {
            region: {"Account": account, "Version": str(defaults.POWERTOOLS_LAYER_VERSIONS[region])}
            for region, account in defaults.POWERTOOLS_LAYER_PUBLISHERS.items()
        }
        if not Token.is_unresolved(stack.region):
            if stack.region not in publishers:
                raise fail(
                    self,
                    "powertools_layer",
                    True,
                    f"no Powertools for AWS Lambda layer is published in {stack.region} as far "
                    "as this library knows (published in: "
                    + ", ".join(sorted(publishers))
                    + "); pass powertools_layer=False, and layers=[...] with a layer of your "
                    "own, or package aws-lambda-powertools with the code",
                )
            return publishers[stack.region]
        # An environment-agnostic stack learns its region at deploy time: look it up then.
        mapping = stack.node.try_find_child(_PUBLISHERS_MAPPING_ID)
        if not isinstance(mapping, CfnMapping):
            mapping = CfnMapping(stack, _PUBLISHERS_MAPPING_ID, mapping=publishers)
        return {
            column: mapping.find_in_map(stack.region, column) for column in ("Account", "Version")
        }

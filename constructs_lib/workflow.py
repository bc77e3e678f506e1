"""Workflow: a Step Functions state machine with full logging, tracing and its own role."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from . import defaults
from ._acknowledge import (
    AWS_SOLUTIONS,
    acknowledge,
    acknowledge_unscoped_resources,
    nag_name_of_resolved,
)
from ._alarms import AlarmOptions, workflow_alarms
from ._logs import owned_log_group
from ._template import drop_dependency_enforced_by_reference, when_references_resolve
from ._validation import check_duration, fail
from .role import LeastPrivilegeRole


class Workflow(Construct):
    """A state machine that logs every execution step and traces with X-Ray.

    Parameters
    ----------
    definition:
        The states, as an ``aws_stepfunctions.IChainable`` (``first.next(second)``). Required.
        Task grants (e.g. ``LambdaInvoke`` → ``lambda:InvokeFunction``) land on :attr:`role`.
    state_machine_type:
        Default: ``StateMachineType.STANDARD``.
    timeout:
        Whole-execution timeout; 1 second..1 year for STANDARD, ..5 minutes for EXPRESS.
        Default: 15 minutes for STANDARD, 5 minutes (the limit) for EXPRESS.
    log_retention:
        Retention of the workflow's own log group; never ``INFINITE``. Default: one month.
    tracing:
        X-Ray tracing. Default: ``True``.
    state_machine_name, comment:
        Passed through. Default: none.
    alarms:
        :class:`~constructs_lib.AlarmOptions`. Default: alarms on ``ExecutionsFailed``,
        ``ExecutionsTimedOut``, ``ExecutionsAborted`` and ``ExecutionThrottled``.

    Logging is at level ALL with execution data, so that a failed execution can be
    diagnosed from its log alone.

    Grants the tasks need and aws-cdk does not add are completed here: a
    ``SnsPublish`` task whose topic is encrypted with a customer-managed key (a topic
    created with ``master_key=`` or imported with its key) gets ``kms:GenerateDataKey``
    and ``kms:Decrypt`` on that key, the calls SNS makes with the publisher's
    permissions. ``SqsSendMessage`` needs no completion: aws-cdk grants ``kms:Decrypt``
    and ``kms:GenerateDataKey*`` on the queue's key itself. Not visible to the library:
    topics imported by ARN alone (``Topic.from_topic_arn``; the key is unknown), and
    ``CallAwsService`` tasks, whose ``iam_resources`` the user states.

    Attributes
    ----------
    state_machine: ``aws_stepfunctions.StateMachine``
    role: ``iam.Role`` (no managed policy; only what the tasks and logging need)
    log_group: ``aws_logs.LogGroup``
    alarms: ``dict`` of alarm name to ``cloudwatch.Alarm``
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        definition: sfn.IChainable,
        state_machine_type: sfn.StateMachineType = sfn.StateMachineType.STANDARD,
        timeout: Duration | None = None,
        log_retention: logs.RetentionDays | None = None,
        tracing: bool = defaults.WORKFLOW_TRACING,
        state_machine_name: str | None = None,
        comment: str | None = None,
        alarms: AlarmOptions | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # The default and the allowed range depend on the type: express workflows stop at 5 min.
        default_seconds, limits = (
            (
                defaults.EXPRESS_WORKFLOW_TIMEOUT_SECONDS,
                defaults.EXPRESS_WORKFLOW_TIMEOUT_RANGE_SECONDS,
            )
            if state_machine_type == sfn.StateMachineType.EXPRESS
            else (defaults.WORKFLOW_TIMEOUT_SECONDS, defaults.WORKFLOW_TIMEOUT_RANGE_SECONDS)
        )
        timeout = timeout or Duration.seconds(default_seconds)

        # validate
        if not hasattr(definition, "start_state") or not hasattr(definition, "end_states"):
            raise fail(self, "definition", definition, "allowed: an aws_stepfunctions.IChainable")
        check_duration(self, "timeout", timeout, *limits)

        # build
        self.log_group = owned_log_group(self, "LogGroup", retention=log_retention)
        self.role = LeastPrivilegeRole(
            self, "ExecutionRole", assumed_by="states.amazonaws.com"
        ).role
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=state_machine_type,
            state_machine_name=state_machine_name,
            comment=comment,
            timeout=timeout,
            role=self.role,
            tracing_enabled=tracing,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )

        drop_dependency_enforced_by_reference(self.state_machine, self.role)

        # grant: what the tasks need beyond the statements aws-cdk adds for them
        self._grant_encrypted_topic_publishes(definition)
        self._acknowledge_grants()

        # expose
        self.alarms = workflow_alarms(self, alarms, state_machine=self.state_machine)

    def _acknowledge_grants(self) -> None:
        """Acknowledge the '*' statements aws-cdk wrote for logging, tracing and the tasks."""
        acknowledge_unscoped_resources(
            self.role,
            "Only the CloudWatch Logs log-delivery actions (logs:CreateLogDelivery, "
            "GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, "
            "PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and the X-Ray "
            "actions are granted on '*': neither service offers resource-level permissions "
            "for them, and Step Functions needs them to deliver logs and traces.",
        )
        when_references_resolve(self, self._acknowledge_task_grants)

    def _grant_encrypted_topic_publishes(self, definition: sfn.IChainable) -> None:
        """Grant the KMS actions an SNS publish needs on each encrypted topic a task uses.

        aws-cdk's ``SnsPublish`` grants ``sns:Publish`` only; SNS refuses a publish to a
        topic encrypted with a customer-managed key unless the publisher may also use the key.
        """
        states = sfn.State.find_reachable_states(
            definition.start_state, include_error_handlers=True
        )
        published = {arn for arn in map(_published_topic_arn, states) if arn is not None}
        if not published:
            return
        for construct in self.node.root.node.find_all():
            key = getattr(construct, "master_key", None)
            if key is not None and getattr(construct, "topic_arn", None) in published:
                key.grant(self.role, *defaults.SNS_PUBLISH_KMS_ACTIONS)

    def _acknowledge_task_grants(self) -> None:
        """Acknowledge the wildcards in the statements aws-cdk writes for the tasks.

        ``LambdaInvoke`` grants ``lambda:InvokeFunction`` on the function's ARN and on
        ``<function ARN>:*`` so that a task may name a version or alias of that function;
        ``SqsSendMessage`` grants ``kms:GenerateDataKey*`` on the key of an encrypted queue.
        Read once references are resolved: a function of another stack is named by an import.
        """
        policy = self.role.node.try_find_child("DefaultPolicy")
        if not isinstance(policy, iam.Policy):
            return
        document: Any = Stack.of(self).resolve(policy.document)
        for statement in document.get("Statement", []):
            actions = _as_list(statement.get("Action", []))
            names = [nag_name_of_resolved(r) for r in _as_list(statement.get("Resource", []))]
            if "lambda:InvokeFunction" in actions:
                self._acknowledge_function_versions(names)
            if "kms:GenerateDataKey*" in actions and "*" not in names:
                acknowledge(
                    self.role,
                    AWS_SOLUTIONS,
                    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                    "The GenerateDataKey family on the key of an encrypted queue a task of "
                    "this workflow sends to, as aws-cdk's SqsSendMessage grants it: SQS "
                    "generates a data key with the sender's permissions. Scoped to that key.",
                )

    def _acknowledge_function_versions(self, names: list[str]) -> None:
        for name in names:
            # Only '<function ARN>:*' beside that same function ARN in the statement: the
            # qualified ARNs (versions, aliases) of one function, however it is referenced.
            function_arn = name.removesuffix(":*")
            if function_arn == name or function_arn not in names or "*" in function_arn:
                continue
            acknowledge(
                self.role,
                AWS_SOLUTIONS,
                f"AwsSolutions-IAM5[Resource::{name}]",
                f"lambda:InvokeFunction on the versions and aliases of one function "
                f"({function_arn}) that a task of this workflow invokes; no other function "
                "is covered.",
            )


def _published_topic_arn(state: sfn.State) -> str | None:
    """The ``TopicArn`` of an SNS publish task (JSONPath or JSONata), else None."""
    state_json: Any = state.to_state_json()
    resource = state_json.get("Resource")
    if not isinstance(resource, str) or not resource.endswith(":sns:publish"):
        return None
    arguments = state_json.get("Parameters") or state_json.get("Arguments") or {}
    topic_arn = arguments.get("TopicArn")
    return topic_arn if isinstance(topic_arn, str) else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]

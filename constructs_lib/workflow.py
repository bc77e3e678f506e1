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
from ._logs import owned_log_group
from ._template import drop_dependency_enforced_by_reference
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
        Default: 15 minutes.
    log_retention:
        Retention of the workflow's own log group; never ``INFINITE``. Default: one month.
    tracing:
        X-Ray tracing. Default: ``True``.
    state_machine_name, comment:
        Passed through. Default: none.

    Logging is at level ALL with execution data, so that a failed execution can be
    diagnosed from its log alone.

    Attributes
    ----------
    state_machine: ``aws_stepfunctions.StateMachine``
    role: ``iam.Role`` (no managed policy; only what the tasks and logging need)
    log_group: ``aws_logs.LogGroup``
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
        tracing: bool = True,
        state_machine_name: str | None = None,
        comment: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = timeout or Duration.seconds(defaults.WORKFLOW_TIMEOUT_SECONDS)

        # validate
        if not hasattr(definition, "start_state") or not hasattr(definition, "end_states"):
            raise fail(self, "definition", definition, "allowed: an aws_stepfunctions.IChainable")
        limits = (
            defaults.EXPRESS_WORKFLOW_TIMEOUT_RANGE_SECONDS
            if state_machine_type == sfn.StateMachineType.EXPRESS
            else defaults.WORKFLOW_TIMEOUT_RANGE_SECONDS
        )
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

        # grant: aws-cdk added the logging, tracing and task statements to the role
        acknowledge_unscoped_resources(
            self.role,
            "Only the CloudWatch Logs log-delivery actions (logs:CreateLogDelivery, "
            "GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, "
            "PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and the X-Ray "
            "actions are granted on '*': neither service offers resource-level permissions "
            "for them, and Step Functions needs them to deliver logs and traces.",
        )
        self._acknowledge_function_versions()

    def _acknowledge_function_versions(self) -> None:
        """Acknowledge the ``<function ARN>:*`` resources that LambdaInvoke tasks grant.

        aws-cdk grants ``lambda:InvokeFunction`` on the function's ARN and on
        ``<function ARN>:*`` so that a task may name a version or alias of that function.
        """
        policy = self.role.node.try_find_child("DefaultPolicy")
        if not isinstance(policy, iam.Policy):
            return
        document: Any = Stack.of(self).resolve(policy.document)
        for statement in document.get("Statement", []):
            actions = statement.get("Action", [])
            actions = actions if isinstance(actions, list) else [actions]
            if "lambda:InvokeFunction" not in actions:
                continue
            resources = statement.get("Resource", [])
            for resource in resources if isinstance(resources, list) else [resources]:
                name = nag_name_of_resolved(resource)
                # Only '<Function.Arn>:*', the qualified ARNs of one function of this stack.
                if name is None or not (name.startswith("<") and name.endswith(".Arn>:*")):
                    continue
                acknowledge(
                    self.role,
                    AWS_SOLUTIONS,
                    f"AwsSolutions-IAM5[Resource::{name}]",
                    f"lambda:InvokeFunction on the versions and aliases of one function "
                    f"({name.removesuffix(':*')}) that a task of this workflow invokes; no "
                    "other function is covered.",
                )

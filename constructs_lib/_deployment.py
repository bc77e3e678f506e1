"""Canary and linear releases of a LambdaFunction through CodeDeploy, rolled back on its alarms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from . import defaults
from ._interfaces import function_of
from ._validation import check_one_of, fail
from .role import LeastPrivilegeRole

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_codedeploy as codedeploy
    from aws_cdk import aws_lambda as lambda_

    from .function import LambdaFunction

#: The function's alarms that judge a new version. DeadLetterQueueMessages is left out: a
#: message left in the queue by an older version would block every release until redriven.
ROLLBACK_ALARMS = ("ErrorRate", "Throttles", "Duration", "DeadLetterErrors")

#: What CodeDeploy does to shift an alias (the actions of the AWS managed policy
#: AWSCodeDeployRoleForLambdaLimited that a Lambda deployment uses, scoped to this alias).
_ALIAS_ACTIONS = ("lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig")


@dataclass(frozen=True)
class LambdaDeployment:
    """The ``deployment`` prop of :class:`~constructs_lib.LambdaFunction`.

    Each new version is published behind the function's alias by a CodeDeploy deployment
    that shifts traffic to it step by step, and rolls back by itself when the deployment
    fails, is stopped, or one of the function's alarms (``ErrorRate``, ``Throttles``,
    ``Duration``, ``DeadLetterErrors``, measured on the new version where Lambda's metrics
    allow) goes into ALARM.

    Parameters
    ----------
    traffic_shift:
        A CodeDeploy predefined configuration name: ``CANARY_10_PERCENT_5_MINUTES``
        (``..._10_MINUTES``, ``..._15_MINUTES``, ``..._30_MINUTES``),
        ``LINEAR_10_PERCENT_EVERY_1_MINUTE`` (``..._2_MINUTES``, ``..._3_MINUTES``,
        ``..._10_MINUTES``) or ``ALL_AT_ONCE``. Default: ``CANARY_10_PERCENT_5_MINUTES``.
    pre_traffic_hook, post_traffic_hook:
        Functions CodeDeploy runs before traffic shifts to the new version and after all of
        it has; each must report its result with ``PutLifecycleEventHookExecutionStatus``,
        which each may call on this deployment group only. An ``aws_lambda.IFunction`` or a
        :class:`~constructs_lib.LambdaFunction` (its ``invoke_target``). Default: none.
    """

    traffic_shift: str = defaults.DEPLOYMENT_TRAFFIC_SHIFT
    pre_traffic_hook: lambda_.IFunction | LambdaFunction | None = None
    post_traffic_hook: lambda_.IFunction | LambdaFunction | None = None


def release_through_codedeploy(
    owner: LambdaFunction, deployment: LambdaDeployment | None
) -> codedeploy.LambdaDeploymentGroup | None:
    """Create ``owner``'s deployment group for ``deployment``; None when there is none."""
    if deployment is None:
        return None
    pre_hook, post_hook = _check(owner, deployment)
    alias = cast("lambda_.Alias", owner.alias)
    # Imported here: only functions released through CodeDeploy pay for loading the module.
    from aws_cdk import aws_codedeploy as codedeploy

    role = LeastPrivilegeRole(owner, "DeploymentRole", assumed_by="codedeploy.amazonaws.com")
    rollback_alarms = [owner.alarms[name] for name in ROLLBACK_ALARMS if name in owner.alarms]
    hooks = [hook for hook in (pre_hook, post_hook) if hook is not None]
    group = codedeploy.LambdaDeploymentGroup(
        owner,
        "DeploymentGroup",
        alias=alias,
        deployment_config=getattr(codedeploy.LambdaDeploymentConfig, deployment.traffic_shift),
        # aws-cdk attaches the AWS managed policy AWSCodeDeployRoleForLambdaLimited to the
        # group's role and grants hook invocation on it; the role seen through
        # without_policy_updates() ignores both, and _grant_deployment below grants inline.
        role=role.role.without_policy_updates(),
        alarms=rollback_alarms,
        auto_rollback=codedeploy.AutoRollbackConfig(
            failed_deployment=True,
            stopped_deployment=True,
            # With every alarm switched off, failures and stops still roll back.
            deployment_in_alarm=bool(rollback_alarms),
        ),
        pre_hook=pre_hook,
        post_hook=post_hook,
    )
    _grant_deployment(role, alias, rollback_alarms, hooks)
    # The alarms measure the alias's current version: update them before traffic shifts.
    for alarm in rollback_alarms:
        alias.node.add_dependency(alarm)
    return group


def _check(
    owner: LambdaFunction, deployment: object
) -> tuple[lambda_.IFunction | None, lambda_.IFunction | None]:
    """Check ``deployment``; return its hooks as functions (a LambdaFunction's invoke target)."""
    if not isinstance(deployment, LambdaDeployment):
        raise fail(owner, "deployment", deployment, "allowed: a constructs_lib.LambdaDeployment")
    if owner.alias is None:
        raise fail(
            owner,
            "deployment",
            deployment.traffic_shift,
            "allowed only together with alias_name (CodeDeploy shifts the alias's traffic)",
        )
    check_one_of(owner, "deployment", deployment.traffic_shift, defaults.DEPLOYMENT_TRAFFIC_SHIFTS)
    pre_hook, post_hook = (
        None if hook is None else function_of(owner, f"deployment.{prop}", hook)
        for prop, hook in (
            ("pre_traffic_hook", deployment.pre_traffic_hook),
            ("post_traffic_hook", deployment.post_traffic_hook),
        )
    )
    return pre_hook, post_hook


def _grant_deployment(
    role: LeastPrivilegeRole,
    alias: lambda_.Alias,
    alarms: list[cloudwatch.Alarm],
    hooks: list[lambda_.IFunction],
) -> None:
    """Grant inline what AWSCodeDeployRoleForLambdaLimited grants, scoped to this release.

    The managed policy allows its actions on every alias and alarm of the account and on
    every ``CodeDeployHook_*`` function; a release needs them on this alias, its rollback
    alarms and its own hooks. The policy's S3 statements serve AppSpec files uploaded to
    S3, which a CloudFormation-driven deployment does not use.
    """
    role.allow(list(_ALIAS_ACTIONS), [alias.function_arn])
    if alarms:
        # CodeDeploy reads the state of the deployment group's alarms by name.
        role.allow(["cloudwatch:DescribeAlarms"], [alarm.alarm_arn for alarm in alarms])
    if hooks:
        role.allow(["lambda:InvokeFunction"], [hook.function_arn for hook in hooks])

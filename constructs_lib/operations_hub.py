"""OperationsHub: every library alarm under a scope, sent to one place, on one dashboard."""

from __future__ import annotations

from typing import Any, cast

import jsii
from aws_cdk import Aspects, IAspect, IStableStringProducer, Lazy, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct, IValidation

from ._alarms import AlarmGroup
from ._validation import fail

#: Dashboard grid: 24 columns; each construct's row starts with its alarms' status.
_DASHBOARD_WIDTH = 24
_STATUS_WIDTH = 6
_WIDGET_HEIGHT = 6


class OperationsHub(Construct):
    """One place for the alarms of every library construct under ``scope``.

    At synthesis it finds the alarms each construct created (their ``.alarms``), wherever
    the constructs sit under ``scope`` and whether they were defined before or after the
    hub (the search runs as an aspect), then:

    - sends each alarm's ALARM and OK transitions to one action: a new SNS topic encrypted
      with a new customer-managed KMS key, or the topic or action given;
    - builds one CloudWatch dashboard with a row per construct: its alarms' status, then
      each alarm's metric against its threshold;
    - builds one composite alarm, "service health", in ALARM while any of them is.

    The new topic's key lets CloudWatch encrypt what it publishes (``kms:GenerateDataKey*``
    and ``kms:Decrypt`` for ``cloudwatch.amazonaws.com``), and the topic lets CloudWatch
    publish, both only for alarms of this account and region (``aws:SourceAccount`` and
    ``aws:SourceArn`` conditions). Subscribe to :attr:`topic` (e-mail, chat, paging).

    Parameters
    ----------
    alarm_action:
        An ``sns.ITopic`` or any ``cloudwatch.IAlarmAction``. Default: a new topic, KMS
        encrypted (key rotation on, key retained), TLS-only.
    dashboard_name:
        Default: none (CloudFormation names the dashboard).

    Attributes
    ----------
    topic: ``sns.ITopic`` or None (None when an action other than a topic was given)
    key: ``kms.Key`` or None (the new topic's key)
    alarm_action: ``cloudwatch.IAlarmAction``
    dashboard: ``cloudwatch.Dashboard``
    service_health_alarm: ``cloudwatch.CompositeAlarm``
    alarms: ``dict`` of construct path to that construct's alarms (filled at synthesis)

    Raises at synthesis (a validation error) when ``scope`` holds no library alarm. A
    composite alarm rule holds at most 10,240 characters, about a hundred alarms: give a
    large application one hub per part.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_action: sns.ITopic | cloudwatch.IAlarmAction | None = None,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        # validate
        if alarm_action is not None and not (
            hasattr(alarm_action, "topic_arn") or hasattr(alarm_action, "bind")
        ):
            raise fail(
                self,
                "alarm_action",
                alarm_action,
                "allowed: an aws_sns.ITopic or an aws_cloudwatch.IAlarmAction",
            )

        # build
        self.key: kms.Key | None = None
        self.topic: sns.ITopic | None = None
        if alarm_action is None:
            self.topic = self._encrypted_topic()
        elif hasattr(alarm_action, "topic_arn"):
            self.topic = alarm_action  # type: ignore[assignment]
        self.alarm_action: cloudwatch.IAlarmAction = (
            cloudwatch_actions.SnsAction(self.topic) if self.topic is not None else alarm_action  # type: ignore[assignment]
        )
        self.alarms: dict[str, dict[str, cloudwatch.Alarm]] = {}
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.service_health_alarm = cloudwatch.CompositeAlarm(
            self,
            "ServiceHealth",
            # Replaced below by "any alarm found is in ALARM", rendered once at synthesis.
            alarm_rule=cloudwatch.AlarmRule.from_boolean(False),
            alarm_description=f"{scope.node.path}: in ALARM while any alarm of its constructs is.",
        )
        cfn_alarm = cast(cloudwatch.CfnCompositeAlarm, self.service_health_alarm.node.default_child)
        cfn_alarm.alarm_rule = Lazy.string(_AnyAlarmFound(self))
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                alarms=[self.service_health_alarm],
                title="Service health",
                width=_DASHBOARD_WIDTH,
                height=2,
            )
        )

        # wire: at synthesis, once every construct under scope exists. The aspect sits on a
        # leaf of its own, so it runs once and searches the tree in one call; an aspect on
        # ``scope`` would cost a call from the jsii runtime into Python per construct.
        Aspects.of(Construct(self, "AlarmSearch")).add(_WireAlarms(self, scope))
        self.node.add_validation(_FoundAlarms(self))

    def wire(self, group: AlarmGroup) -> None:
        """Send ``group``'s alarms to the action and give them a dashboard row (once)."""
        path = group.owner_path
        if path in self.alarms or not group.alarms:
            return
        self.alarms[path] = group.alarms
        for alarm in group.alarms.values():
            alarm.add_alarm_action(self.alarm_action)
            alarm.add_ok_action(self.alarm_action)
        # Widgets added in one call sit side by side: one row per construct.
        self.dashboard.add_widgets(*_row(path, list(group.alarms.items())))

    def _encrypted_topic(self) -> sns.Topic:
        self.key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the alarm notifications of this service",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        conditions = _this_accounts_alarms(Stack.of(self))
        # CloudWatch encrypts each notification with a data key of the topic's key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToEncryptNotifications",
                principals=[cloudwatch_principal],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions=conditions,
            )
        )
        topic = sns.Topic(self, "Topic", master_key=self.key, enforce_ssl=True)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=conditions,
            )
        )
        return topic


def _this_accounts_alarms(stack: Stack) -> dict[str, Any]:
    return {
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {
            "aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}"
            ":alarm:*"
        },
    }


def _row(path: str, alarms: list[tuple[str, cloudwatch.Alarm]]) -> list[cloudwatch.IWidget]:
    """A construct's row: its alarms' status, then each alarm's metric and threshold."""
    graph_width = max(3, (_DASHBOARD_WIDTH - _STATUS_WIDTH) // len(alarms))
    widgets: list[cloudwatch.IWidget] = [
        cloudwatch.AlarmStatusWidget(
            alarms=[alarm for _, alarm in alarms],
            title=path,
            width=_STATUS_WIDTH,
            height=_WIDGET_HEIGHT,
        )
    ]
    widgets.extend(
        cloudwatch.AlarmWidget(alarm=alarm, title=name, width=graph_width, height=_WIDGET_HEIGHT)
        for name, alarm in alarms
    )
    return widgets


@jsii.implements(IStableStringProducer)
class _AnyAlarmFound:
    """The service health rule: any alarm the hub found is in ALARM (rendered once, after
    every alarm is found, rather than again for each construct)."""

    def __init__(self, hub: OperationsHub) -> None:
        self._hub = hub

    def produce(self) -> str | None:
        rules = [
            cloudwatch.AlarmRule.from_alarm(alarm, cloudwatch.AlarmState.ALARM)
            for alarms in self._hub.alarms.values()
            for alarm in alarms.values()
        ]
        # With no alarm found, synthesis fails on the hub's validation, which says why.
        rule = (
            cloudwatch.AlarmRule.any_of(*rules)
            if rules
            else cloudwatch.AlarmRule.from_boolean(False)
        )
        return rule.render_alarm_rule()


@jsii.implements(IAspect)
class _WireAlarms:
    def __init__(self, hub: OperationsHub, scope: Construct) -> None:
        self._hub = hub
        self._scope = scope

    def visit(self, node: IConstruct) -> None:
        for found in self._scope.node.find_all():
            if isinstance(found, AlarmGroup):
                self._hub.wire(found)


@jsii.implements(IValidation)
class _FoundAlarms:
    def __init__(self, hub: OperationsHub) -> None:
        self._hub = hub

    def validate(self) -> list[str]:
        if self._hub.alarms:
            return []
        return [
            f"{self._hub.node.path}: found no alarm of a constructs_lib construct under "
            f"{self._hub.node.scope.node.path if self._hub.node.scope else '/'}; create the "
            "hub in the scope that holds the constructs, with their alarms enabled"
        ]

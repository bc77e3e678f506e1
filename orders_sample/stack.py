"""OrdersSample: an orders back end built only from constructs_lib constructs.

POST /orders and GET /orders/{order_id} behind a REST API and an HTTP API (Cognito
authorizers), order files uploaded under uploads/ ingested by a function, new orders
starting a Step Functions workflow from the table's stream, and customer notifications
over an encrypted SNS topic. Every construct's alarms reach one alarm topic and one
dashboard; the API function is released canary, rolled back by its alarms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2_authorizers as http_authorizers
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from constructs_lib import (
    DynamoTable,
    HttpApiEndpoint,
    IdempotencyStore,
    LambdaDeployment,
    LambdaFunction,
    OperationsHub,
    RestApiEndpoint,
    S3Trigger,
    StreamMapping,
    Workflow,
    acknowledge_finding,
    failure_queue,
)

#: The handlers' source: the only place the sample points at lambda_src/.
LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"
#: What never goes into the Lambda asset.
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache", "**/tests"]

#: Task errors worth retrying: Lambda's own transient failures and the handlers' TransientError.
TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientError",
    "InventoryServiceError",
]


#: Where, in the uploads bucket, the ingest function keeps the files and elements it rejects.
QUARANTINE_PREFIX = "quarantine/"
#: The error a conditional DynamoDB task reports when its condition does not hold.
CONDITION_FAILED = "DynamoDB.ConditionalCheckFailedException"
#: The order id in the workflow's state.
ORDER_ID = sfn.JsonPath.string_at("$.order_id")
#: Which statuses the workflow may move an order from, to which. PENDING and FAILED (a
#: retry) may go anywhere; BACKORDERED may still ship; SHIPPED is final.
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "PENDING": ("SHIPPED", "BACKORDERED", "FAILED"),
    "FAILED": ("SHIPPED", "BACKORDERED", "FAILED"),
    "BACKORDERED": ("SHIPPED",),
}


class OrdersSample(cdk.Stack):
    """The sample stack. ``notify_email`` subscribes an address to order notifications,
    ``alarm_email`` one to the alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        notify_email: str | None = None,
        alarm_email: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        code = lambda_.Code.from_asset(str(LAMBDA_SRC), exclude=ASSET_EXCLUDES)

        # --- data and identity ---
        orders = DynamoTable(
            self,
            "Orders",
            partition_key="order_id",
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
        users = self._user_pool()
        client = users.add_client(
            "SampleClient",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
        )
        topic = self._notification_topic(notify_email)

        # --- API: one function behind a REST API and an HTTP API ---
        # Released canary: the routes call the alias that CodeDeploy shifts.
        api_fn = self._function(
            code,
            "ApiFunction",
            "orders.api.handler",
            orders,
            alias_name="live",
            deployment=LambdaDeployment(traffic_shift="CANARY_10_PERCENT_5_MINUTES"),
        )
        # UpdateItem: a retry counts its attempt (POST /orders/{order_id}/retry).
        orders.table.grant(api_fn, "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem")
        # A POST /orders retried with the same Idempotency-Key creates one order.
        idempotency = IdempotencyStore(self, "Idempotency")
        idempotency.enable_for(api_fn)
        routes = {
            "POST /orders": api_fn,
            "GET /orders/{order_id}": api_fn,
            "POST /orders/{order_id}/retry": api_fn,
        }
        rest = RestApiEndpoint(
            self,
            "RestApi",
            routes=routes,
            authorizer=apigateway.CognitoUserPoolsAuthorizer(
                self, "RestAuthorizer", cognito_user_pools=[users]
            ),
        )
        http = HttpApiEndpoint(
            self,
            "HttpApi",
            routes=routes,
            authorizer=http_authorizers.HttpJwtAuthorizer(
                "HttpAuthorizer",
                jwt_issuer=f"https://cognito-idp.{self.region}.amazonaws.com/{users.user_pool_id}",
                jwt_audience=[client.user_pool_client_id],
            ),
        )

        # --- ingest: order files uploaded under uploads/ ---
        uploads = self._uploads(code, orders, idempotency)

        # --- workflow: one execution per new order ---
        workflow = Workflow(
            self, "OrderWorkflow", definition=self._order_workflow(code, orders, topic)
        )
        stream_fn = self._function(
            code,
            "StreamFunction",
            "orders.stream.handler",
            None,
            {"STATE_MACHINE_ARN": workflow.state_machine.state_machine_arn},
        )
        workflow.state_machine.grant_start_execution(stream_fn)
        workflow.state_machine.grant_start_execution(api_fn)
        api_fn.function.add_environment(
            "STATE_MACHINE_ARN", workflow.state_machine.state_machine_arn
        )
        StreamMapping(
            self,
            "NewOrders",
            function=stream_fn,
            table=orders,
            batch_size=10,
            filters=[{"eventName": ["INSERT"]}],
        )

        # --- operations: every alarm above to one topic and one dashboard ---
        operations = OperationsHub(self, "Operations")
        if operations.topic is not None:
            if alarm_email:
                self._subscribe_email(
                    operations.topic, alarm_email, "UndeliverableAlarms", "alarm notifications"
                )
            cdk.CfnOutput(self, "AlarmTopicArn", value=operations.topic.topic_arn)

        # --- outputs ---
        cdk.CfnOutput(self, "RestApiUrl", value=rest.url)
        cdk.CfnOutput(self, "HttpApiUrl", value=http.url)
        cdk.CfnOutput(self, "UploadsBucketName", value=uploads.bucket.bucket_name)
        cdk.CfnOutput(self, "OrdersTableName", value=orders.table.table_name)
        cdk.CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "UserPoolId", value=users.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=client.user_pool_client_id)
        cdk.CfnOutput(self, "NotificationTopicArn", value=topic.topic_arn)

    def _uploads(
        self, code: lambda_.Code, orders: DynamoTable, idempotency: IdempotencyStore
    ) -> S3Trigger:
        """The ingest function, triggered by order files uploaded under uploads/, keeping
        what it rejects under quarantine/ and its checkpoints beside the idempotency records."""
        # A 1 MiB file of orders is written with conditional puts: give it a minute.
        ingest_fn = self._function(
            code, "IngestFunction", "orders.ingest.handler", orders, timeout_seconds=60
        )
        orders.table.grant(ingest_fn, "dynamodb:PutItem")
        uploads = S3Trigger(
            self,
            "Uploads",
            function=ingest_fn,
            prefix="uploads/",
            suffix=".json",
            quarantine_prefix=QUARANTINE_PREFIX,
        )
        # Checkpoints of large files live beside the idempotency records, under their own
        # keys and with the same TTL: a retried invocation continues where the last stopped.
        idempotency.table.grant(ingest_fn, "dynamodb:GetItem", "dynamodb:PutItem")
        ingest_fn.function.add_environment("QUARANTINE_PREFIX", QUARANTINE_PREFIX)
        ingest_fn.function.add_environment("PROGRESS_TABLE_NAME", idempotency.table.table_name)
        return uploads

    def _function(
        self,
        code: lambda_.Code,
        construct_id: str,
        handler: str,
        table: DynamoTable | None,
        extra_environment: dict[str, str] | None = None,
        timeout_seconds: int | None = None,
        **props: Any,
    ) -> LambdaFunction:
        environment = {
            "POWERTOOLS_SERVICE_NAME": "orders",
            "POWERTOOLS_METRICS_NAMESPACE": "OrdersSample",
            **({"TABLE_NAME": table.table.table_name} if table is not None else {}),
            **(extra_environment or {}),
        }
        return LambdaFunction(
            self,
            construct_id,
            code=code,
            handler=handler,
            environment=environment,
            timeout=cdk.Duration.seconds(timeout_seconds) if timeout_seconds else None,
            **props,
        )

    def _user_pool(self) -> cognito.UserPool:
        pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge_finding(
            pool,
            "AwsSolutions-COG2",
            reason="Sample pool: only an administrator can create users (self sign-up is off) and "
            "MFA is optional (TOTP) so that README's try-it steps can sign in with a "
            "password; a production pool should set mfa=Mfa.REQUIRED.",
        )
        acknowledge_finding(
            pool,
            "AwsSolutions-COG8",
            reason="Sample pool: the Plus feature plan (threat protection) is billed per monthly "
            "active user; this pool admits only administrator-created test users. A "
            "production pool should use FeaturePlan.PLUS with threat protection enforced.",
        )
        return pool

    def _notification_topic(self, notify_email: str | None) -> sns.Topic:
        key = kms.Key(
            self,
            "NotificationsKey",
            description="Encrypts order notifications at rest",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        topic = sns.Topic(self, "Notifications", master_key=key, enforce_ssl=True)
        if notify_email:
            self._subscribe_email(
                topic, notify_email, "UndeliverableNotifications", "order notifications"
            )
        return topic

    def _subscribe_email(self, topic: sns.ITopic, email: str, queue_id: str, what: str) -> None:
        """Subscribe ``email`` to ``topic``, keeping undeliverable messages in a queue."""
        undeliverable = failure_queue(
            self, queue_id, holds=f"{what} the email subscription could not deliver"
        )
        topic.add_subscription(
            subscriptions.EmailSubscription(email, dead_letter_queue=undeliverable)
        )

    def _order_workflow(
        self, code: lambda_.Code, orders: DynamoTable, topic: sns.ITopic
    ) -> sfn.IChainable:
        process_fn = self._function(
            code, "ProcessOrderFunction", "orders.workflow.process_order", None
        )
        ship_fn = self._function(code, "ShipOrderFunction", "orders.workflow.ship_order", None)
        backorder_fn = self._function(
            code, "BackorderFunction", "orders.workflow.backorder_item", None
        )

        # Every write below is conditional: the order must exist (a workflow for a missing
        # order creates no item) and the transition must be allowed from its status.
        failed = sfn.Fail(
            self, "OrderFailed", error="OrderFailed", cause="The order could not be processed"
        )
        mark_failed = self._set_status(orders, "MarkOrderFailed", "FAILED")
        mark_failed.add_catch(failed, result_path="$.markFailedError")
        mark_failed.next(failed)

        def invoke(construct_id: str, fn: LambdaFunction) -> tasks.LambdaInvoke:
            task = tasks.LambdaInvoke(
                self,
                construct_id,
                lambda_function=fn.function,
                payload_response_only=True,
                retry_on_service_exceptions=False,
            )
            task.add_retry(
                errors=TRANSIENT_ERRORS,
                interval=cdk.Duration.seconds(2),
                max_attempts=3,
                backoff_rate=2,
            )
            task.add_catch(mark_failed, result_path="$.error")
            return task

        process = invoke("ProcessOrder", process_fn)
        ship = invoke("ShipOrder", ship_fn)
        backorder = invoke("BackorderItem", backorder_fn)
        record_status = self._set_status(orders, "UpdateOrderStatus", None)
        record_status.add_catch(
            sfn.Fail(
                self,
                "StatusRefused",
                error="OrderStatusRefused",
                cause="No such order, or its status does not allow this transition",
            ),
            errors=[CONDITION_FAILED],
            result_path="$.error",
        )
        record_status.add_catch(mark_failed, result_path="$.error")

        check_inventory = (
            sfn.Choice(self, "CheckInventory")
            .when(sfn.Condition.boolean_equals("$.inStock", True), ship)
            .otherwise(backorder)
        )
        ship.next(record_status)
        backorder.next(record_status)
        record_status.next(self._notify(orders, topic))
        return process.next(check_inventory)

    def _notify(self, orders: DynamoTable, topic: sns.ITopic) -> sfn.IChainable:
        """Publish the order's status, retried; record the notification's fate on the order
        (``notification``: ``SENT`` or ``FAILED``) without touching its status."""
        notify = tasks.SnsPublish(
            self,
            "NotifyCustomer",
            topic=topic,
            subject="Your order",
            message=sfn.TaskInput.from_object(
                {
                    "order_id": sfn.JsonPath.string_at("$.order_id"),
                    "email": sfn.JsonPath.string_at("$.email"),
                    "status": sfn.JsonPath.string_at("$.status"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        notify.add_retry(
            errors=["States.ALL"], interval=cdk.Duration.seconds(1), max_attempts=2, backoff_rate=2
        )
        sent = self._record_notification(orders, "RecordNotificationSent", "SENT")
        not_sent = self._record_notification(orders, "RecordNotificationFailed", "FAILED")
        notify.add_catch(not_sent, result_path="$.error")
        not_sent.next(
            sfn.Fail(
                self,
                "NotificationFailed",
                error="NotificationFailed",
                cause="The order's status is recorded; its notification was not sent "
                "(POST /orders/{order_id}/retry sends it again)",
            )
        )
        return notify.next(sent).next(sfn.Succeed(self, "OrderDone"))

    def _record_notification(
        self, orders: DynamoTable, construct_id: str, outcome: str
    ) -> tasks.DynamoUpdateItem:
        return self._update_order(
            orders,
            construct_id,
            "SET notification = :outcome",
            "attribute_exists(order_id)",
            {":outcome": outcome},
        )

    def _set_status(
        self, orders: DynamoTable, construct_id: str, status: str | None
    ) -> tasks.DynamoUpdateItem:
        """Set the order's status, if it exists and :data:`STATUS_TRANSITIONS` allow it.

        ``status`` None takes the status the previous task returned (``$.status``).
        """
        allowed_from = [
            source
            for source, targets in STATUS_TRANSITIONS.items()
            if status is None or status in targets
        ]
        sources = {f":from{index}": source for index, source in enumerate(allowed_from)}
        # A dynamic target: also allow staying put (a re-run of SHIPPED stays SHIPPED).
        same = " OR #status = :status" if status is None else ""
        return self._update_order(
            orders,
            construct_id,
            "SET #status = :status",
            f"attribute_exists(order_id) AND (#status IN ({', '.join(sources)}){same})",
            {
                ":status": sfn.JsonPath.string_at("$.status") if status is None else status,
                **sources,
            },
            names={"#status": "status"},
        )

    def _update_order(
        self,
        orders: DynamoTable,
        construct_id: str,
        update: str,
        condition: str,
        values: dict[str, str],
        names: dict[str, str] | None = None,
    ) -> tasks.DynamoUpdateItem:
        """A conditional ``UpdateItem`` of the order named by the state's ``order_id``."""
        return tasks.DynamoUpdateItem(
            self,
            construct_id,
            table=orders.table,
            key={"order_id": tasks.DynamoAttributeValue.from_string(ORDER_ID)},
            update_expression=update,
            condition_expression=condition,
            expression_attribute_names=names,
            expression_attribute_values={
                name: tasks.DynamoAttributeValue.from_string(value)
                for name, value in values.items()
            },
            result_path=sfn.JsonPath.DISCARD,
        )

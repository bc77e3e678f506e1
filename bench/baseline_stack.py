"""BaselineOrders: the OrdersSample resources written by hand with plain aws-cdk-lib L2 constructs.

The benchmark compares the cost of synthesizing OrdersSample (built from ``constructs_lib``)
with this stack, so it must describe the same resources with the same settings; the test
``tests/bench/test_baseline_matches.py`` checks the resource types and counts. It never
imports ``constructs_lib`` or ``orders_sample``: importing either would put the library's
cost into the baseline. What it leaves out, on purpose:

- cdk-nag acknowledgments (the benchmark runs without the rule packs);
- argument validation and the removal of the role ``DependsOn`` that cfn-lint flags (W3005),
  which change no resource.

The alarms, the alarm topic, the dashboard, the composite alarm and the API function's
CodeDeploy release are written out alarm by alarm, as a user without the library would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as http_authorizers
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

#: The same handlers' source and excludes as the sample, so both stacks share one asset.
LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache", "**/tests"]

POWERTOOLS_LAYER = "AWSLambdaPowertoolsPythonV3-python314-arm64:36"
RETENTION = logs.RetentionDays.ONE_MONTH
HTTP_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "user": "$context.identity.user",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "errorMessage": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
    "integrationError": "$context.integrationErrorMessage",
}
#: The sample's functions and their timeouts (their duration alarms fire at 90 % of them).
FUNCTION_TIMEOUTS = {
    "ApiFunction": 10,
    "IngestFunction": 60,
    "StreamFunction": 10,
    "ProcessOrderFunction": 10,
    "ShipOrderFunction": 10,
    "BackorderFunction": 10,
}
TABLE_METRICS = ("ThrottledRequests", "SystemErrors")
TABLE_OPERATIONS = (
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
)
TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientError",
    "InventoryServiceError",
]


class BaselineOrders(cdk.Stack):
    """The OrdersSample resources, one L2 construct at a time."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        code = lambda_.Code.from_asset(str(LAMBDA_SRC), exclude=ASSET_EXCLUDES)

        table = self._table(
            "OrdersTable", "order_id", stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES
        )
        users = cognito.UserPool(
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
        client = users.add_client(
            "SampleClient",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
        )
        key = kms.Key(
            self,
            "NotificationsKey",
            description="Encrypts order notifications at rest",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        topic = sns.Topic(self, "Notifications", master_key=key, enforce_ssl=True)

        # --- API ---
        api_fn = self._function(code, "ApiFunction", "orders.api.handler", table)
        table.grant(api_fn, "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem")
        idempotency = self._table("IdempotencyRecords", "id", time_to_live_attribute="expiration")
        idempotency.grant(
            api_fn,
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        )
        api_fn.add_environment("IDEMPOTENCY_TABLE_NAME", idempotency.table_name)
        api_alias = lambda_.Alias(
            self, "ApiFunctionAlias", alias_name="live", version=api_fn.current_version
        )
        routes = [
            ("POST", "/orders"),
            ("GET", "/orders/{order_id}"),
            ("POST", "/orders/{order_id}/retry"),
        ]
        rest_url = self._rest_api(api_alias, routes, users)
        http_url = self._http_api(api_alias, routes, users, client)

        # --- ingest ---
        ingest_fn = self._function(
            code, "IngestFunction", "orders.ingest.handler", table, timeout_seconds=60
        )
        table.grant(ingest_fn, "dynamodb:PutItem")
        bucket = self._uploads(ingest_fn)
        idempotency.grant(ingest_fn, "dynamodb:GetItem", "dynamodb:PutItem")
        ingest_fn.add_environment("QUARANTINE_PREFIX", "quarantine/")
        ingest_fn.add_environment("PROGRESS_TABLE_NAME", idempotency.table_name)

        # --- workflow ---
        state_machine = self._workflow(code, table, topic)
        stream_fn = self._function(
            code,
            "StreamFunction",
            "orders.stream.handler",
            None,
            {"STATE_MACHINE_ARN": state_machine.state_machine_arn},
        )
        state_machine.grant_start_execution(stream_fn)
        state_machine.grant_start_execution(api_fn)
        api_fn.add_environment("STATE_MACHINE_ARN", state_machine.state_machine_arn)
        self._stream_mapping(stream_fn, table)

        # --- operations ---
        alarm_topic = self._operations(api_alias)

        cdk.CfnOutput(self, "RestApiUrl", value=rest_url)
        cdk.CfnOutput(self, "HttpApiUrl", value=http_url)
        cdk.CfnOutput(self, "UploadsBucketName", value=bucket.bucket_name)
        cdk.CfnOutput(self, "OrdersTableName", value=table.table_name)
        cdk.CfnOutput(self, "StateMachineArn", value=state_machine.state_machine_arn)
        cdk.CfnOutput(self, "UserPoolId", value=users.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=client.user_pool_client_id)
        cdk.CfnOutput(self, "NotificationTopicArn", value=topic.topic_arn)
        cdk.CfnOutput(self, "AlarmTopicArn", value=alarm_topic.topic_arn)

    # --- shared pieces ---------------------------------------------------------------

    def _queue(self, construct_id: str) -> sqs.Queue:
        return sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _log_group(self, construct_id: str) -> logs.LogGroup:
        return logs.LogGroup(
            self, construct_id, retention=RETENTION, removal_policy=cdk.RemovalPolicy.RETAIN
        )

    def _table(self, construct_id: str, partition_key: str, **props: Any) -> dynamodb.Table:
        """An on-demand, recoverable, retained table with a string partition key."""
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(
                name=partition_key, type=dynamodb.AttributeType.STRING
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.DEFAULT,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            **props,
        )

    def _function(
        self,
        code: lambda_.Code,
        construct_id: str,
        handler: str,
        table: dynamodb.Table | None,
        extra_environment: dict[str, str] | None = None,
        timeout_seconds: int = 10,
    ) -> lambda_.Function:
        log_group = self._log_group(f"{construct_id}LogGroup")
        role = iam.Role(
            self, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
        )
        function = lambda_.Function(
            self,
            construct_id,
            code=code,
            handler=handler,
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            memory_size=256,
            timeout=cdk.Duration.seconds(timeout_seconds),
            environment={
                "POWERTOOLS_SERVICE_NAME": "orders",
                "POWERTOOLS_METRICS_NAMESPACE": "OrdersSample",
                **({"TABLE_NAME": table.table_name} if table is not None else {}),
                **(extra_environment or {}),
            },
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            recursive_loop=lambda_.RecursiveLoop.TERMINATE,
            dead_letter_queue=self._queue(f"{construct_id}DeadLetterQueue"),
            layers=[
                lambda_.LayerVersion.from_layer_version_arn(
                    self,
                    f"{construct_id}Powertools",
                    f"arn:{self.partition}:lambda:{self.region}:017000801446:layer:"
                    + POWERTOOLS_LAYER,
                )
            ],
        )
        log_group.grant_write(role)
        return function

    # --- APIs ------------------------------------------------------------------------

    def _rest_api(
        self,
        function: lambda_.IFunction,
        routes: list[tuple[str, str]],
        users: cognito.IUserPool,
    ) -> str:
        # API Gateway writes REST API logs through one role per account and region.
        cloudwatch_role = iam.Role(
            self,
            "ApiGatewayCloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets API Gateway write the execution and access logs of this "
            "stack's REST APIs to their CloudWatch log groups.",
        )
        account = apigateway.CfnAccount(
            self, "ApiGatewayAccount", cloud_watch_role_arn=cloudwatch_role.role_arn
        )
        access_logs = self._log_group("RestApiAccessLogs")
        api = apigateway.RestApi(
            self,
            "RestApi",
            cloud_watch_role=False,
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            deploy_options=apigateway.StageOptions(
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                throttling_rate_limit=100,
                throttling_burst_limit=50,
                tracing_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.INFO,
                data_trace_enabled=False,
                metrics_enabled=True,
            ),
        )
        # API Gateway would create the execution log group itself, without a retention.
        execution_logs = self._log_group("RestApiExecutionLogs")
        cfn_execution_logs = execution_logs.node.default_child
        assert isinstance(cfn_execution_logs, logs.CfnLogGroup)
        cfn_execution_logs.log_group_name = f"API-Gateway-Execution-Logs_{api.rest_api_id}/prod"
        cloudwatch_role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:DescribeLogGroups"],
                resources=[
                    f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}"
                    ":log-group:*"
                ],
            )
        )
        cloudwatch_role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                ],
                resources=[execution_logs.log_group_arn, access_logs.log_group_arn],
            )
        )
        account.node.add_dependency(cloudwatch_role.node.find_child("DefaultPolicy"))
        api.deployment_stage.node.add_dependency(execution_logs)
        api.deployment_stage.node.add_dependency(account)
        validator = api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        authorizer = apigateway.CognitoUserPoolsAuthorizer(
            self, "RestAuthorizer", cognito_user_pools=[users]
        )
        for method, path in routes:
            api.root.resource_for_path(path).add_method(
                method,
                apigateway.LambdaIntegration(function, allow_test_invoke=False),
                authorizer=authorizer,
                authorization_type=apigateway.AuthorizationType.COGNITO,
                request_validator=validator,
                request_parameters={
                    f"method.request.path.{name}": True for name in re.findall(r"\{(\w+)\}", path)
                }
                or None,
            )
        return api.url

    def _http_api(
        self,
        function: lambda_.IFunction,
        routes: list[tuple[str, str]],
        users: cognito.IUserPool,
        client: cognito.IUserPoolClient,
    ) -> str:
        authorizer = http_authorizers.HttpJwtAuthorizer(
            "HttpAuthorizer",
            jwt_issuer=f"https://cognito-idp.{self.region}.amazonaws.com/{users.user_pool_id}",
            jwt_audience=[client.user_pool_client_id],
        )
        access_logs = self._log_group("HttpApiAccessLogs")
        api = apigwv2.HttpApi(self, "HttpApi", create_default_stage=False)
        stage = apigwv2.HttpStage(
            self,
            "HttpApiDefaultStage",
            http_api=api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=100, burst_limit=50),
            detailed_metrics_enabled=True,
            access_log_settings=_HttpAccessLogs(
                apigwv2.LogGroupLogDestination(access_logs),
                apigateway.AccessLogFormat.custom(
                    json.dumps(HTTP_ACCESS_LOG_FIELDS, separators=(",", ":"))
                ),
            ),
        )
        # One integration for the function, shared by its routes; each route grants
        # API Gateway the invoke permission for its own method and path.
        integration = _HttpLambdaProxy("HttpApiIntegration", function)
        for method, path in routes:
            (route,) = api.add_routes(
                path=path,
                methods=[apigwv2.HttpMethod[method]],
                integration=integration,
                authorizer=authorizer,
            )
            function.add_permission(
                "InvokePermission",
                scope=route,
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=self.format_arn(
                    service="execute-api",
                    resource=api.api_id,
                    resource_name=f"*/{method}" + re.sub(r"\{\w+\}", "*", path),
                ),
            )
        return stage.url

    # --- ingest ----------------------------------------------------------------------

    def _uploads(self, function: lambda_.Function) -> s3.Bucket:
        access_logs = s3.Bucket(
            self,
            "UploadsAccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(365))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        bucket = s3.Bucket(
            self,
            "UploadsBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cfn_bucket = bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=access_logs.bucket_name, log_file_prefix="access-logs/"
        )
        # Set on the resource: event_bridge_enabled=True would add the notifications helper.
        cfn_bucket.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        access_logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowServerAccessLogDelivery",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[access_logs.arn_for_objects("access-logs/*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": self.account},
                },
            )
        )
        rule = events.Rule(
            self,
            "UploadsObjectCreated",
            description="Objects created in the bucket under uploads/",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": events.Match.wildcard("uploads/*.json")},
                },
            ),
        )
        rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=self._queue("UploadsDeadLetterQueue"),
                retry_attempts=8,
                max_event_age=cdk.Duration.hours(1),
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[bucket.arn_for_objects("uploads/*")],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[bucket.arn_for_objects("quarantine/*")]
            )
        )
        bucket.add_metric(id="Quarantine", prefix="quarantine/")
        return bucket

    # --- workflow --------------------------------------------------------------------

    def _workflow(
        self, code: lambda_.Code, table: dynamodb.Table, topic: sns.ITopic
    ) -> sfn.StateMachine:
        process_fn = self._function(
            code, "ProcessOrderFunction", "orders.workflow.process_order", None
        )
        ship_fn = self._function(code, "ShipOrderFunction", "orders.workflow.ship_order", None)
        backorder_fn = self._function(
            code, "BackorderFunction", "orders.workflow.backorder_item", None
        )

        mark_failed = self._set_status(table, "MarkOrderFailed", "FAILED", ["PENDING", "FAILED"])
        failed = sfn.Fail(
            self, "OrderFailed", error="OrderFailed", cause="The order could not be processed"
        )
        mark_failed.add_catch(failed, result_path="$.markFailedError")
        mark_failed.next(failed)

        def invoke(construct_id: str, function: lambda_.IFunction) -> tasks.LambdaInvoke:
            task = tasks.LambdaInvoke(
                self,
                construct_id,
                lambda_function=function,
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
        record_status = self._set_status(
            table, "UpdateOrderStatus", None, ["PENDING", "FAILED", "BACKORDERED"]
        )
        record_status.add_catch(
            sfn.Fail(self, "StatusRefused", error="OrderStatusRefused"),
            errors=["DynamoDB.ConditionalCheckFailedException"],
            result_path="$.error",
        )
        record_status.add_catch(mark_failed, result_path="$.error")
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
        sent = self._record_notification(table, "RecordNotificationSent", "SENT")
        not_sent = self._record_notification(table, "RecordNotificationFailed", "FAILED")
        notify.add_catch(not_sent, result_path="$.error")
        not_sent.next(sfn.Fail(self, "NotificationFailed", error="NotificationFailed"))
        check_inventory = (
            sfn.Choice(self, "CheckInventory")
            .when(sfn.Condition.boolean_equals("$.inStock", True), ship)
            .otherwise(backorder)
        )
        ship.next(record_status)
        backorder.next(record_status)
        record_status.next(notify).next(sent).next(sfn.Succeed(self, "OrderDone"))

        role = iam.Role(
            self, "OrderWorkflowRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com")
        )
        return sfn.StateMachine(
            self,
            "OrderWorkflow",
            definition_body=sfn.DefinitionBody.from_chainable(process.next(check_inventory)),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=cdk.Duration.minutes(15),
            role=role,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self._log_group("OrderWorkflowLogGroup"),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )

    def _set_status(
        self, table: dynamodb.ITable, construct_id: str, status: str | None, sources: list[str]
    ) -> tasks.DynamoUpdateItem:
        names = {f":from{index}": source for index, source in enumerate(sources)}
        same = " OR #status = :status" if status is None else ""
        return self._update_order(
            table,
            construct_id,
            "SET #status = :status",
            f"attribute_exists(order_id) AND (#status IN ({', '.join(names)}){same})",
            {":status": sfn.JsonPath.string_at("$.status") if status is None else status, **names},
            {"#status": "status"},
        )

    def _record_notification(
        self, table: dynamodb.ITable, construct_id: str, outcome: str
    ) -> tasks.DynamoUpdateItem:
        return self._update_order(
            table,
            construct_id,
            "SET notification = :outcome",
            "attribute_exists(order_id)",
            {":outcome": outcome},
        )

    def _update_order(
        self,
        table: dynamodb.ITable,
        construct_id: str,
        update: str,
        condition: str,
        values: dict[str, str],
        names: dict[str, str] | None = None,
    ) -> tasks.DynamoUpdateItem:
        order_id = sfn.JsonPath.string_at("$.order_id")
        return tasks.DynamoUpdateItem(
            self,
            construct_id,
            table=table,
            key={"order_id": tasks.DynamoAttributeValue.from_string(order_id)},
            update_expression=update,
            condition_expression=condition,
            expression_attribute_names=names,
            expression_attribute_values={
                k: tasks.DynamoAttributeValue.from_string(v) for k, v in values.items()
            },
            result_path=sfn.JsonPath.DISCARD,
        )

    # --- stream ----------------------------------------------------------------------

    def _stream_mapping(self, function: lambda_.Function, table: dynamodb.Table) -> None:
        on_failure = self._queue("NewOrdersOnFailureQueue")
        mapping = lambda_.EventSourceMapping(
            self,
            "NewOrdersMapping",
            target=function,
            event_source_arn=table.table_stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=10,
            bisect_batch_on_error=True,
            retry_attempts=3,
            max_record_age=cdk.Duration.hours(1),
            parallelization_factor=1,
            report_batch_item_failures=True,
            on_failure=event_sources.SqsDlq(on_failure),
            filters=[lambda_.FilterCriteria.filter({"eventName": ["INSERT"]})],
        )
        # Scoped stream reads instead of grant_stream_read(), which allows ListStreams on '*'.
        grants = [
            iam.Grant.add_to_principal(
                grantee=function,
                actions=[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                ],
                resource_arns=[table.table_stream_arn or ""],
            ),
            iam.Grant.add_to_principal(
                grantee=function,
                actions=["dynamodb:ListStreams"],
                resource_arns=[f"{table.table_arn}/stream/*"],
            ),
            on_failure.grant_send_messages(function),
        ]
        for grant in grants:
            grant.apply_before(mapping)

    # --- operations ------------------------------------------------------------------

    def _operations(self, api_alias: lambda_.Alias) -> sns.Topic:
        """Alarms per resource, one encrypted topic, a dashboard, a health alarm, a canary."""
        rows: list[tuple[str, list[cloudwatch.Alarm]]] = []
        for function_id, timeout in FUNCTION_TIMEOUTS.items():
            function = cast(lambda_.Function, self.node.find_child(function_id))
            alias = api_alias if function_id == "ApiFunction" else None
            rows.append((function_id, self._function_alarms(function, timeout, alias)))
        for table_id in ("OrdersTable", "IdempotencyRecords"):
            table = cast(dynamodb.Table, self.node.find_child(table_id))
            rows.append((table_id, [self._table_alarm(table, m) for m in TABLE_METRICS]))
        stream_fn = cast(lambda_.Function, self.node.find_child("StreamFunction"))
        rows.append(
            (
                "NewOrders",
                [
                    self._alarm(
                        "NewOrdersIteratorAge",
                        stream_fn.metric("IteratorAge", statistic="Maximum"),
                        1_800_000,
                    ),
                    self._queue_alarm("NewOrdersOnFailureQueue"),
                ],
            )
        )
        rule = cast(events.Rule, self.node.find_child("UploadsObjectCreated"))
        failed = cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="FailedInvocations",
            dimensions_map={"RuleName": rule.rule_name},
            statistic="Sum",
        )
        rows.append(
            (
                "Uploads",
                [
                    self._alarm("UploadsFailedInvocations", failed, 1, lost_work=True),
                    self._queue_alarm("UploadsDeadLetterQueue"),
                    self._alarm(
                        "UploadsQuarantinedObjects",
                        cloudwatch.Metric(
                            namespace="AWS/S3",
                            metric_name="PutRequests",
                            dimensions_map={
                                "BucketName": cast(
                                    s3.Bucket, self.node.find_child("UploadsBucket")
                                ).bucket_name,
                                "FilterId": "Quarantine",
                            },
                            statistic="Sum",
                        ),
                        1,
                        lost_work=True,
                    ),
                ],
            )
        )
        rest = cast(apigateway.RestApi, self.node.find_child("RestApi"))
        http_stage = cast(apigwv2.HttpStage, self.node.find_child("HttpApiDefaultStage"))
        for api_id, stage in (("RestApi", rest.deployment_stage), ("HttpApi", http_stage)):
            rows.append((api_id, self._api_alarms(api_id, stage)))
        machine = cast(sfn.StateMachine, self.node.find_child("OrderWorkflow"))
        rows.append(
            (
                "OrderWorkflow",
                [
                    self._alarm("WorkflowFailed", machine.metric_failed(), 1, lost_work=True),
                    self._alarm("WorkflowTimedOut", machine.metric_timed_out(), 1, lost_work=True),
                    self._alarm("WorkflowAborted", machine.metric_aborted(), 1, lost_work=True),
                    self._alarm("WorkflowThrottled", machine.metric_throttled(), 1),
                ],
            )
        )
        topic = self._alarm_topic()
        self._dashboard_and_health(rows, topic)
        self._canary(api_alias, rows[0][1])
        return topic

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        lost_work: bool = False,
    ) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric.with_(period=cdk.Duration.minutes(1))
            if isinstance(metric, cloudwatch.Metric)
            else metric,
            threshold=threshold,
            evaluation_periods=1 if lost_work else 5,
            datapoints_to_alarm=1 if lost_work else 3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"OrdersSample: {construct_id}",
        )

    def _queue_alarm(self, queue_id: str) -> cloudwatch.Alarm:
        queue = cast(sqs.Queue, self.node.find_child(queue_id))
        visible = queue.metric_approximate_number_of_messages_visible(statistic="Maximum")
        return self._alarm(f"{queue_id}Messages", visible, 1, lost_work=True)

    def _function_alarms(
        self, function: lambda_.Function, timeout_seconds: int, alias: lambda_.Alias | None
    ) -> list[cloudwatch.Alarm]:
        name = function.function_name
        scope = {"FunctionName": name}
        executed = scope
        if alias is not None:
            scope = {**scope, "Resource": f"{name}:live"}
            executed = {**scope, "ExecutedVersion": alias.version.version}

        def metric(
            metric_name: str, dimensions: dict[str, str], statistic: str
        ) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name=metric_name,
                dimensions_map=dimensions,
                statistic=statistic,
                period=cdk.Duration.minutes(1),
            )

        error_rate = cloudwatch.MathExpression(
            expression="IF(invocations > 0, 100 * errors / invocations, 0)",
            using_metrics={
                "errors": metric("Errors", executed, "Sum"),
                "invocations": metric("Invocations", executed, "Sum"),
            },
            label="Error rate (%)",
            period=cdk.Duration.minutes(1),
        )
        prefix = function.node.id
        return [
            self._alarm(f"{prefix}ErrorRate", error_rate, 5),
            self._alarm(f"{prefix}Throttles", metric("Throttles", scope, "Sum"), 1),
            self._alarm(
                f"{prefix}Duration", metric("Duration", executed, "p99"), timeout_seconds * 900
            ),
            self._alarm(
                f"{prefix}DeadLetterErrors",
                metric("DeadLetterErrors", scope, "Sum"),
                1,
                lost_work=True,
            ),
            self._queue_alarm(f"{prefix}DeadLetterQueue"),
        ]

    def _table_alarm(self, table: dynamodb.Table, metric_name: str) -> cloudwatch.Alarm:
        metrics = {
            operation.lower(): cloudwatch.Metric(
                namespace="AWS/DynamoDB",
                metric_name=metric_name,
                dimensions_map={"TableName": table.table_name, "Operation": operation},
                statistic="Sum",
                period=cdk.Duration.minutes(1),
            )
            for operation in TABLE_OPERATIONS
        }
        total = cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in metrics),
            using_metrics=metrics,
            period=cdk.Duration.minutes(1),
        )
        return self._alarm(f"{table.node.id}{metric_name}", total, 1)

    def _api_alarms(
        self, api_id: str, stage: apigateway.Stage | apigwv2.HttpStage
    ) -> list[cloudwatch.Alarm]:
        error_rate = cloudwatch.MathExpression(
            expression="100 * rate",
            using_metrics={"rate": stage.metric_server_error(statistic="Average")},
            period=cdk.Duration.minutes(1),
        )
        return [
            self._alarm(f"{api_id}ServerErrorRate", error_rate, 5),
            self._alarm(f"{api_id}Latency", stage.metric_latency(statistic="p99"), 3000),
        ]

    def _alarm_topic(self) -> sns.Topic:
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts the alarm notifications of this service",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        conditions = {
            "StringEquals": {"aws:SourceAccount": self.account},
            "ArnLike": {
                "aws:SourceArn": f"arn:{self.partition}:cloudwatch:{self.region}:{self.account}"
                ":alarm:*"
            },
        }
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions=conditions,
            )
        )
        topic = sns.Topic(self, "AlarmTopic", master_key=key, enforce_ssl=True)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=conditions,
            )
        )
        return topic

    def _dashboard_and_health(
        self, rows: list[tuple[str, list[cloudwatch.Alarm]]], topic: sns.Topic
    ) -> None:
        action = cloudwatch_actions.SnsAction(topic)
        every_alarm = [alarm for _, alarms in rows for alarm in alarms]
        for alarm in every_alarm:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        health = cloudwatch.CompositeAlarm(
            self,
            "ServiceHealth",
            alarm_rule=cloudwatch.AlarmRule.any_of(
                *(
                    cloudwatch.AlarmRule.from_alarm(alarm, cloudwatch.AlarmState.ALARM)
                    for alarm in every_alarm
                )
            ),
        )
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        dashboard.add_widgets(cloudwatch.AlarmStatusWidget(alarms=[health], width=24, height=2))
        for title, alarms in rows:
            dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(alarms=alarms, title=title, width=6, height=6),
                *(
                    cloudwatch.AlarmWidget(alarm=alarm, width=max(3, 18 // len(alarms)), height=6)
                    for alarm in alarms
                ),
            )

    def _canary(self, alias: lambda_.Alias, function_alarms: list[cloudwatch.Alarm]) -> None:
        # Every function alarm but the dead-letter queue's judges the new version.
        rollback = function_alarms[:4]
        role = iam.Role(
            self,
            "ApiFunctionDeploymentRole",
            assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "lambda:GetAlias",
                    "lambda:UpdateAlias",
                    "lambda:GetProvisionedConcurrencyConfig",
                ],
                resources=[alias.function_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:DescribeAlarms"],
                resources=[alarm.alarm_arn for alarm in rollback],
            )
        )
        codedeploy.LambdaDeploymentGroup(
            self,
            "ApiFunctionDeploymentGroup",
            alias=alias,
            deployment_config=codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
            # Without the managed policy aws-cdk would attach to the role.
            role=role.without_policy_updates(),
            alarms=rollback,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
        )
        for alarm in rollback:
            alias.node.add_dependency(alarm)


class _HttpLambdaProxy(apigwv2.HttpRouteIntegration):
    """Lambda proxy integration, payload 2.0, granting nothing itself.

    aws-cdk's HttpLambdaIntegration allows every method on the route's path; the routes
    grant their own method and path instead.
    """

    def __init__(self, integration_id: str, function: lambda_.IFunction) -> None:
        super().__init__(integration_id)
        self._function = function

    def bind(
        self, _options: apigwv2.HttpRouteIntegrationBindOptions
    ) -> apigwv2.HttpRouteIntegrationConfig:
        return apigwv2.HttpRouteIntegrationConfig(
            type=apigwv2.HttpIntegrationType.AWS_PROXY,
            uri=self._function.function_arn,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )


@jsii.implements(apigwv2.IAccessLogSettings)
class _HttpAccessLogs:
    """Access-log settings of an HTTP API stage (aws-cdk offers only the interface)."""

    def __init__(
        self, destination: apigwv2.IAccessLogDestination, log_format: apigateway.AccessLogFormat
    ) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return self._format

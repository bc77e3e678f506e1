"""A tiny CDK app for the emulator's own tests, built from plain aws-cdk-lib L2 constructs.

A ``TableV2`` with a stream, a function that writes orders (also behind an HTTP API
route, released through a version and a ``live`` alias that a second route invokes,
and the target of an EventBridge rule for a bucket's "Object Created" events,
which aws-cdk-lib turns on through its Python notifications custom resource) and a
function mapped to the stream with a filter, one retry, bisection and an on-failure
queue: enough to exercise deploy, custom resources, the Lambda runtime, EventBridge and
stream delivery and the HTTP API front door.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

STACK_NAME = "EmulatorTiny"
HANDLERS = Path(__file__).resolve().parent / "tiny_handlers"


def synthesize(outdir: Path) -> Path:
    """Synthesize the tiny app into ``outdir`` and return it (the cloud assembly)."""
    app = cdk.App(
        outdir=str(outdir), builtin_cloud_formation_validation=False, analytics_reporting=False
    )
    stack = cdk.Stack(app, STACK_NAME)
    table = dynamodb.TableV2(
        stack,
        "Orders",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    code = lambda_.Code.from_asset(str(HANDLERS), exclude=["__pycache__"])
    writer = _function(stack, "Writer", "tiny.handle", code, table)
    recorder = _function(stack, "Recorder", "tiny.record", code, table)
    failed_records = sqs.Queue(stack, "FailedRecords")
    recorder.add_event_source(
        event_sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=10,
            retry_attempts=1,
            bisect_batch_on_error=True,
            on_failure=event_sources.SqsDlq(failed_records),
            report_batch_item_failures=True,
            filters=[
                lambda_.FilterCriteria.filter(
                    {
                        "eventName": lambda_.FilterRule.is_equal("INSERT"),
                        "dynamodb": {
                            "Keys": {"pk": {"S": lambda_.FilterRule.begins_with("order#")}}
                        },
                    }
                )
            ],
        )
    )
    uploads = s3.Bucket(stack, "Uploads", event_bridge_enabled=True)
    events.Rule(
        stack,
        "OnUpload",
        event_pattern=events.EventPattern(
            source=["aws.s3"],
            detail_type=["Object Created"],
            detail={"bucket": {"name": [uploads.bucket_name]}},
        ),
        targets=[targets.LambdaFunction(writer)],
    )
    api = apigwv2.HttpApi(stack, "Api")
    api.add_routes(
        path="/orders",
        methods=[apigwv2.HttpMethod.POST],
        integration=integrations.HttpLambdaIntegration("WriterIntegration", writer),
    )
    live = lambda_.Alias(stack, "WriterLive", alias_name="live", version=writer.current_version)
    api.add_routes(
        path="/live/orders",
        methods=[apigwv2.HttpMethod.POST],
        integration=integrations.HttpLambdaIntegration("WriterLiveIntegration", live),
    )
    cdk.CfnOutput(stack, "WriterAliasArn", value=live.function_arn)
    cdk.CfnOutput(stack, "WriterVersion", value=writer.current_version.version)
    cdk.CfnOutput(stack, "TableName", value=table.table_name)
    cdk.CfnOutput(stack, "WriterName", value=writer.function_name)
    cdk.CfnOutput(stack, "ApiUrl", value=api.api_endpoint)
    cdk.CfnOutput(stack, "FailedRecordsUrl", value=failed_records.queue_url)
    cdk.CfnOutput(stack, "UploadsBucket", value=uploads.bucket_name)
    app.synth()
    return outdir


def _function(
    stack: cdk.Stack, name: str, handler: str, code: lambda_.Code, table: dynamodb.TableV2
) -> lambda_.Function:
    function = lambda_.Function(
        stack,
        name,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler=handler,
        code=code,
        timeout=cdk.Duration.seconds(10),
        environment={"TABLE_NAME": table.table_name},
    )
    table.grant_read_write_data(function)
    return function

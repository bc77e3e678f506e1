"""A small stack for the CDK CLI lifecycle tests, synthesized in versions that differ the
way a user's deploys do.

``Greeter`` (a function whose code says which version it is, behind an HTTP API route)
writes to ``Items`` (a ``TableV2``, retained on destroy as aws-cdk-lib's default), whose
stream is mapped to it (a filter no record matches: the mapping's batch size is a setting
a version changes); an
``Archive`` bucket (retained) and a ``Scratch`` queue (removal policy DESTROY) show what
``cdk destroy`` keeps. A version can turn on the table's time to live, move the route,
change the code and the mapping's batch size, and add a custom resource whose provider
refuses to create it (the update then fails after the table was changed, and must be
rolled back).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

STACK_NAME = "CliLifecycle"

_GREETER = """import json
import os

import boto3

VERSION = "{version}"


def handle(event, context):
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    table.put_item(Item={{"pk": "greeted#" + VERSION, "by": VERSION}})
    return {{"statusCode": 200, "body": json.dumps({{"version": VERSION}})}}
"""

# A provider that refuses to create or update (as a release check that does not pass does)
# and lets itself be deleted.
_REFUSER = """import json
import urllib.request


def handle(event, context):
    refused = event["RequestType"] != "Delete"
    response = {
        "Status": "FAILED" if refused else "SUCCESS",
        "Reason": "the release check refused this deployment",
        "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"],
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }
    body = json.dumps(response).encode()
    request = urllib.request.Request(
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"content-type": "", "content-length": str(len(body))},  # as cfn-response sends
    )
    urllib.request.urlopen(request).read()
"""


@dataclass(frozen=True)
class Version:
    """What one deploy of the stack looks like."""

    code: str
    route: str = "/greetings"
    batch_size: int = 10
    time_to_live: bool = False
    refused_check: bool = False


def synthesize(outdir: Path, version: Version, stack_name: str = STACK_NAME) -> Path:
    """Synthesize ``version`` of the stack into ``outdir`` (its handler code beside it)."""
    code_dir = outdir.parent / f"{outdir.name}-code"
    code_dir.mkdir(parents=True, exist_ok=True)
    (code_dir / "greeter.py").write_text(_GREETER.format(version=version.code), encoding="utf-8")
    (code_dir / "refuser.py").write_text(_REFUSER, encoding="utf-8")
    app = cdk.App(
        outdir=str(outdir), builtin_cloud_formation_validation=False, analytics_reporting=False
    )
    stack = cdk.Stack(app, stack_name)
    table = dynamodb.TableV2(
        stack,
        "Items",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        time_to_live_attribute="expires_at" if version.time_to_live else None,
        dynamo_stream=dynamodb.StreamViewType.NEW_IMAGE,
    )
    bucket = s3.Bucket(stack, "Archive")
    queue = sqs.Queue(stack, "Scratch", removal_policy=cdk.RemovalPolicy.DESTROY)
    code = lambda_.Code.from_asset(str(code_dir), exclude=["__pycache__"])
    greeter = _function(stack, "Greeter", "greeter.handle", code)
    greeter.add_environment("TABLE_NAME", table.table_name)
    table.grant_write_data(greeter)
    greeter.add_event_source(  # never matches (nothing is removed): a setting to update
        event_sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=version.batch_size,
            filters=[
                lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("REMOVE")})
            ],
        )
    )
    api = apigwv2.HttpApi(stack, "Api")
    api.add_routes(
        path=version.route,
        methods=[apigwv2.HttpMethod.GET],
        integration=integrations.HttpLambdaIntegration("GreeterIntegration", greeter),
    )
    if version.refused_check:
        refuser = _function(stack, "Refuser", "refuser.handle", code)
        check = cdk.CustomResource(stack, "ReleaseCheck", service_token=refuser.function_arn)
        check.node.add_dependency(table)  # the table is updated before the check fails
    for name, value in {
        "TableName": table.table_name,
        "FunctionName": greeter.function_name,
        "ApiUrl": api.api_endpoint,
        "BucketName": bucket.bucket_name,
        "QueueUrl": queue.queue_url,
    }.items():
        cdk.CfnOutput(stack, name, value=value)
    app.synth()
    return outdir


def _function(stack: cdk.Stack, name: str, handler: str, code: lambda_.Code) -> lambda_.Function:
    return lambda_.Function(
        stack,
        name,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler=handler,
        code=code,
        timeout=cdk.Duration.seconds(10),
    )

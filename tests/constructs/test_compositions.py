"""The constructs in apps shaped the way users shape them, not the way the library's own tests are.

One app, synthesized once with the cdk-nag packs: a stateful stack and the stateless stack
that consumes it, a nested stack reading its parent's table, a Stage holding its own pair of
stacks, tables imported by name and by ARN, each prop variant with everything else left to
its default, the library's own constructs passed where an aws-cdk interface is taken, and
stacks in the China and AWS GovCloud (US) partitions. Every acknowledgment the library writes
must still match its finding, whatever form the referenced ARN takes in the template.
"""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk.assertions import Capture, Match, Template

from constructs_lib import (
    ConstructPropsError,
    DynamoTable,
    HttpApiEndpoint,
    LambdaFunction,
    RestApiEndpoint,
    S3Trigger,
    StreamMapping,
    Workflow,
)
from constructs_lib.defaults import POWERTOOLS_LAYER_COMMERCIAL_ACCOUNT, POWERTOOLS_LAYER_VERSION
from tests.constructs import (
    ACCOUNT,
    cfn_lint_findings,
    inline_function,
    unjustified_acknowledgments,
    users_bucket,
)
from tests.support import ENV, Synthesized, nag_app, synthesize

STREAM_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/imported/stream/2024-01-01T00:00:00.000"
PUBLIC_REASON = "A read-only catalogue for anonymous browsers; it holds no personal data."
CHINA = cdk.Environment(account=ACCOUNT, region="cn-north-1")
GOVCLOUD = cdk.Environment(account=ACCOUNT, region="us-gov-west-1")


def stateful_stack(scope: cdk.App | cdk.Stage, env: cdk.Environment | None) -> cdk.Stack:
    """What users keep apart because it holds data: a table with a stream, a bucket, a function."""
    stack = cdk.Stack(scope, "Data", env=env)
    DynamoTable(
        stack, "Orders", partition_key="pk", stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES
    )
    users_bucket(stack, "Uploads")
    inline_function(stack, "Pricing")
    return stack


def stateless_stack(scope: cdk.App | cdk.Stage, data: cdk.Stack, env: Any) -> cdk.Stack:
    """The consumers, in another stack: every ARN of ``data`` arrives as an import."""
    table = data.node.find_child("Orders")
    bucket = data.node.find_child("Uploads")
    pricing = data.node.find_child("Pricing")
    assert isinstance(table, DynamoTable) and isinstance(pricing, LambdaFunction)
    stack = cdk.Stack(scope, "Services", env=env)
    worker = inline_function(stack, "Worker")
    StreamMapping(stack, "Changes", function=worker, table=table)
    S3Trigger(stack, "Ingest", function=worker, bucket=bucket, prefix="in/", suffix=".csv")
    Workflow(
        stack,
        "Quote",
        definition=tasks.LambdaInvoke(stack, "Price", lambda_function=pricing.function),
    )
    RestApiEndpoint(stack, "PricesRest", routes={"GET /prices": pricing})
    HttpApiEndpoint(stack, "PricesHttp", routes={"GET /prices": pricing})
    return stack


def nested_consumer(data: cdk.Stack) -> None:
    """A nested stack reading its parent's table: the ARN arrives as a stack parameter."""
    nested = cdk.NestedStack(data, "Reports")
    StreamMapping(
        nested,
        "Changes",
        function=inline_function(nested, "Reporter"),
        table=data.node.find_child("Orders"),
    )


def imported_tables(app: cdk.App) -> None:
    """Tables imported by name and by ARN, as users of a table they do not own import them."""
    stack = cdk.Stack(app, "Imported", env=ENV)
    by_name = dynamodb.Table.from_table_attributes(
        stack, "ByName", table_name="imported", table_stream_arn=STREAM_ARN
    )
    by_arn = dynamodb.Table.from_table_attributes(
        stack,
        "ByArn",
        table_arn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/imported",
        table_stream_arn=STREAM_ARN,
    )
    StreamMapping(stack, "FromName", function=inline_function(stack, "ByNameReader"), table=by_name)
    StreamMapping(stack, "FromArn", function=inline_function(stack, "ByArnReader"), table=by_arn)


def variants_with_defaults(app: cdk.App) -> None:
    """Each variant a prop allows, every other prop left to its default."""
    stack = cdk.Stack(app, "Variants", env=ENV)
    Workflow(
        stack,
        "Express",
        definition=sfn.Pass(stack, "Pass"),
        state_machine_type=sfn.StateMachineType.EXPRESS,
    )
    x86 = inline_function(stack, "X86", architecture=lambda_.Architecture.X86_64)
    table = DynamoTable(
        stack, "Sorted", partition_key="pk", sort_key="sk", stream=dynamodb.StreamViewType.KEYS_ONLY
    )
    StreamMapping(
        stack,
        "Latest",
        function=x86,
        table=table,
        starting_position=lambda_.StartingPosition.LATEST,
    )
    S3Trigger(stack, "EveryObject", function=inline_function(stack, "Archiver"))
    catalogue = inline_function(stack, "Catalogue", alias_name="live")
    RestApiEndpoint(
        stack,
        "PublicRest",
        routes={"GET /items": catalogue},
        public=True,
        public_reason=PUBLIC_REASON,
    )
    HttpApiEndpoint(
        stack,
        "PublicHttp",
        routes={"GET /items": catalogue},
        public=True,
        public_reason=PUBLIC_REASON,
    )
    inline_function(stack, "ByRelease", powertools_layer_version="3.23.0")
    # A LambdaFunction is an IGrantable: aws-cdk's grants take it as it is.
    table.table.grant_read_data(catalogue)


def partitions(app: cdk.App) -> None:
    for name, env in (("China", CHINA), ("GovCloud", GOVCLOUD)):
        stack = cdk.Stack(app, name, env=env)
        inline_function(stack, "Api")


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = nag_app()
    data = stateful_stack(app, ENV)
    stateless_stack(app, data, ENV)
    nested_consumer(data)
    stage = cdk.Stage(app, "Prod", env=ENV)
    stateless_stack(stage, stateful_stack(stage, None), None)
    imported_tables(app)
    variants_with_defaults(app)
    partitions(app)
    return synthesize(app)


def template(synth: Synthesized, name: str) -> Template:
    if name in synth.templates:
        return synth.template(name)
    # A nested stack's template is named after its parent and itself, with a hash.
    (nested,) = [n for n in synth.templates if n.startswith(name) and n.endswith(".nested")]
    return synth.template(nested)


# --- nag and cfn-lint over the whole app ------------------------------------------------


def test_composed_app_has_no_unacknowledged_nag_finding(synth: Synthesized) -> None:
    assert synth.error is None, synth.error
    assert synth.violations == [], "\n".join(synth.finding_summary())


def test_composed_app_acknowledgments_are_granular_and_give_reasons(synth: Synthesized) -> None:
    assert unjustified_acknowledgments(synth) == []


def test_composed_app_templates_pass_cfn_lint(synth: Synthesized) -> None:
    assert len(synth.template_paths) >= 9  # the stacks, the Stage's two and the nested one
    assert cfn_lint_findings(synth) == []


# --- stateful / stateless split: each acknowledged ARN arrives as an import --------------


def acknowledged_resources(synth: Synthesized, path_prefix: str) -> set[str]:
    """The resources named in the IAM5 acknowledgments made under ``path_prefix``, but ``*``."""
    names = {
        entry["ruleName"].removeprefix("AwsSolutions-IAM5[Resource::").removesuffix("]")
        for entry in synth.acknowledged
        if entry["ruleName"].startswith("AwsSolutions-IAM5[Resource::")
        and entry["acknowledgedAt"].startswith(path_prefix)
    }
    return names - {"*"}


@pytest.mark.parametrize(
    ("path_prefix", "expected_suffix"),
    [
        pytest.param("Services/Worker", "/stream/*", id="stream of a table in another stack"),
        pytest.param("Services/Worker", "/in/*.csv", id="objects of a bucket in another stack"),
        pytest.param("Services/Quote", ":*", id="versions of a function in another stack"),
        pytest.param("Prod/Services/Worker", "/stream/*", id="in a Stage"),
    ],
)
def test_acknowledgment_names_the_imported_arn_of_another_stack(
    synth: Synthesized, path_prefix: str, expected_suffix: str
) -> None:
    names = acknowledged_resources(synth, path_prefix)
    matching = [n for n in names if n.endswith(expected_suffix)]
    assert len(matching) == 1, names
    assert ":ExportsOutputFnGetAtt" in matching[0]


def test_stream_grant_of_a_consumer_stack_imports_the_table_arn(synth: Synthesized) -> None:
    imported = Capture()
    template(synth, "Services").has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "dynamodb:ListStreams",
                            "Effect": "Allow",
                            "Resource": {
                                "Fn::Join": ["", [{"Fn::ImportValue": imported}, "/stream/*"]]
                            },
                        }
                    ]
                )
            }
        },
    )
    assert imported.as_string().startswith("Data:ExportsOutputFnGetAttOrdersTable")


def test_nested_stack_acknowledgment_names_the_parameter_it_receives(synth: Synthesized) -> None:
    (name,) = acknowledged_resources(synth, "Data/Reports/Reporter")
    assert name.startswith("<referencetoDataOrdersTable") and name.endswith("Arn>/stream/*")
    template(synth, "DataReports").has_parameter(name[1:].split(">")[0], {"Type": "String"})


@pytest.mark.parametrize(
    ("reader", "arn_start"),
    [
        pytest.param("Imported/ByNameReader", "arn:<AWS::Partition>:dynamodb:", id="by name"),
        pytest.param("Imported/ByArnReader", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:", id="by ARN"),
    ],
)
def test_acknowledgment_names_the_arn_of_an_imported_table(
    synth: Synthesized, reader: str, arn_start: str
) -> None:
    (name,) = acknowledged_resources(synth, reader)
    assert name.startswith(arn_start) and name.endswith(":table/imported/stream/*")


def test_routes_to_a_function_of_another_stack_are_permitted_in_the_api_stack(
    synth: Synthesized,
) -> None:
    permissions = template(synth, "Services").find_resources(
        "AWS::Lambda::Permission",
        {
            "Properties": {
                "FunctionName": {"Fn::ImportValue": Match.string_like_regexp("PricingFunction")}
            }
        },
    )
    # One per route: the REST route names its stage, the HTTP route any stage ($default).
    endings = sorted(p["Properties"]["SourceArn"]["Fn::Join"][1][-1] for p in permissions.values())
    assert endings == ["/*/GET/prices", "/GET/prices"]


# --- the library's own constructs where aws-cdk interfaces are taken ----------------------


def test_lambda_function_and_dynamo_table_are_taken_as_function_and_table(
    synth: Synthesized,
) -> None:
    services = template(synth, "Services")
    worker = Capture()
    services.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionName": {"Ref": worker}, "EventSourceArn": {"Fn::ImportValue": Match.any_value()}},
    )
    assert worker.as_string().startswith("WorkerFunction")
    services.has_resource_properties(
        "AWS::Events::Rule",
        {"Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [worker.as_string(), "Arn"]}})]},
    )


def test_a_lambda_function_with_an_alias_is_routed_through_its_alias(synth: Synthesized) -> None:
    variants = template(synth, "Variants")
    alias = Capture()
    variants.has_resource_properties(
        "AWS::ApiGatewayV2::Integration", {"IntegrationUri": {"Ref": alias}}
    )
    assert alias.as_string().startswith("CatalogueAlias")
    variants.resource_properties_count_is(
        "AWS::Lambda::Permission", {"FunctionName": {"Ref": alias.as_string()}}, 2
    )


def test_a_lambda_function_is_granted_to_through_its_role(synth: Synthesized) -> None:
    role = Capture()
    template(synth, "Variants").has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": Match.array_with(["dynamodb:GetItem"])})]
                )
            },
            "Roles": [{"Ref": role}],
        },
    )
    assert role.as_string().startswith("CatalogueExecutionRole")


# --- every prop variant with default props ---------------------------------------------------


def test_express_workflow_with_default_props_times_out_at_the_express_limit(
    synth: Synthesized,
) -> None:
    template(synth, "Variants").has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "EXPRESS",
            "DefinitionString": Match.serialized_json(Match.object_like({"TimeoutSeconds": 300})),
        },
    )


def test_stream_mapping_from_latest_keeps_the_other_defaults(synth: Synthesized) -> None:
    template(synth, "Variants").has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "StartingPosition": "LATEST",
            "BatchSize": 10,
            "MaximumRetryAttempts": 3,
            "BisectBatchOnFunctionError": True,
        },
    )


def test_x86_64_function_gets_the_x86_64_layer(synth: Synthesized) -> None:
    template(synth, "Variants").has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Architectures": ["x86_64"],
            "Layers": [
                {
                    "Fn::Join": [
                        "",
                        Match.array_with(
                            [
                                Match.string_like_regexp(
                                    "AWSLambdaPowertoolsPythonV3-python314-x86_64"
                                )
                            ]
                        ),
                    ]
                }
            ],
        },
    )


# --- partitions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "publisher", "version"),
    [
        pytest.param("China", "498634801083", POWERTOOLS_LAYER_VERSION, id="China"),
        pytest.param("GovCloud", "165093116878", 27, id="GovCloud"),
        pytest.param(
            "Variants",
            POWERTOOLS_LAYER_COMMERCIAL_ACCOUNT,
            POWERTOOLS_LAYER_VERSION,
            id="commercial",
        ),
    ],
)
def test_powertools_layer_is_the_version_that_partition_publishes_from_its_publisher(
    synth: Synthesized, stack: str, publisher: str, version: int
) -> None:
    region = {"China": "cn-north-1", "GovCloud": "us-gov-west-1"}.get(stack, ENV.region)
    layers = Capture()
    template(synth, stack).has_resource_properties("AWS::Lambda::Function", {"Layers": layers})
    (layer,) = layers.as_array()
    head, partition, tail = layer["Fn::Join"][1]
    assert (head, partition) == ("arn:", {"Ref": "AWS::Partition"})
    assert re.fullmatch(
        rf":lambda:{region}:{publisher}:layer:AWSLambdaPowertoolsPythonV3-python3\d+-\w+:{version}",
        tail,
    )


def test_a_layer_version_given_is_used_as_given_in_govcloud_too() -> None:
    stack = cdk.Stack(cdk.App(), "GovPinned", env=GOVCLOUD)
    inline_function(stack, "Api", powertools_layer_version=30)
    layers = Capture()
    Template.from_stack(stack).has_resource_properties("AWS::Lambda::Function", {"Layers": layers})
    (layer,) = layers.as_array()
    assert layer["Fn::Join"][1][2].endswith("-arm64:30")


@pytest.mark.parametrize("region", ["cn-northwest-1", "us-iso-east-1", "ap-southeast-6"])
def test_a_region_without_a_published_layer_is_refused_naming_the_way_out(region: str) -> None:
    stack = cdk.Stack(cdk.App(), "Elsewhere", env=cdk.Environment(account=ACCOUNT, region=region))
    with pytest.raises(ConstructPropsError) as caught:
        inline_function(stack, "Api")
    assert caught.value.prop == "powertools_layer"
    assert region in str(caught.value)
    assert "powertools_layer=False" in str(caught.value)
    assert "layers=" in str(caught.value)
    # Without the layer the same function is accepted.
    inline_function(stack, "Plain", powertools_layer=False)


SSM_LAYER = "{{resolve:ssm:/aws/service/powertools/python/arm64/python3.14/3.23.0}}"


def test_a_powertools_release_is_resolved_from_its_public_ssm_parameter(
    synth: Synthesized,
) -> None:
    template(synth, "Variants").has_resource_properties(
        "AWS::Lambda::Function", {"Layers": [SSM_LAYER]}
    )


def test_a_powertools_release_is_accepted_where_no_layer_version_is_known() -> None:
    stack = cdk.Stack(
        cdk.App(), "Elsewhere", env=cdk.Environment(account=ACCOUNT, region="cn-northwest-1")
    )
    inline_function(stack, "Api", powertools_layer_version="3.23.0")
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function", {"Layers": [SSM_LAYER]}
    )

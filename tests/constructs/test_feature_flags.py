"""Every construct under the feature flags ``cdk init`` writes today, and under none.

Users' apps have either: a new app carries the recommended flags in ``cdk.json``; an app
created before a flag existed lacks it. The library must be as clean in both: the same
constructs, with their defaults and main options, give zero open cdk-nag findings, the same
acknowledgments and a clean cfn-lint report whatever the flags.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from constructs_lib import (
    DynamoTable,
    HttpApiEndpoint,
    RestApiEndpoint,
    S3Trigger,
    StreamMapping,
    Workflow,
)
from tests.constructs import inline_function
from tests.support import (
    ENV,
    RECOMMENDED_FLAGS,
    Synthesized,
    cfn_lint_findings,
    nag_app,
    synthesize,
)

FLAG_SETS = {"recommended": RECOMMENDED_FLAGS, "none": {}}


def _every_construct(app: cdk.App) -> None:
    """One stack wiring every construct, as the sample does, with options beyond defaults."""
    stack = cdk.Stack(app, "Everything", env=ENV)
    orders = DynamoTable(
        stack, "Orders", partition_key="id", stream=dynamodb.StreamViewType.NEW_IMAGE
    )
    api_fn = inline_function(stack, "Api", alias_name="live")
    orders.table.grant(api_fn.function, "dynamodb:PutItem", "dynamodb:GetItem")
    routes = {"POST /items": api_fn.function, "GET /items/{id}": api_fn.function}
    RestApiEndpoint(stack, "Rest", routes=routes)
    HttpApiEndpoint(stack, "Http", routes=routes)
    ingest_fn = inline_function(stack, "Ingest")
    S3Trigger(stack, "Uploads", function=ingest_fn.function, prefix="in/", suffix=".json")
    stream_fn = inline_function(stack, "Stream")
    StreamMapping(
        stack,
        "Changes",
        function=stream_fn.function,
        table=orders.table,
        filters=[{"eventName": ["INSERT"]}],
    )
    topic = sns.Topic(
        stack,
        "Notices",
        master_key=kms.Key(stack, "NoticesKey", enable_key_rotation=True),
        enforce_ssl=True,
    )
    Workflow(
        stack,
        "Flow",
        definition=tasks.LambdaInvoke(stack, "Step", lambda_function=stream_fn.function).next(
            tasks.SnsPublish(stack, "Tell", topic=topic, message=sfn.TaskInput.from_text("x"))
        ),
    )


@pytest.fixture(scope="module")
def synths() -> dict[str, Synthesized]:
    results = {}
    for name, flags in FLAG_SETS.items():
        app = nag_app(feature_flags=flags)
        _every_construct(app)
        results[name] = synthesize(app)
    return results


def _acknowledged_ids(synth: Synthesized) -> set[tuple[str, str]]:
    return {
        (a["ruleName"], c["constructPath"])
        for a in synth.acknowledged
        for c in a.get("violatingConstructs", [])
    }


@pytest.mark.parametrize("flags", FLAG_SETS)
def test_every_construct_leaves_no_open_nag_finding(
    synths: dict[str, Synthesized], flags: str
) -> None:
    assert synths[flags].violations == [], synths[flags].finding_summary()


@pytest.mark.parametrize("flags", FLAG_SETS)
def test_every_construct_passes_cfn_lint(synths: dict[str, Synthesized], flags: str) -> None:
    assert cfn_lint_findings(synths[flags]) == []


def test_the_flags_change_no_acknowledgment(synths: dict[str, Synthesized]) -> None:
    recommended, none = (_acknowledged_ids(synths[name]) for name in FLAG_SETS)
    assert recommended, "expected the library's acknowledgments (X-Ray, failure queues, ...)"
    assert recommended == none


def test_cdk_json_carries_the_recommended_flags_of_the_installed_aws_cdk_lib() -> None:
    # aws-cdk-lib ships the flags `cdk init` writes; an upgrade that adds one fails here.
    package = Path(cdk.__file__).parent / "_jsii"
    (bundle,) = package.glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(bundle) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        shipped: dict[str, Any] = json.load(member)
    assert shipped == RECOMMENDED_FLAGS

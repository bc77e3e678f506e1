"""Deploy a stack from a CDK cloud assembly (``cdk.out``) into the emulator, as ``cdk deploy`` does.

The steps are the CDK CLI's, against the emulator's endpoint:

1. bootstrap: the asset bucket and the bootstrap-version SSM parameter that
   ``cdk bootstrap`` would have created (the template's ``BootstrapVersion`` parameter and
   ``CheckBootstrapVersion`` rule read that parameter);
2. publish the file assets listed in ``<Stack>.assets.json``: zip each ``asset.<hash>/``
   directory (or take the file as is) and upload it to its destination bucket and key;
3. ``CreateStack`` with the template from the asset bucket (``TemplateURL``, as the CLI does)
   and ``CAPABILITY_IAM``, ``CAPABILITY_NAMED_IAM``, ``CAPABILITY_AUTO_EXPAND``;
4. wait for ``CREATE_COMPLETE``, or report the resource that failed and why.

The template is deployed unchanged. (The CLI goes through a change set, which the emulator
runs too: ``emulator.cdk_cli`` drives the pinned CLI itself. This module needs no Node.js,
and ``CreateStack`` creates a new stack the way a change set does, ~15 s sooner.)
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from emulator.protocol import NOT_EMULATED_PATH
from emulator.server import Emulator

#: The bootstrap stack version reported to templates (``cdk bootstrap`` of CDK 2.1xx writes 2x).
BOOTSTRAP_VERSION = "30"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
#: Seconds ``deploy_stack`` waits for CREATE_COMPLETE by default.
DEFAULT_TIMEOUT_SECONDS = 60.0


class DeployError(RuntimeError):
    """The stack did not reach CREATE_COMPLETE; the message names the failing resources."""


@dataclass(frozen=True)
class DeployedStack:
    """A stack deployed in the emulator.

    Attributes
    ----------
    name, stack_id:
        The stack's name and ARN.
    outputs:
        ``OutputKey -> OutputValue``, as ``cdk deploy`` prints them.
    physical_ids:
        ``LogicalResourceId -> PhysicalResourceId`` for every resource moto created.
    resource_types:
        ``LogicalResourceId -> ResourceType``.
    not_emulated:
        ``LogicalResourceId -> ResourceType`` of the resources moto has no model for: they
        exist as named placeholders only (see ``emulator.patches.unsupported_resources``).
    """

    name: str
    stack_id: str
    outputs: dict[str, str]
    physical_ids: dict[str, str]
    resource_types: dict[str, str] = field(repr=False)
    not_emulated: dict[str, str] = field(default_factory=dict)

    def physical_id(self, logical_id_prefix: str) -> str:
        """Return the physical id of the one resource whose logical id starts with the prefix.

        CDK logical ids end in a hash (``OrdersTable1234ABCD``); the construct path part
        is stable, so tests can say ``stack.physical_id("OrdersTable")``.
        """
        matches = [lid for lid in self.physical_ids if lid.startswith(logical_id_prefix)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources start with {logical_id_prefix!r}: {matches}")
        return self.physical_ids[matches[0]]

    def physical_ids_of_type(self, resource_type: str) -> dict[str, str]:
        """``LogicalResourceId -> PhysicalResourceId`` of every resource of one type."""
        return {
            lid: pid
            for lid, pid in self.physical_ids.items()
            if self.resource_types.get(lid) == resource_type
        }


@dataclass(frozen=True)
class _StackArtifact:
    stack_name: str
    template_path: Path
    assets_path: Path | None
    bootstrap_parameter: str | None


def deploy_stack(
    emulator: Emulator,
    cloud_assembly_dir: str | Path,
    stack_name: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> DeployedStack:
    """Deploy one stack of a synthesized cloud assembly and return its outputs and resources.

    Parameters
    ----------
    emulator:
        A running emulator (``start_emulator``).
    cloud_assembly_dir:
        The ``cdk.out`` directory (``app.synth()`` or ``cdk synth`` wrote it).
    stack_name:
        The stack's artifact id or stack name, as ``cdk deploy <name>`` takes it.
    timeout_seconds:
        How long to wait for CREATE_COMPLETE. Default 60.

    Raises
    ------
    DeployError
        When CreateStack is refused or the stack does not reach CREATE_COMPLETE in time; the
        message names the resources that failed or are still in progress, with reasons.
    """
    assembly = Path(cloud_assembly_dir)
    artifact = _find_stack(assembly, stack_name)
    substitutions = {
        "${AWS::AccountId}": emulator.account_id,
        "${AWS::Region}": emulator.region,
        "${AWS::Partition}": "aws",
    }
    if artifact.bootstrap_parameter:
        emulator.client("ssm").put_parameter(
            Name=artifact.bootstrap_parameter,
            Value=BOOTSTRAP_VERSION,
            Type="String",
            Overwrite=True,
        )
    template_location = None
    if artifact.assets_path is not None:
        template_location = _publish_assets(emulator, assembly, artifact, substitutions)

    cloudformation = emulator.client("cloudformation")
    source: dict[str, str] = (
        {"TemplateURL": template_location}
        if template_location
        else {"TemplateBody": artifact.template_path.read_text(encoding="utf-8")}
    )
    try:
        stack_id = cloudformation.create_stack(
            StackName=artifact.stack_name, Capabilities=CAPABILITIES, **source
        )["StackId"]
    except ClientError as error:
        raise DeployError(
            f"CreateStack {artifact.stack_name} was refused: {error}\n"
            f"Server log tail:\n{emulator.read_log()[-3000:]}"
        ) from error
    _wait_for_create_complete(emulator, stack_id, artifact.stack_name, timeout_seconds)
    return describe_stack(emulator, stack_id)


def _find_stack(assembly: Path, stack_name: str) -> _StackArtifact:
    manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    artifacts: dict[str, Any] = manifest.get("artifacts", {})
    names = []
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties", {})
        name = properties.get("stackName", artifact_id)
        names.append(name)
        if stack_name not in (artifact_id, name, artifact.get("displayName")):
            continue
        assets_path = None
        for dependency in artifact.get("dependencies", []):
            dependency_artifact = artifacts.get(dependency, {})
            if dependency_artifact.get("type") == "cdk:asset-manifest":
                assets_path = assembly / dependency_artifact["properties"]["file"]
        return _StackArtifact(
            stack_name=name,
            template_path=assembly / properties["templateFile"],
            assets_path=assets_path,
            bootstrap_parameter=properties.get("bootstrapStackVersionSsmParameter"),
        )
    raise DeployError(f"no stack {stack_name!r} in {assembly}; stacks there: {names}")


def _publish_assets(
    emulator: Emulator, assembly: Path, artifact: _StackArtifact, substitutions: dict[str, str]
) -> str | None:
    """Upload every file asset; return the S3 URL of the stack's own template, if listed."""
    assert artifact.assets_path is not None
    manifest = json.loads(artifact.assets_path.read_text(encoding="utf-8"))
    if manifest.get("dockerImages"):
        raise DeployError(
            f"{artifact.stack_name} has Docker image assets; the emulator runs zip functions only"
        )
    s3 = emulator.client("s3")
    created_buckets: set[str] = set()
    template_location = None
    for asset in manifest.get("files", {}).values():
        source = asset["source"]
        if "path" not in source:
            raise DeployError(
                f"asset {asset.get('displayName')} is built by a command; not supported"
            )
        body = _package(assembly / source["path"], source.get("packaging", "file"))
        for destination in asset["destinations"].values():
            bucket = _substitute(destination["bucketName"], substitutions)
            key = _substitute(destination["objectKey"], substitutions)
            if bucket not in created_buckets:
                _ensure_bucket(s3, bucket, emulator.region)
                created_buckets.add(bucket)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            if (assembly / source["path"]).resolve() == artifact.template_path.resolve():
                template_location = f"https://s3.{emulator.region}.amazonaws.com/{bucket}/{key}"
    return template_location


def _package(path: Path, packaging: str) -> bytes:
    if packaging == "file":
        return path.read_bytes()
    if packaging != "zip":
        raise DeployError(f"asset packaging {packaging!r} is not supported")
    if path.is_file():
        return path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(path).as_posix())
    return buffer.getvalue()


def _ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    arguments: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise


def _substitute(text: str, substitutions: dict[str, str]) -> str:
    for placeholder, value in substitutions.items():
        text = text.replace(placeholder, value)
    return text


def _wait_for_create_complete(
    emulator: Emulator, stack_id: str, stack_name: str, timeout_seconds: float
) -> None:
    cloudformation = emulator.client("cloudformation")
    started = time.monotonic()
    deadline = started + timeout_seconds
    status = ""
    while time.monotonic() < deadline:
        status = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        if status == "CREATE_COMPLETE":
            return
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.1)
    raise DeployError(
        f"stack {stack_name} is {status or 'unknown'} after {time.monotonic() - started:.1f} s\n"
        + _explain(cloudformation, stack_id)
        + f"\nServer log tail:\n{emulator.read_log()[-3000:]}"
    )


def _explain(cloudformation: Any, stack_id: str) -> str:
    lines = []
    for event in cloudformation.describe_stack_events(StackName=stack_id)["StackEvents"]:
        if event.get("ResourceStatus", "").endswith("FAILED"):
            lines.append(
                f"  {event['LogicalResourceId']} ({event.get('ResourceType')}): "
                f"{event['ResourceStatus']} {event.get('ResourceStatusReason', '')}"
            )
    for resource in cloudformation.list_stack_resources(StackName=stack_id)[
        "StackResourceSummaries"
    ]:
        if resource["ResourceStatus"].endswith("IN_PROGRESS"):
            lines.append(
                f"  {resource['LogicalResourceId']} ({resource['ResourceType']}): still "
                f"{resource['ResourceStatus']} (a custom resource whose handler did not "
                "report SUCCESS?)"
            )
    return "\n".join(lines) or "  (no resource reports a failure)"


def describe_stack(emulator: Emulator, stack_name_or_id: str) -> DeployedStack:
    """Return a deployed stack's outputs and resources, however it was deployed."""
    cloudformation = emulator.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=stack_name_or_id)["Stacks"][0]
    stack_id, stack_name = stack["StackId"], stack["StackName"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    physical_ids: dict[str, str] = {}
    resource_types: dict[str, str] = {}
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_id):
        for resource in page["StackResourceSummaries"]:
            physical_ids[resource["LogicalResourceId"]] = resource.get("PhysicalResourceId", "")
            resource_types[resource["LogicalResourceId"]] = resource["ResourceType"]
    with urllib.request.urlopen(emulator.endpoint_url + NOT_EMULATED_PATH, timeout=10) as response:
        not_emulated = json.loads(response.read()).get(stack_id, {})
    return DeployedStack(stack_name, stack_id, outputs, physical_ids, resource_types, not_emulated)

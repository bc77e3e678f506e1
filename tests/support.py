"""Shared test helpers: build an app with the cdk-nag packs, synthesize it once, read results."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

ENV = cdk.Environment(account="111122223333", region="us-east-1")


#: This test process's scratch space (cloud assemblies, asset folders), removed when it exits.
_SCRATCH = tempfile.TemporaryDirectory(prefix="cdk-tests-")


def scratch_dir(prefix: str) -> str:
    """A new, empty directory in this test process's scratch space."""
    return tempfile.mkdtemp(prefix=prefix, dir=_SCRATCH.name)


#: The feature flags ``cdk init`` writes for the pinned aws-cdk-lib, as ``cdk.json`` carries them.
RECOMMENDED_FLAGS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent.parent / "cdk.json").read_text()
)["context"]


def nag_app(
    *, builtin_validation: bool = False, feature_flags: dict[str, Any] | None = None
) -> cdk.App:
    """An app with AwsSolutions and Serverless applied, writing to a fresh temp dir.

    ``feature_flags`` are the app's feature flags, as ``cdk.json``'s context gives them to
    ``cdk synth``. Default: none, as in an app whose ``cdk.json`` predates them;
    :data:`RECOMMENDED_FLAGS` for an app as ``cdk init`` creates it today.

    ``builtin_validation=True`` also runs aws-cdk's CloudFormation template validation with
    its findings as errors. (tests/conftest.py sets CDK_VALIDATION=false for the jsii
    process, which turns the automatic plugin off, so it is registered explicitly here.)
    """
    app = cdk.App(
        outdir=scratch_dir("cdkout-"),
        builtin_cloud_formation_validation=builtin_validation,
        stack_traces=False,
        analytics_reporting=False,
        context={
            **(feature_flags or {}),
            "@aws-cdk/core:validateAgainstDefaultRules": builtin_validation,
        },
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    if builtin_validation:
        cdk.Validations.of(app).add_plugins(cdk.CloudFormationValidatePlugin())
    return app


@dataclass
class Synthesized:
    """The outcome of one synthesis: templates, and the nag report."""

    outdir: Path
    templates: dict[str, dict[str, Any]]
    violations: list[dict[str, Any]]
    acknowledged: list[dict[str, Any]]
    error: str | None = None
    template_paths: dict[str, Path] = field(default_factory=dict)
    _assertions: dict[str, Template] = field(default_factory=dict)

    def template(self, stack_name: str) -> Template:
        if stack_name not in self._assertions:
            self._assertions[stack_name] = Template.from_json(self.templates[stack_name])
        return self._assertions[stack_name]

    def finding_summary(self) -> list[str]:
        return [
            f"{v['ruleName']} ({v['severity']}) at "
            + ", ".join(c["constructPath"] for c in v["violatingConstructs"])
            for v in self.violations
        ]


def synthesize(app: cdk.App) -> Synthesized:
    """Synthesize ``app`` and collect templates and the validation report.

    A nag error makes aws-cdk raise ``ValidationFailed``; the report is written anyway,
    so the failure is captured and the violations are returned for a precise assertion.
    """
    error = None
    try:
        assembly = app.synth()
        outdir = Path(assembly.directory)
    except RuntimeError as exc:  # jsii surfaces ValidationFailed as RuntimeError
        error = str(exc)
        outdir = Path(app.outdir)
    # Nested stacks' templates sit beside their parent's; a Stage's in its own assembly.
    paths = {
        path.name.removesuffix(".template.json"): path
        for path in sorted(outdir.rglob("*.template.json"))
    }
    templates = {name: json.loads(path.read_text()) for name, path in paths.items()}
    report_path = outdir / "validation-report.json"
    violations: list[dict[str, Any]] = []
    acknowledged: list[dict[str, Any]] = []
    if report_path.exists():
        report = json.loads(report_path.read_text())
        for plugin in report.get("pluginReports", []):
            violations.extend(plugin.get("violations", []))
            acknowledged.extend(plugin.get("suppressedViolations", []))
    elif error:
        raise RuntimeError(error)
    return Synthesized(outdir, templates, violations, acknowledged, error, paths)


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def policy_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of every AWS::IAM::Policy and inline role policy in the template."""
    statements: list[dict[str, Any]] = []
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                statements.extend(policy["PolicyDocument"]["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def cfn_lint_findings(synth: Synthesized, region: str = "us-east-1") -> list[str]:
    """cfn-lint's matches on every template of ``synth``, as ``"<template>: <match>"``."""
    return [
        f"{name}: {match}"
        for name in sorted(synth.template_paths)
        for match in _template_findings(synth.template_paths[name].read_bytes(), region)
    ]


#: cfn-lint's matches on a template depend only on its text, cfn-lint's version, the region
#: and cfn-lint's configuration files: they are kept here under those (git-ignored; `make
#: clean` removes them), so that a test run lints the templates that changed, and only those.
LINT_RESULTS = Path(__file__).resolve().parent.parent / ".pytest_cache" / "cfn-lint"


def _template_findings(text: bytes, region: str) -> list[str]:
    from importlib.metadata import version

    key = hashlib.sha256(b"\0".join([version("cfn-lint").encode(), region.encode(), text]))
    # cfn-lint reads .cfnlintrc (.yaml, .yml) from the home and the working directory.
    for folder in (Path.home(), Path.cwd()):
        for name in (".cfnlintrc", ".cfnlintrc.yaml", ".cfnlintrc.yml"):
            if (folder / name).is_file():
                key.update(b"\0" + (folder / name).read_bytes())
    kept = LINT_RESULTS / f"{key.hexdigest()}.json"
    if kept.exists():
        findings: list[str] = json.loads(kept.read_text())
        return findings
    # Imported on first use: loading cfn-lint takes seconds, and only synthesis tests need it.
    from cfnlint.api import lint

    findings = [str(match) for match in lint(text.decode("utf-8"), regions=[region])]
    LINT_RESULTS.mkdir(parents=True, exist_ok=True)
    partial = kept.with_name(f"{kept.name}.{os.getpid()}")  # workers may lint the same text
    partial.write_text(json.dumps(findings))
    partial.replace(kept)
    return findings

"""Apply the AWS security rule packs to an app, and fail on any finding they leave open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks


def apply_security_checks(app: cdk.App) -> None:
    """Run cdk-nag's AwsSolutions and Serverless packs on every stack at synth time.

    An unacknowledged error-level finding makes synthesis fail (aws-cdk raises
    ValidationFailed); :func:`open_findings` also reports warnings.
    """
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))


def open_findings(outdir: str | Path) -> list[dict[str, Any]]:
    """Unacknowledged findings (errors and warnings) of the last synthesis into ``outdir``."""
    report = Path(outdir) / "validation-report.json"
    if not report.exists():
        return []
    data = json.loads(report.read_text())
    return [v for plugin in data.get("pluginReports", []) for v in plugin.get("violations", [])]


def describe(findings: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {f['ruleName']} ({f['severity']}): {f['description']} at "
        + ", ".join(c["constructPath"] for c in f["violatingConstructs"])
        for f in findings
    )

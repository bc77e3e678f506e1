"""The sample's synth gate: every open finding counts, warnings included."""

from __future__ import annotations

import json
from pathlib import Path

from orders_sample.compliance import describe, open_findings


def _report(tmp_path: Path, violations: list[dict[str, object]]) -> Path:
    report = {
        "pluginReports": [
            {"pluginName": "AwsSolutions", "violations": violations, "suppressedViolations": []}
        ]
    }
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    return tmp_path


WARNING = {
    "ruleName": "AwsSolutions-COG2",
    "description": "The Cognito user pool does not require MFA.",
    "severity": "warning",
    "violatingConstructs": [{"constructPath": "OrdersSample/Users/Resource"}],
}


def test_a_warning_is_an_open_finding(tmp_path: Path) -> None:
    assert open_findings(_report(tmp_path, [WARNING])) == [WARNING]


def test_no_report_means_no_finding(tmp_path: Path) -> None:
    assert open_findings(tmp_path) == []


def test_a_clean_report_has_no_finding(tmp_path: Path) -> None:
    assert open_findings(_report(tmp_path, [])) == []


def test_findings_are_described_with_rule_severity_and_path(tmp_path: Path) -> None:
    text = describe(open_findings(_report(tmp_path, [WARNING])))
    assert "AwsSolutions-COG2 (warning)" in text
    assert "OrdersSample/Users/Resource" in text

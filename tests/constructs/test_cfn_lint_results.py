"""The cfn-lint findings the template tests assert on: kept by template text, never stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import support

BROKEN = {
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": "soon"}},
    }
}


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(support, "LINT_RESULTS", tmp_path / "kept")
    return tmp_path / "kept"


def _synth(tmp_path: Path, template: dict[str, object]) -> support.Synthesized:
    path = tmp_path / "Broken.template.json"
    path.write_text(json.dumps(template))
    return support.Synthesized(tmp_path, {}, [], [], None, {"Broken": path})


def test_a_kept_result_is_the_finding_cfn_lint_gave(tmp_path: Path, results: Path) -> None:
    first = support.cfn_lint_findings(_synth(tmp_path, BROKEN))
    again = support.cfn_lint_findings(_synth(tmp_path, BROKEN))

    assert len(list(results.iterdir())) == 1
    assert first == again
    assert len(first) == 1 and first[0].startswith("Broken: [E3012")


def test_a_changed_template_is_linted_again(tmp_path: Path, results: Path) -> None:
    support.cfn_lint_findings(_synth(tmp_path, BROKEN))
    fixed = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}

    assert support.cfn_lint_findings(_synth(tmp_path, fixed)) == []
    assert len(list(results.iterdir())) == 2


def test_a_changed_cfn_lint_configuration_is_linted_again(
    tmp_path: Path, results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert support.cfn_lint_findings(_synth(tmp_path, BROKEN)) != []
    project = tmp_path / "project"
    project.mkdir()
    (project / ".cfnlintrc").write_text("ignore_checks:\n  - E3012\n")
    monkeypatch.chdir(project)

    assert support.cfn_lint_findings(_synth(tmp_path, BROKEN)) == []

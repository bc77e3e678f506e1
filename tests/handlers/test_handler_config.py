"""orders.config: settings read at first use, failing with the variable's name."""

from __future__ import annotations

import pytest
from orders import config
from orders.errors import ConfigurationError


@pytest.mark.parametrize(
    ("setting", "variable"),
    [(config.table_name, "TABLE_NAME"), (config.state_machine_arn, "STATE_MACHINE_ARN")],
)
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_setting_raises_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, setting: object, variable: str, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError, match=f"Environment variable {variable} is not set"):
        setting()  # type: ignore[operator]


def test_setting_is_read_when_used_not_when_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "first")
    assert config.table_name() == "first"

    monkeypatch.setenv("TABLE_NAME", "second")
    assert config.table_name() == "second"


def test_limits_have_their_documented_defaults() -> None:
    assert config.MAX_UPLOAD_BYTES == 1024 * 1024
    assert config.MAX_STOCK_PER_ITEM == 10

"""The ingest first requests of bench/run.py each read an order file no earlier run read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.first_request import claim_order_file
from bench.run import UPLOAD_KEY, order_file


def test_order_files_have_one_length_and_no_order_in_common() -> None:
    files = [order_file(number) for number in range(200)]
    assert len({len(body) for body in files}) == 1
    assert len(set(files)) == len(files)


def test_each_run_claims_a_file_no_earlier_run_claimed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_FILES", "2")
    monkeypatch.setenv("BENCH_CLAIMS", str(tmp_path))
    monkeypatch.setenv("BENCH_KEY_FORMAT", UPLOAD_KEY)

    assert [claim_order_file(), claim_order_file()] == [UPLOAD_KEY.format(0), UPLOAD_KEY.format(1)]
    with pytest.raises(SystemExit, match="every order file was read"):
        claim_order_file()

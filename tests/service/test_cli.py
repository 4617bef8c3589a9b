"""`matcher serve keys ...` and `matcher schema openapi` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.cli import main
from matcher.service.app import openapi_document
from matcher.service.keys import tenant_of_key
from matcher.service.storage import SqliteStorage


def test_keys_add_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = str(tmp_path / "data")
    assert main(["serve", "keys", "list", "--data-dir", data_dir]) == 0
    assert "no tenants" in capsys.readouterr().out
    assert main(["serve", "keys", "add", "quanrui", "--data-dir", data_dir]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert tenant_of_key(SqliteStorage(data_dir), key) is not None
    assert main(["serve", "--data-dir", data_dir, "keys", "add", "quanrui"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["serve", "keys", "add", "no spaces/here", "--data-dir", data_dir]) == 2
    assert "tenant" in capsys.readouterr().err
    assert main(["serve", "keys", "revoke", "quanrui", "--data-dir", data_dir]) == 0
    capsys.readouterr()
    assert main(["serve", "keys", "list", "--data-dir", data_dir]) == 0
    assert "revoked" in capsys.readouterr().out
    assert tenant_of_key(SqliteStorage(data_dir), key) is None


def test_schema_openapi_writes_the_document(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert main(["schema", "openapi", "-o", str(target)]) == 0
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document == openapi_document()
    assert document["info"]["title"] == "matcher"
    assert {"/v1/plans", "/v1/recommend", "/healthz"} <= set(document["paths"])


def test_serve_refuses_bad_limits(capsys: pytest.CaptureFixture[str]) -> None:
    for flags in (["--workers", "0"], ["--max-time-limit-s", "nan"], ["--queue-size", "x"]):
        with pytest.raises(SystemExit) as exited:
            main(["serve", *flags])
        assert exited.value.code == 2
        assert flags[0] in capsys.readouterr().err

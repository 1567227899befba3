from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from evwire.settings import Settings
from tests.cli.conftest import Run
from tests.conftest import SAMPLE_ARTICLE


def test_cli_catalog_validate_and_export(cli_nodb: Run, tmp_path: Path) -> None:
    result = cli_nodb("catalog", "validate")
    assert result.exit_code == 0 and "valid" in result.stdout
    exported = tmp_path / "out.yaml"
    assert cli_nodb("catalog", "export", "-o", str(exported)).exit_code == 0
    assert cli_nodb("catalog", "validate", str(exported)).exit_code == 0
    to_stdout = cli_nodb("catalog", "export")
    assert yaml.safe_load(to_stdout.stdout) == yaml.safe_load(exported.read_text(encoding="utf-8"))


def test_cli_catalog_import_invalid_file_exits_nonzero_and_changes_nothing(
    cli: Run, settings: Settings, tmp_path: Path
) -> None:
    assert cli("post", str(SAMPLE_ARTICLE)).exit_code == 0
    before = cli("articles", "list", "--json").stdout
    channels_before = cli("channels", "list", "--json").stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "companies:\n  - slug: ford\n    name: Ford\n    tickers: [not-a-ticker]\n", encoding="utf-8"
    )
    result = cli("catalog", "import", str(bad))
    assert result.exit_code != 0
    assert "ticker 'not-a-ticker' must look like EXCHANGE:SYMBOL" in result.stderr
    assert "Traceback" not in result.output
    assert not (settings.data_dir / "catalog.yaml").exists()
    assert cli("articles", "list", "--json").stdout == before
    assert cli("channels", "list", "--json").stdout == channels_before
    not_yaml = tmp_path / "x.yaml"
    not_yaml.write_text("companies: [unclosed", encoding="utf-8")
    assert cli("catalog", "import", str(not_yaml)).exit_code != 0


def test_cli_catalog_import_makes_it_active_and_retags(cli: Run, settings: Settings, tmp_path: Path) -> None:
    assert cli("post", str(SAMPLE_ARTICLE)).exit_code == 0
    exported = tmp_path / "catalog.yaml"
    assert cli("catalog", "export", "-o", str(exported)).exit_code == 0
    data = yaml.safe_load(exported.read_text(encoding="utf-8"))
    data["companies"] = [c for c in data["companies"] if c["slug"] != "xiaomi"]
    for c in data["companies"]:
        if c.get("parent") == "xiaomi":
            c.pop("parent")
    exported.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = cli("catalog", "import", str(exported))
    assert result.exit_code == 0, result.output
    assert "1 removed" in result.stdout and "1 articles re-tagged" in result.stdout
    assert (settings.data_dir / "catalog.yaml").exists()
    row = json.loads(cli("articles", "list", "--json").stdout.splitlines()[0])
    assert "xiaomi" not in row["about"] + row["mentioned"] and "ford" in row["about"]
    assert str(settings.data_dir / "catalog.yaml") in cli("config", "show").stdout


def test_cli_config_show_redacts_secrets(cli: Run, settings: Settings) -> None:
    result = cli("config", "show")
    assert result.exit_code == 0
    assert "EVWIRE_DATA_DIR" in result.stdout and "EVWIRE_ADMIN_TOKEN" in result.stdout
    os.environ["EVWIRE_ADMIN_TOKEN"] = "a-real-secret-token-42"
    try:
        shown = cli("config", "show")
    finally:
        del os.environ["EVWIRE_ADMIN_TOKEN"]
    assert "a-real-secret-token-42" not in shown.stdout


def test_cli_db_upgrade(cli: Run) -> None:
    result = cli("db", "upgrade")
    assert result.exit_code == 0 and "newest revision" in result.stdout


def test_cli_help_lists_every_command(cli_nodb: Run) -> None:
    result = cli_nodb("--help")
    assert result.exit_code == 0
    for name in ("serve", "post", "articles", "tag", "eval", "catalog", "channels", "db", "config"):
        assert name in result.stdout
    for group, subs in {
        "articles": ("list", "show", "tag", "untag"),
        "catalog": ("validate", "export", "import"),
    }.items():
        sub = cli_nodb(group, "--help")
        assert all(s in sub.stdout for s in subs)


def test_cli_console_script_errors_are_one_red_line_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "EVWIRE_DATA_DIR": str(tmp_path / "data")}
    env.pop("EVWIRE_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "evwire.cli.main", "articles", "show", "42"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == ["error: no article with id 42"]
    assert "Traceback" not in proc.stderr
    env["EVWIRE_ADMIN_TOKEN"] = "changeme"
    proc = subprocess.run(
        [sys.executable, "-m", "evwire.cli.main", "config", "show"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1 and "placeholder" in proc.stderr and "Traceback" not in proc.stderr

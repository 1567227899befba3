"""Docs are tested: every setting is documented, and the README opens with the two commands."""

from __future__ import annotations

from pathlib import Path

from evwire.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_docs_every_setting_documented() -> None:
    text = (ROOT / "docs" / "settings.md").read_text()
    missing = [name for name in Settings.model_fields if f"EVWIRE_{name.upper()}" not in text]
    assert not missing, f"settings not in docs/settings.md: {missing}"


def test_docs_readme_opens_with_install_and_test_commands() -> None:
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "evwire serve --demo" in head
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = ci.strip().splitlines()[-1]
    assert test_cmd in head, "the README's test command and .ci/run's last line must be the same"

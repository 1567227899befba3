"""The scripting contracts: `tag --json`, `tag --jsonl` and `eval` (no database needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Run
from tests.conftest import CORPUS, SAMPLE_ARTICLE, SHARED

SCORE_PY = SHARED / "tools" / "score.py"
CONTRACT_KEYS = {"about", "mentioned", "tickers", "people", "facts"}


def test_cli_tag_json_of_the_sample_prints_the_contract(cli_nodb: Run) -> None:
    result = cli_nodb("tag", "--json", str(SAMPLE_ARTICLE))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == CONTRACT_KEYS
    for tag in data["about"] + data["mentioned"]:
        assert set(tag) == {"name", "slug", "score"}
    for ticker in data["tickers"]:
        assert set(ticker) == {"exchange", "symbol", "company"}
    for person in data["people"]:
        assert set(person) == {"name", "company"}
    assert isinstance(data["facts"], list)
    stdin = cli_nodb("tag", "--json", "-", input=SAMPLE_ARTICLE.read_bytes())
    assert stdin.exit_code == 0 and json.loads(stdin.stdout) == data


def test_cli_tag_jsonl_keeps_line_count_and_order(cli_nodb: Run, tmp_path: Path) -> None:
    records = [
        {
            "title": "Tesla delivered 1,789,226 vehicles in 2024",
            "text": "Tesla (NASDAQ: TSLA) delivered cars.",
        },
        "this line is not JSON",
        {"title": "No text here"},
        {
            "title": "Xiaomi SU7 deliveries",
            "text": "Xiaomi (HKG: 1810) delivered the SU7.",
            "published": "2025-01-01",
        },
        {"title": "Bad date", "text": "Some text.", "published": "next Tuesday"},
    ]
    src = tmp_path / "in.jsonl"
    text = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"
    src.write_bytes(text.encode("utf-8") + b'{"title": "Latin-1 \xe9", "text": "caf\xe9"}\n')
    records.append("not UTF-8")
    result = cli_nodb("tag", "--jsonl", str(src))
    assert result.exit_code == 1  # some lines were bad; every line still has its output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(records)
    assert all(set(o) == CONTRACT_KEYS for o in out)
    empty = {"about": [], "mentioned": [], "tickers": [], "people": [], "facts": []}
    assert out[1] == empty and out[2] == empty and out[4] == empty and out[5] == empty
    assert {"exchange": "NASDAQ", "symbol": "TSLA", "company": "tesla"} in out[0]["tickers"]
    assert {"exchange": "HKG", "symbol": "1810", "company": "xiaomi"} in out[3]["tickers"]
    errors = result.stderr.splitlines()
    assert [e.split(":")[1].strip() for e in errors] == ["line 2", "line 3", "line 5", "line 6"]
    assert "Traceback" not in result.output


def test_cli_eval_prints_exactly_what_score_py_prints(cli_nodb: Run, tmp_path: Path) -> None:
    tagged = cli_nodb("tag", "--jsonl", str(CORPUS))
    assert tagged.exit_code == 0, tagged.stderr
    preds = tmp_path / "preds.jsonl"
    preds.write_text(tagged.stdout, encoding="utf-8")
    expected = subprocess.run(
        [sys.executable, str(SCORE_PY), str(CORPUS), str(preds)], capture_output=True, text=True, check=True
    ).stdout
    result = cli_nodb("eval", str(CORPUS))
    assert result.exit_code == 0, result.output
    assert result.stdout == expected
    assert "about" in expected and "tickers" in expected


def test_cli_tag_without_a_path_is_a_clear_error(cli_nodb: Run) -> None:
    result = cli_nodb("tag", "--json")
    assert result.exit_code == 1 and "name an article file" in result.stderr
    missing = cli_nodb("tag", "--json", "/no/such/file.txt")
    assert missing.exit_code == 1 and "cannot read /no/such/file.txt" in missing.stderr

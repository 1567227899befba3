"""evaluate.py gives the same lines as the shared score.py on the same files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evwire.tag.evaluate import evaluate
from tests.conftest import SHARED

SCORE_PY = SHARED / "tools" / "score.py"

LABELS = [
    {
        "id": "x1",
        "title": "One",
        "about": ["Xiaomi", "Ford"],
        "mentioned": ["Tesla", "GM"],
        "tickers": ["HKG:1810", "OTCMKTS:XIACY"],
        "facts": [{"company": "Xiaomi", "period": "2025", "kind": "actual", "value": 411837}],
    },
    {
        "id": "x2",
        "title": "Two",
        "about": [],
        "mentioned": ["Volkswagen Group"],
        "tickers": ["HKEX:0175"],
        "facts": [],
    },
]
PREDS = [
    {
        "about": [{"name": "Xiaomi", "slug": "xiaomi", "score": 0.9}],
        "mentioned": [
            {"name": "Ford", "slug": "ford", "score": 0.4},
            {"name": "General Motors", "slug": "general-motors"},
        ],
        "tickers": [{"exchange": "HKG", "symbol": "1810", "company": "xiaomi"}],
        "facts": [
            {"company": "xiaomi", "period": "2025", "kind": "actual", "value": 411837},
            {"company": "xiaomi", "period": "2025", "kind": "actual", "value": 1, "scope": "China"},
        ],
    },
    {
        "about": [{"name": "Volkswagen", "slug": "volkswagen"}],
        "mentioned": [],
        "tickers": [{"exchange": "HKG", "symbol": "175", "company": None}],
        "facts": [],
    },
]


def test_evaluate_matches_score_py(tmp_path: Path) -> None:
    if not SCORE_PY.exists():
        pytest.skip(f"{SCORE_PY} not present")
    lab, pred = tmp_path / "labels.jsonl", tmp_path / "preds.jsonl"
    lab.write_text("".join(json.dumps(x) + "\n" for x in LABELS))
    pred.write_text("".join(json.dumps(x) + "\n" for x in PREDS))
    out = subprocess.run(
        [sys.executable, str(SCORE_PY), str(lab), str(pred), "--show", "5"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert evaluate(LABELS, PREDS).format(show=5) == out.rstrip("\n")


def test_evaluate_counts() -> None:
    result = evaluate(LABELS, PREDS)
    assert result.counts["about"] == [1, 1, 1]
    assert result.counts["tickers"] == [2, 0, 1]
    assert result.counts["facts"] == [1, 0, 0]
    with pytest.raises(ValueError):
        evaluate(LABELS, PREDS[:1])

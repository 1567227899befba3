"""bench/pages.py --quick runs to the end and renders every page it times (the timings are read by
people; a smoke run on a busy machine proves nothing about them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_pages_quick_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pages.py"), "--quick", "--no-uvicorn"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    assert "page cache off: every request renders" in proc.stdout
    rows = re.findall(
        r"^  (?:channel page|article page|channel feed|home page|channel index) .*"
        r" \(n=\d+\)  (?:ok|MISSES TARGET)$",
        proc.stdout,
        re.M,
    )
    assert len(rows) == 7, proc.stdout
    assert "naive / evwire" in proc.stdout and "OFFSET / keyset" in proc.stdout

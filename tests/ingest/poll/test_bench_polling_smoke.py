"""bench/polling.py runs to the end on a tiny setting (the figures are read by people, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_bench_polling_tiny_run_completes() -> None:
    args = ["poll", "--feeds", "100", "--hosts", "5", "--changed", "0.02", "--sample", "10"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "polling.py"), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "conditional polls/s" in proc.stdout and "failed 0" in proc.stdout and "ratio" in proc.stdout
    assert "floor" in proc.stdout and "100 answered 304" in proc.stdout

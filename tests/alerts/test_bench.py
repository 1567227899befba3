"""Smoke runs of the alert benchmarks with tiny sizes: they run and their results agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_percolate_smoke() -> None:
    out = subprocess.run(
        [sys.executable, "bench/percolate.py", "--queries", "3000", "--articles", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "identical results     True" in out.stdout


@pytest.mark.slow
def test_bench_fanout_smoke() -> None:
    out = subprocess.run(
        [sys.executable, "bench/fanout.py", "-n", "150", "--sample", "50", "--pool", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "sink got 150 messages for 150 distinct addresses" in out.stdout

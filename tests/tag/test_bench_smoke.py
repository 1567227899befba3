"""bench/tagging.py --quick runs to the end (the figures themselves are read by people, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_tagging_quick_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "tagging.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    assert "whole tagging" in proc.stdout and "flashtext" in proc.stdout

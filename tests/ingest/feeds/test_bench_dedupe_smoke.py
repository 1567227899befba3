"""bench/dedupe.py runs to the end on a small stream, and its naive peer agrees with the index on the
built pairs (the speed figures are read by people, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_bench_dedupe_small_run_completes_and_the_peer_agrees() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dedupe.py"), "--stored", "300", "--new", "30"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    ours = next(line for line in lines if line.startswith("evwire (MinHash + LSH)"))
    naive = next(line for line in lines if line.startswith("naive exact shingle sets"))
    assert "precision 1.000" in ours
    assert ours.split("precision", 1)[1] == naive.split("precision", 1)[1]  # same P, R and counts
    assert "with 300 stored" in proc.stdout and "grouped 0 / 0 of 30" in proc.stdout

"""`evwire figures import/export/chart` through the real CLI on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from evwire.charts.render import png_size
from evwire.store.figures import shipped_figures_path
from evwire.store.figures_csv import CSV_HEADER
from tests.cli.conftest import Run

HEADER = ",".join(CSV_HEADER)


def test_figures_cli_import_export_round_trip(cli: Run, tmp_path: Path) -> None:
    shipped = str(shipped_figures_path())
    first = cli("figures", "import", shipped)
    assert first.exit_code == 0, first.output
    assert "288 figures added, 0 already stored" in first.stdout
    again = cli("figures", "import", shipped)
    assert "0 figures added, 288 already stored" in again.stdout
    out = tmp_path / "export.csv"
    exported = cli("figures", "export", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    lines = out.read_text().splitlines()
    assert lines[0] == HEADER and len(lines) == 289
    assert sorted(lines[1:]) == sorted(shipped_figures_path().read_text().splitlines()[1:])
    assert cli("figures", "import", str(out)).stdout.strip().endswith("0 figures added, 288 already stored")
    stdout = cli("figures", "export", "--company", "tesla")
    assert stdout.stdout.splitlines()[0] == HEADER and len(stdout.stdout.splitlines()) == 11


def test_figures_cli_bad_csv_names_lines_and_imports_nothing(cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"{HEADER}\n"
        "xiaomi,2025-11,deliveries,actual,46249,false,,,imported\n"
        "xiaomi,2025-11,deliveries,actual,lots,false,,,imported\n"
        "teslaa,2025-Q4,deliveries,actual,418227,false,,,imported\n"
    )
    result = cli("figures", "import", str(bad))
    assert result.exit_code == 1
    assert "2 bad row(s); nothing was imported" in result.stderr
    assert f"{bad}:3: value 'lots' is not a whole number" in result.stderr
    assert f"{bad}:4: unknown company slug 'teslaa'" in result.stderr
    assert "Traceback" not in result.output
    exported = cli("figures", "export")
    assert exported.stdout.strip() == HEADER  # nothing, not even line 2


def test_figures_cli_chart_png_and_svg(cli: Run, tmp_path: Path) -> None:
    assert cli("figures", "import", str(shipped_figures_path())).exit_code == 0
    png = tmp_path / "xiaomi.png"
    r = cli(
        "figures", "chart", "xiaomi", "--format", "png", "-o", str(png), "--width", "800", "--height", "400"
    )
    assert r.exit_code == 0, r.output
    assert png_size(png.read_bytes()) == (800, 400)
    svg = tmp_path / "byd.svg"
    r = cli(
        "figures",
        "chart",
        "byd",
        "--format",
        "svg",
        "-o",
        str(svg),
        "--metric",
        "sales",
        "--years",
        "2024,2025",
    )
    assert r.exit_code == 0, r.output
    assert svg.read_text().lstrip().startswith("<svg") and "BYD monthly sales 2024 vs 2025" in svg.read_text()
    missing = cli("figures", "chart", "ford", "-o", str(tmp_path / "f.svg"))
    assert missing.exit_code == 1 and "no deliveries figures to draw" in missing.stderr
    bad_years = cli("figures", "chart", "xiaomi", "-o", str(tmp_path / "x.svg"), "--years", "twenty")
    assert bad_years.exit_code == 1 and "--years" in bad_years.stderr

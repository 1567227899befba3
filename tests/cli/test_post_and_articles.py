from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run
from tests.conftest import SAMPLE_ARTICLE


def _listed(cli: Run, *args: str) -> list[dict]:  # type: ignore[type-arg]
    result = cli("articles", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_cli_post_sample_then_list_json_files_it_under_xiaomi_and_ford(cli: Run) -> None:
    result = cli("post", str(SAMPLE_ARTICLE))
    assert result.exit_code == 0, result.output
    assert "created" in result.stdout
    rows = _listed(cli)
    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {"id", "title", "url", "published", "about", "mentioned"}
    assert row["title"].startswith("Ford, Xiaomi has explored joint venture")
    assert row["published"].startswith("2026-01-08")
    assert {"xiaomi", "ford"} <= set(row["about"])
    assert "tesla" not in row["about"] and "nvidia" not in row["about"]
    assert [r["id"] for r in _listed(cli, "--channel", "xiaomi")] == [row["id"]]


def test_cli_post_again_updates_instead_of_duplicating(cli: Run, tmp_path: Path) -> None:
    assert cli("post", str(SAMPLE_ARTICLE)).exit_code == 0
    copy = tmp_path / "copy.txt"
    copy.write_text(SAMPLE_ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("post", str(copy))
    assert result.exit_code == 0 and "updated" in result.stdout
    stdin = cli("post", "-", input=SAMPLE_ARTICLE.read_bytes())
    assert stdin.exit_code == 0 and "updated" in stdin.stdout
    assert len(_listed(cli)) == 1


def test_cli_post_bad_files_report_each_and_store_nothing_of_them(cli: Run, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Café news\n\nLe véhicule électrique.".encode("latin-1"))
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"Big\n\n" + b"x" * 20_000_000)
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    result = cli("post", str(empty), str(latin1), str(SAMPLE_ARTICLE), str(huge), str(binary))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 4
    assert "empty.txt is empty" in errors[0]
    assert "latin1.txt is not UTF-8 text" in errors[1]
    assert "huge.txt is 20.0 MB; the limit is 5.0 MB" in errors[2]
    assert "NUL bytes" in errors[3]
    assert "4 of 5 not posted" in result.stderr
    rows = _listed(cli)
    assert [r["title"][:12] for r in rows] == ["Ford, Xiaomi"]


def test_cli_post_html_with_scripts_keeps_no_script(cli: Run, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Ford and Xiaomi talk about a venture</title>"
        "<script>alert('x')</script></head><body><article><h1>Ford and Xiaomi talk about a venture</h1>"
        "<p>Ford has held talks with Xiaomi about building electric cars together in the United States, "
        "people familiar with the matter said on Sunday.</p><script>document.write('evil')</script>"
        "<p>Ford said the report was false. Xiaomi did not respond to a request for comment on the talks.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    result = cli("post", str(page), "--url", "https://example.org/ford-xiaomi")
    assert result.exit_code == 0, result.output
    article_id = _listed(cli)[0]["id"]
    shown = cli("articles", "show", str(article_id), "--json")
    data = json.loads(shown.stdout)
    assert data["url"] == "https://example.org/ford-xiaomi"
    assert "alert" not in data["body"] and "evil" not in data["body"] and "<" not in data["body"]


def test_cli_articles_tag_and_untag_are_editor_corrections(cli: Run) -> None:
    assert cli("post", str(SAMPLE_ARTICLE)).exit_code == 0
    article_id = str(_listed(cli)[0]["id"])
    assert cli("articles", "tag", article_id, "xiaomi", "--role", "excluded").exit_code == 0
    assert cli("articles", "tag", article_id, "tesla", "--role", "about").exit_code == 0
    row = _listed(cli)[0]
    assert "xiaomi" not in row["about"] + row["mentioned"] and "tesla" in row["about"]
    # a catalog re-sync (re-tagging) keeps the corrections
    assert cli("post", str(SAMPLE_ARTICLE)).exit_code == 0
    row = _listed(cli)[0]
    assert "xiaomi" not in row["about"] and "tesla" in row["about"]
    result = cli("articles", "untag", article_id, "xiaomi")
    assert result.exit_code == 0 and "removed" in result.stdout
    assert "xiaomi" in _listed(cli)[0]["about"]
    bad = cli("articles", "tag", article_id, "tesla", "--role", "owner")
    assert bad.exit_code == 1 and "--role must be one of" in bad.stderr
    missing = cli("articles", "show", "9999")
    assert missing.exit_code == 1 and "no article with id 9999" in missing.stderr
    assert "Traceback" not in missing.output


def test_cli_channels_list_counts_articles(cli: Run) -> None:
    assert cli("post", str(SAMPLE_ARTICLE)).exit_code == 0
    result = cli("channels", "list", "--json")
    assert result.exit_code == 0, result.output
    channels = {c["slug"]: c for c in map(json.loads, result.stdout.splitlines())}
    assert channels["xiaomi"]["about"] == 1 and channels["ford"]["about"] == 1
    unknown = cli("articles", "list", "--channel", "no-such-company")
    assert unknown.exit_code == 1 and "no channel" in unknown.stderr

"""The report in a real browser (headless Chromium): it loads with no errors, every figure
is drawn with a non-zero size, and a screenshot is kept in build/test-artifacts/.

Each test starts Chromium (seconds), so all are ``slow``: CI runs them (``-m ""``)."""

from __future__ import annotations

import pytest

from scalinglab.report._blocks import Figure, Section
from scalinglab.report.build import render

from ._browser import open_page
from ._html import count_svg


@pytest.mark.slow
def test_report_loads_cleanly_and_draws_every_figure(ladder_report, tmp_path):
    page = tmp_path / "ladder.html"
    page.write_text(ladder_report, encoding="utf-8")
    check = open_page(page, tmp_path / "profile", "ladder")
    assert check.errors == []
    assert len(check.figure_sizes) == count_svg(ladder_report)
    assert all(w > 100 and h > 100 for w, h in check.figure_sizes), check.figure_sizes
    assert check.screenshot.stat().st_size > 10_000


@pytest.mark.slow
def test_a_page_error_is_caught(tmp_path):
    """The check can fail: a figure whose markup throws is reported, with its message."""
    broken = Figure(
        '<svg width="10" height="10"></svg><script>throw new Error("boom")</script>',
        "x",
    )
    page = tmp_path / "broken.html"
    page.write_text(
        render("broken", [], [Section("s", "S", [broken])]), encoding="utf-8"
    )
    check = open_page(page, tmp_path / "profile", "broken")
    assert any("boom" in e for e in check.errors)
    assert check.figure_sizes == [(10, 10)]


@pytest.mark.slow
def test_study_folder_report_in_the_browser(ladder_study, invoke, tmp_path):
    out = tmp_path / "study.html"
    code, _, err = invoke(
        "report",
        str(ladder_study),
        "--bootstrap",
        "20",
        "--validation-bootstrap",
        "20",
        "-o",
        str(out),
    )
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    assert f"read from study {ladder_study} (ladder)" in html
    check = open_page(out, tmp_path / "profile", "study")
    assert check.errors == [] and len(check.figure_sizes) == count_svg(html)
    assert all(w > 100 and h > 100 for w, h in check.figure_sizes)

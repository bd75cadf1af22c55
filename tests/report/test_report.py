"""The HTML report: its numbers against independent computations, its sections, its contract
(inline SVG, nothing fetched), and the command's exit codes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from scalinglab.analysis.validation import split_top, validate
from scalinglab.report import load_runs
from scalinglab.report._blocks import fmt, percent

from ._html import cells, count_svg, remote_resources, section
from .conftest import BOOTSTRAP, ladder_frame


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_parameters_and_intervals_are_those_of_the_same_fit(ladder_report, ladder_fit):
    table = cells(section(ladder_report, "fit-chinchilla"))
    ci = ladder_fit.conf_int()
    for name, value in ladder_fit.params.items():
        at = table.index(name)
        assert table[at + 1] == fmt(value)
        assert table[at + 2] == f"[{fmt(ci[name][0])}, {fmt(ci[name][1])}]"


def test_frontier_matches_the_closed_form_optimum(ladder_report, ladder_fit):
    """N* = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta))
    (Hoffmann et al. 2022, appendix D), from the fitted parameters."""
    p = ladder_fit.params
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    table = cells(section(ladder_report, "frontier"))
    for C in (1e20, 1e21):
        row = table.index(fmt(C))
        expected = G * (C / 6) ** (p["beta"] / (p["alpha"] + p["beta"]))
        assert _number(table[row + 1]) == pytest.approx(expected, rel=1e-3)
        assert _number(table[row + 3]) == pytest.approx(C / (6 * expected), rel=1e-3)


def test_target_is_the_law_evaluated_by_hand(ladder_report, ladder_fit):
    p = ladder_fit.params
    expected = p["E"] + p["A"] / 1e9 ** p["alpha"] + p["B"] / 2e10 ** p["beta"]
    table = cells(section(ladder_report, "targets"))
    assert _number(table[2]) == pytest.approx(expected, rel=1e-3)
    low, high = (_number(x) for x in table[3].strip("[]").split(", "))
    assert low < expected < high


def test_validation_scores_are_those_of_validate(ladder_report, ladder_runs):
    v = validate(
        "chinchilla",
        ladder_runs,
        split_top(ladder_runs, 0.2, "N"),
        bootstrap=BOOTSTRAP,
        seed=0,
    )
    text = section(ladder_report, "validation")
    assert f"median |error| {percent(v.summary.median_abs_rel_error)}" in text
    assert f"{v.summary.coverage:.0%} of the actual losses" in text
    assert f"{v.summary.n_heldout} held-out rows" in text


def test_data_section_counts_and_ranges(ladder_report):
    text = section(ladder_report, "data")
    assert "20 runs (20 rows, 5 model sizes)" in text
    table = cells(text)
    at = table.index("N")
    assert table[at + 1 : at + 3] == [fmt(1e7), fmt(4e8)]


def test_sections_the_data_does_not_allow_say_why(ladder_report):
    assert "Omitted: one law was requested" in section(ladder_report, "comparison")
    assert "Omitted: the design is not an IsoFLOP grid" in section(
        ladder_report, "isoflop"
    )
    other = section(ladder_report, "other")
    assert "one row per run, so there are no loss curves" in other


def test_every_figure_is_inline_svg_with_a_caption(ladder_report):
    figures = ladder_report.count('<figure class="report-figure">')
    assert figures >= 6
    assert count_svg(ladder_report) == figures
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", ladder_report, re.DOTALL)
    assert len(captions) == figures and all(len(c) > 40 for c in captions)


def test_long_tables_collapse(ladder_report):
    data = section(ladder_report, "data")
    assert "<details><summary>All 20 rows (20 rows)</summary>" in data
    assert "<details>" not in section(ladder_report, "frontier")


def test_the_page_fetches_nothing(ladder_report):
    assert remote_resources(ladder_report) == []
    assert not re.search(r"(src|href)=\"https?://", ladder_report)


def test_the_network_check_finds_remote_resources():
    page = (
        '<img src="https://cdn.example/x.png"><a href="https://example.org">ok</a>'
        '<svg><image xlink:href="//cdn.example/y.png"/></svg>'
        "<style>@import 'https://fonts.example/f.css'; b{background:url(http://x/y)}</style>"
    )
    found = remote_resources(page)
    assert len(found) == 4 and not any("example.org" in f for f in found)


def test_provenance_has_hash_seed_and_commands(ladder_report, ladder_runs):
    text = section(ladder_report, "provenance")
    assert ladder_runs.data_hash() in text
    assert (
        f"--law chinchilla --N params --D tokens --loss loss --run name --bootstrap {BOOTSTRAP}"
        in text
    )


def test_reading_a_study_folder(ladder_study):
    frame = ladder_frame()
    runs, _, info = load_runs(ladder_study)
    assert info == {"path": str(ladder_study), "plan": "ladder"}
    assert runs.source == str(ladder_study)
    np.testing.assert_array_equal(runs.array("loss"), frame.loss.to_numpy())
    np.testing.assert_array_equal(runs.array("N"), frame.params.to_numpy())


def test_a_folder_that_is_not_a_study_exits_1(invoke, tmp_path):
    code, _, err = invoke("report", str(tmp_path), "-o", str(tmp_path / "r.html"))
    assert code == 1 and "not a study" in err and "Traceback" not in err


def test_bad_output_name_and_missing_column_exit_1(invoke, ladder_csv, tmp_path):
    code, _, err = invoke("report", ladder_csv, "-o", str(tmp_path / "r.txt"))
    assert code == 1 and "ending in .html" in err
    code, _, err = invoke(
        "report", ladder_csv, "--loss", "nope", "-o", str(tmp_path / "r.html")
    )
    assert code == 1 and "nope" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_bad_target_exits_1(invoke, ladder_csv, tmp_path):
    args = ("report", ladder_csv, "-o", str(tmp_path / "r.html"), "--target", "N7e9")
    code, _, err = invoke(*args)
    assert code == 1 and "--target expects NAME=VALUE" in err


@pytest.mark.slow
def test_command_writes_the_report(invoke, ladder_csv, tmp_path):
    out = tmp_path / "r.html"
    args = ["--N", "params", "--D", "tokens", "--loss", "loss", "--run", "name"]
    code, stdout, err = invoke(
        "report",
        ladder_csv,
        *args,
        "--law",
        "chinchilla,kaplan",
        "--bootstrap",
        "20",
        "-o",
        str(out),
        "--json",
    )
    assert code == 0, err
    payload = json.loads(stdout)
    assert payload["path"] == str(out)
    omitted = {x["key"]: x["omitted"] for x in payload["sections"]}
    assert omitted["comparison"] is None and omitted["fit-kaplan"] is None
    assert omitted["isoflop"].startswith("the design is not an IsoFLOP grid")
    html = out.read_text(encoding="utf-8")
    assert "<svg" in html and remote_resources(html) == []
    assert "Ranked by held-out median |error|" in section(html, "comparison")


def test_command_counts_its_steps_on_the_shared_progress_bar(
    invoke, ladder_csv, tmp_path, monkeypatch
):
    from contextlib import contextmanager

    from scalinglab.cli import report as report_cli
    from scalinglab.report.build import STEPS

    seen = {"calls": []}

    @contextmanager
    def recording_bar(enabled, label, delay):
        seen["enabled"] = enabled
        yield lambda done, total, label: seen["calls"].append((done, total, label))

    monkeypatch.setattr(report_cli, "progress_bar", recording_bar)
    args = ["--N", "params", "--D", "tokens", "--loss", "loss", "--run", "name"]
    args += ["--bootstrap", "20", "--validation-bootstrap", "20"]
    code, _, err = invoke("report", ladder_csv, *args, "-o", str(tmp_path / "r.html"))
    assert code == 0 and seen["enabled"], err
    assert seen["calls"] == [(i, 5, f"report: {s}") for i, s in enumerate(STEPS)]


def test_reading_warnings_are_shown_apart_from_notes(tmp_path):
    from scalinglab.report.build import render
    from scalinglab.report.sections import data_section

    frame = ladder_frame()
    frame["flops"] = 30 * frame.params * frame.tokens  # 5x 6ND: wrong units somewhere
    frame.to_csv(tmp_path / "c.csv", index=False)
    runs, warned, _ = load_runs(tmp_path / "c.csv", N="params", D="tokens", C="flops")
    assert (
        len(warned) == 1
        and "differs from 6 N D by more than 3x in 20 rows" in warned[0]
    )
    html = render("t", [], [data_section(runs, warned, None)])
    assert '<ul class="notes"><li>warning: ' in html
    assert "<li>data: C and D both given; C / (6 N D) ranges 5 to 5" in html


@pytest.mark.slow
def test_the_demo_writes_its_studys_report(ladder_study):
    from scalinglab.run.demo import DEMO_LAWS, _write_report

    path = _write_report(ladder_study, 0, 20, DEMO_LAWS["quick"])
    html = (ladder_study / "report.html").read_text(encoding="utf-8")
    assert path == str(ladder_study / "report.html")
    assert f"read from study {ladder_study} (ladder)" in html
    command = (
        f"scalinglab report {ladder_study} -o {path} --law &#39;E + B / D**beta&#39; "
        "--bootstrap 20 --seed 0"
    )
    assert command in html

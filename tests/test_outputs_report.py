"""Tests of ``report.html`` (simulate.outputs.report): self-contained, the caveat once, the
charts embedded, nothing remote; rendered in headless Chromium; the backtest sentence."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from simulate import pipeline
from simulate.cli import cli
from simulate.outputs.backtestnote import backtest_sentence, model_entry
from simulate.outputs.provenance import projection_caveat
from simulate.outputs.rundir import write_run
from simulate.outputs.wording import scenario_sentences
from simulate.summaries import headline

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.toml"

#: Debian's package; .ci/run installs it when it is missing.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: As the machine's probe starts it: no sandbox as root, no background traffic.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[pipeline.RunResult, Path]:
    result = pipeline.run(DEMO, paths=300)
    out = write_run(result, tmp_path_factory.mktemp("report") / "demo", charts=True)
    return result, out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def test_the_report_is_self_contained(demo: tuple[pipeline.RunResult, Path]) -> None:
    result, out = demo
    page = (out / "report.html").read_text(encoding="utf-8")
    tags = _parse(page).tags
    names = [t for t, _ in tags]
    assert "script" not in names and "link" not in names and "iframe" not in names
    # every image is an embedded PNG: the run's own fan charts, byte for byte
    images = [a["src"] for t, a in tags if t == "img"]
    charts = sorted(out.glob("chart-*.png"))
    assert len(images) == len(charts) == 2
    prefix = "data:image/png;base64,"
    assert all(src is not None and src.startswith(prefix) for src in images)
    embedded = sorted(base64.b64decode(src[len(prefix) :]) for src in images if src)
    assert embedded == sorted(p.read_bytes() for p in charts)
    # nothing that a browser would fetch: no src/href/url() outside data: URIs
    for _tag, attrs in tags:
        for key in ("src", "href", "srcset", "poster", "data"):
            value = attrs.get(key)
            assert value is None or value.startswith(prefix), (key, value[:40])
    assert "url(" not in page and "@import" not in page
    assert "http://" not in page and "https://" not in page


def test_the_caveat_is_said_once_and_first(demo: tuple[pipeline.RunResult, Path]) -> None:
    result, out = demo
    page = (out / "report.html").read_text(encoding="utf-8")
    caveat = projection_caveat(result.reported_by)
    assert page.count(caveat) == 1
    text = " ".join(_parse(page).text)
    assert text.index(caveat) < text.index("personnel: the last report used")


def test_the_report_says_what_the_terminal_says(demo: tuple[pipeline.RunResult, Path]) -> None:
    result, out = demo
    text = " ".join(_parse((out / "report.html").read_text(encoding="utf-8")).text)
    for row in headline(result).iter_rows(named=True):
        assert scenario_sentences(row, "status-quo") in text
    assert text.index("status-quo (reference):") < text.index("ceasefire:")
    assert (
        "Data checks (attrition check) on the example figures up to 2025-12-30: 1 gap in " in text
    )
    assert "No backtest was given" in text
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "report.html" in m["outputs"]
    for f in m["data"]["files"]:
        assert f["sha256"] in text
    assert f"seed {m['run']['seed']}, 300 paths" in text


def test_a_run_without_charts_says_so(tmp_path: Path) -> None:
    result = pipeline.run(DEMO, paths=100)
    out = write_run(result, tmp_path / "demo", charts=False)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<img" not in page and page.count("No chart: this run was made without charts.") == 2


def _render(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.skip("no Chromium here (Debian package `chromium`; .ci/run installs it)")
    cmd = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *extra,
           page.as_uri()]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


def test_chromium_renders_it_with_its_charts_and_loads_nothing(
    demo: tuple[pipeline.RunResult, Path], tmp_path: Path
) -> None:
    result, out = demo
    # A copy with a probe appended: it lists every resource the page loaded (data: URIs are
    # not resources) and whether each image decoded, into the DOM Chromium dumps.
    probe = (
        "<script>window.addEventListener('load', () => { const p = document.createElement('pre');"
        " p.id = 'probe'; p.textContent = JSON.stringify({resources: performance"
        ".getEntriesByType('resource').map(e => e.name), images: Array.from(document.images)"
        ".map(i => [i.complete, i.naturalWidth, i.naturalHeight])}); "
        "document.body.appendChild(p); });</script>"
    )
    page = (out / "report.html").read_text(encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = _render(probed, tmp_path, "--virtual-time-budget=5000", "--dump-dom").stdout
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    found = json.loads(dom[start : dom.index("</pre>", start)].replace("&quot;", '"'))
    assert found["resources"] == []
    assert found["images"] == [[True, 1000, 700], [True, 1000, 700]]
    assert projection_caveat(result.reported_by) in dom
    # and a screenshot of the page as it is: not blank
    shot = tmp_path / "report.png"
    _render(out / "report.html", tmp_path, "--window-size=1200,1600", f"--screenshot={shot}")
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (1600, 1200) and pixels.std() > 0.05


# ------------------------------------------------------------------ the backtest sentence


def _backtest_dir(tmp_path: Path, models: list[dict[str, object]]) -> Path:
    root = tmp_path / "bt"
    root.mkdir()
    doc = {"tool": "attrition backtest", "origins": ["2023-01-01", "2023-01-29", "2025-11-30"],
           "horizon": 90, "config": {"models": models}}  # fmt: skip
    (root / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    pl.DataFrame(
        {
            "series": ["tanks", "tanks", "tanks"],
            "model": ["auto"] * 3,
            "group": ["daily", "total30", "total90"],
            "n": [270, 9, 3],
            "cov80": [0.8, 7 / 9, 2 / 3],
        }  # fmt: skip
    ).write_csv(root / "summary.csv")
    return root


def test_the_backtest_sentence_counts_the_bands_that_held(tmp_path: Path) -> None:
    result = pipeline.run(DEMO, paths=50)
    sf = result.scenario_file
    root = _backtest_dir(tmp_path, [model_entry(sf), {"kind": "naive", "window": 180}])
    text = backtest_sentence(root, "tanks", sf)
    assert text == (
        f"In a backtest of the same model on the tanks figures (3 origins from 2023-01-01 to "
        f"2025-11-30, 90 days ahead; {root}), its 80% bands held the reported 30-day totals 7 "
        "times in 9 (78%) and the reported 90-day totals 2 times in 3 (67%); a calibrated model "
        "holds them about 80% of the time."
    )
    assert backtest_sentence(root, "personnel", sf).endswith(
        "has no forecasts of personnel with auto."
    )
    other = dict(model_entry(sf), options={"half_life": 180.0})
    doc = {"tool": "attrition backtest", "config": {"models": [other]}}
    (root / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    assert "did not test this run's model" in backtest_sentence(root, "tanks", sf)
    assert "with other options" in backtest_sentence(root, "tanks", sf)


def test_run_backtest_puts_the_sentence_in_the_report(tmp_path: Path) -> None:
    from click.testing import CliRunner

    sf = pipeline.prepare(DEMO).scenario_file
    root = _backtest_dir(tmp_path, [model_entry(sf)])
    args = ["run", str(DEMO), "-o", str(tmp_path / "o"), "--paths", "50", "--no-charts",
            "-q", "--backtest", str(root)]  # fmt: skip
    got = CliRunner().invoke(cli, args)
    assert got.exit_code == 0, got.output
    page = (tmp_path / "o" / "demo" / "report.html").read_text(encoding="utf-8")
    assert "its 80% bands held the reported 30-day totals 7 times in 9 (78%)" in page


@pytest.mark.parametrize("make", ["missing", "not-a-backtest", "no-summary"])
def test_a_bad_backtest_dir_is_refused_before_any_work(tmp_path: Path, make: str) -> None:
    from click.testing import CliRunner

    root = tmp_path / "bt"
    if make != "missing":
        root.mkdir()
        tool = "attrition" if make == "not-a-backtest" else "attrition backtest"
        (root / "manifest.json").write_text(json.dumps({"tool": tool}), encoding="utf-8")
    args = ["run", str(DEMO), "-o", str(tmp_path / "o"), "--paths", "50", "-q",
            "--backtest", str(root)]  # fmt: skip
    got = CliRunner().invoke(cli, args)
    assert got.exit_code == 2
    line = got.output.strip()
    assert line.count("\n") == 0 and "Traceback" not in line
    assert line.startswith(f"Error: {DEMO}: --backtest: {root} ")
    assert line.endswith("expected a directory written by attrition backtest")
    assert not (tmp_path / "o").exists() or os.listdir(tmp_path / "o") == []


def test_the_scenario_file_can_name_its_backtest_relative_to_itself(tmp_path: Path) -> None:
    from click.testing import CliRunner

    sf = pipeline.prepare(DEMO).scenario_file
    _backtest_dir(tmp_path, [model_entry(sf)])  # tmp_path/bt
    text = DEMO.read_text(encoding="utf-8").replace("[outputs]\n", '[outputs]\nbacktest = "bt"\n')
    scenario = tmp_path / "demo.toml"
    scenario.write_text(text, encoding="utf-8")
    args = ["run", str(scenario), "-o", str(tmp_path / "o"), "--paths", "50", "--no-charts", "-q"]
    got = CliRunner().invoke(cli, args)
    assert got.exit_code == 0, got.output
    page = (tmp_path / "o" / "demo" / "report.html").read_text(encoding="utf-8")
    assert f"90 days ahead; {tmp_path / 'bt'}), its 80% bands held" in page
    scenario.write_text(text.replace('backtest = "bt"', 'backtest = "nowhere"'), encoding="utf-8")
    got = CliRunner().invoke(cli, [*args[:3], str(tmp_path / "o2"), *args[4:]])
    assert got.exit_code == 2
    assert got.output.startswith(f"Error: {scenario}: outputs.backtest: {tmp_path / 'nowhere'} ")


def test_resume_sees_the_backtest_the_report_cites(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from simulate.fingerprint import file_sha256

    sf = pipeline.prepare(DEMO).scenario_file
    root = _backtest_dir(tmp_path, [model_entry(sf)])
    base = ["run", str(DEMO), "-o", str(tmp_path / "o"), "--paths", "50", "--no-charts"]
    assert CliRunner().invoke(cli, [*base, "-q", "--backtest", str(root)]).exit_code == 0
    doc = json.loads((tmp_path / "o" / "demo" / "manifest.json").read_text(encoding="utf-8"))
    assert doc["run"]["backtest"] == {
        "path": str(root), "summary_sha256": file_sha256(root / "summary.csv")
    }  # fmt: skip
    again = CliRunner().invoke(cli, [*base, "--resume", "--backtest", str(root)])
    assert "already complete (--resume); left as it is" in again.output
    for args in (["--resume"], ["--resume", "--backtest", str(root)]):
        if len(args) == 3:  # the backtest was redone: its summary changed
            with (root / "summary.csv").open("a", encoding="utf-8") as fh:
                fh.write("uav,auto,total30,1,0.5\n")
        got = CliRunner().invoke(cli, [*base, *args])
        assert got.exit_code == 0, got.output
        assert "the backtest the report cites is another one, or changed; recomputed" in got.output


def test_a_look_backs_data_checks_stop_at_its_origin(tmp_path: Path) -> None:
    from simulate.outputs.report import data_check_sentence

    whole = pipeline.run(DEMO, paths=50)
    assert "1 likely transcription slip (2024-10-27)" in data_check_sentence(whole, "personnel")
    text = DEMO.read_text(encoding="utf-8").replace("[run]\n", "[run]\nas_of = 2024-09-30\n")
    look_back = tmp_path / "demo.toml"
    look_back.write_text(text, encoding="utf-8")
    sentence = data_check_sentence(pipeline.run(look_back, paths=50), "personnel")
    assert sentence.startswith(
        "Data checks (attrition check) on the example figures up to 2024-09-30"
    )
    assert "transcription slip" not in sentence  # reported after the origin: never seen

"""Faults of issue 13 ("misc"): corrupted totals read as daily counts, warnings that were never
given (``run.as_of`` after the data, adjustments before the origin), ``validate`` and
``compare`` on backtest folders, and ``fit --model all`` scoring ``analog`` as ``bootstrap``.

Each test failed before its fix. Modules: simulate.data.reported (detect_kind), simulate.pipeline
(prepare's warnings), simulate.outputs.validation / backtestdir, simulate.compare,
simulate.cli.fit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from simulate import pipeline
from simulate.cli import cli
from simulate.data import check, load
from simulate.data.reported import detect_kind
from simulate.errors import DataError

EXAMPLE = Path(__file__).resolve().parents[1] / "simulate" / "examples" / "synthetic_reports.csv"


def _lowered(values: np.ndarray, *, share: float, by: int, seed: int = 13) -> np.ndarray:
    """`values` with `share` of its rows (never the first) lowered by `by` (not below 0)."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(np.arange(1, len(values)), size=int(share * len(values)), replace=False)
    out = values.copy()
    out[rows] = np.maximum(out[rows] - by, 0)
    return out


def _corrupted_example(tmp_path: Path, *, share: float = 0.10, by: int = 50_000) -> Path:
    frame = pl.read_csv(EXAMPLE).select("date", "personnel")
    personnel = _lowered(frame["personnel"].to_numpy(), share=share, by=by)
    path = tmp_path / "corrupt.csv"
    frame.with_columns(pl.Series("personnel", personnel)).write_csv(path)
    return path


# --------------------------------------------------------------------------- corrupted totals


def test_totals_lowered_on_a_tenth_of_days_are_totals_with_errors(tmp_path: Path) -> None:
    path = _corrupted_example(tmp_path)
    values = pl.read_csv(path)["personnel"]
    # Before: read as daily counts (the only mention an info line), verdict "usable".
    assert detect_kind(values) == "cumulative"
    with pytest.raises(DataError) as err:
        load(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: line ")
    assert "'personnel'" in msg and "totals with errors" in msg
    assert "the largest fall is" in msg and "--kind daily" in msg


def test_check_and_run_refuse_corrupted_totals(tmp_path: Path) -> None:
    path = _corrupted_example(tmp_path)
    runner = CliRunner()
    got = runner.invoke(cli, ["check", str(path)])
    assert got.exit_code == 1
    assert "totals with errors" in got.output and "Traceback" not in got.output
    assert "read as daily counts" not in got.output
    scenario = tmp_path / "corrupt.toml"
    scenario.write_text(
        '[run]\nname = "corrupt"\nseed = 1\npaths = 50\nhorizon = 30\n'
        f'[data]\nsource = "{path.name}"\nseries = ["personnel"]\n'
        '[model]\nkind = "naive"\n[[scenario]]\nname = "status-quo"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    got = runner.invoke(cli, ["run", str(scenario), "--out", str(out), "-q"])
    # Before: exit 0 and a projection of about 43.7 million over 30 days.
    assert got.exit_code == 1
    assert "totals with errors" in got.output
    assert not (out / "corrupt").exists()


@pytest.mark.parametrize("share", [0.05, 0.2, 0.5])
def test_totals_lowered_at_other_rates_are_never_daily_counts(tmp_path: Path, share: float) -> None:
    frame = pl.read_csv(EXAMPLE)
    lowered = _lowered(frame["personnel"].to_numpy(), share=share, by=5_000)
    assert detect_kind(pl.Series(lowered)) == "cumulative"


def test_rarely_lowered_totals_are_read_as_totals_with_slips(tmp_path: Path) -> None:
    # 1% of days: few enough to be corrections; each is flagged (a slip: a warning).
    path = _corrupted_example(tmp_path, share=0.01)
    findings = check(load(path))
    coverage = next(f for f in findings if f.kind == "coverage")
    assert "read as cumulative totals" in coverage.detail
    assert sum(f.kind == "slip" and f.severity == "warning" for f in findings) >= 5


def test_daily_counts_stay_daily_counts() -> None:
    frame = pl.read_csv(EXAMPLE)
    for name in ("personnel", "tanks", "uav"):
        daily = np.diff(frame[name].to_numpy())
        assert detect_kind(pl.Series(daily)) == "daily", name
    # a steadily rising daily series whose values change by about their own size
    rng = np.random.default_rng(5)
    rising = rng.negative_binomial(5, 5 / (5 + np.linspace(100, 900, 400)))
    assert detect_kind(pl.Series(rising)) == "daily"


def test_real_series_keep_their_kind(shared: dict[str, Path]) -> None:
    """Every General Staff series reads as cumulative, its daily figures as daily counts."""
    for key in ("pi_personnel", "pi_equipment", "loddb", "romansverdan"):
        data = load(shared[key])
        for name in data.series_names:
            cum = data.series(name)["cumulative"].to_numpy()
            daily = np.diff(cum)
            assert detect_kind(pl.Series(cum)) == "cumulative", (key, name)
            if daily.min() != daily.max():
                assert detect_kind(pl.Series(daily)) == "daily", (key, name)


# --------------------------------------------------------------------------- warnings


_ASOF = """\
[run]
name = "asof"
seed = 1
paths = 40
horizon = 20
as_of = 2026-06-01

[data]
source = "example"
series = ["personnel"]

[model]
kind = "naive"

[[scenario]]
name = "status-quo"
reference = true

[[scenario]]
name = "past"

[[scenario.adjust]]
type = "multiply"
factor = 2.0
start = 2025-01-01
end = 2025-06-30

[[scenario.adjust]]
type = "surge"
start = 2025-12-20
days = 20
extra = 0.5
"""

_AS_OF_LINE = (
    "run.as_of: 2026-06-01 is after the last reported day 2025-12-30 of personnel; "
    "the origin is 2025-12-30"
)
_ADJUST_LINE = (
    "scenario[1].adjust[0]: multiply of scenario 'past' ends on 2025-06-30, before the first "
    "projected day 2025-12-31; it changes nothing"
)


def test_prepare_warns_about_as_of_after_the_data_and_past_adjustments(tmp_path: Path) -> None:
    path = tmp_path / "asof.toml"
    path.write_text(_ASOF, encoding="utf-8")
    prepared = pipeline.prepare(path)
    # the surge (2025-12-20 for 20 days) reaches into the horizon: no warning for it
    assert prepared.warnings == (f"{path}: {_AS_OF_LINE}", f"{path}: {_ADJUST_LINE}")


def test_run_and_explain_print_the_warnings_and_the_manifest_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "asof.toml"
    path.write_text(_ASOF, encoding="utf-8")
    runner = CliRunner()
    got = runner.invoke(cli, ["explain", str(path)])
    assert got.exit_code == 0
    assert f"Warning: {path}: {_AS_OF_LINE}" in got.output
    assert f"Warning: {path}: {_ADJUST_LINE}" in got.output
    out = tmp_path / "out"
    got = runner.invoke(cli, ["run", str(path), "--out", str(out), "-q"])
    assert got.exit_code == 0, got.output
    assert f"Warning: {path}: {_AS_OF_LINE}" in got.output
    manifest = json.loads((out / "asof" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run"]["warnings"] == [f"{path}: {_AS_OF_LINE}", f"{path}: {_ADJUST_LINE}"]


def test_no_warnings_when_everything_takes_effect(tmp_path: Path) -> None:
    path = tmp_path / "fine.toml"
    path.write_text(_ASOF.replace("as_of = 2026-06-01\n", "").replace("2025-06-30", "2026-01-05"))
    prepared = pipeline.prepare(path)
    assert prepared.warnings == ()


# --------------------------------------------------------------------------- backtest folders

_BACKTEST = ["backtest", "example", "--series", "personnel", "--models", "naive", "--every",
             "60", "--horizon", "30", "--paths", "100", "--start", "2025-06-01", "-q"]  # fmt: skip


@pytest.fixture(scope="module")
def backtests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two backtests from the same command (the first with charts), one with another seed."""
    root = tmp_path_factory.mktemp("backtests")
    runner = CliRunner()
    out = {"a": root / "a", "b": root / "b", "seed": root / "seed"}
    for key, extra in (("a", []), ("b", []), ("seed", ["--seed", "5"])):
        got = runner.invoke(cli, [*_BACKTEST, "--out", str(out[key]), *extra])
        assert got.exit_code == 0, got.output
    return out


def test_validate_checks_a_backtest_folder(backtests: dict[str, Path], tmp_path: Path) -> None:
    got = CliRunner().invoke(cli, ["validate", str(backtests["a"])])
    # Before: "not a valid manifest (TypeError: string indices must be integers ...)".
    assert got.exit_code == 0, got.output
    assert got.output.strip() == f"{backtests['a']}: valid"
    # and it is real validation: files, hashes and the tables' rules
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in backtests["a"].iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    lines = (bad / "scores.csv").read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    fields[-2] = "1.5"  # the PIT value of the first row
    lines[1] = ",".join(fields)
    (bad / "scores.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (bad / "pit.csv").unlink()
    got = CliRunner().invoke(cli, ["validate", str(bad)])
    assert got.exit_code == 1
    assert f"{bad / 'scores.csv'}: SHA-256 differs from the manifest" in got.output
    assert f"{bad / 'scores.csv'}: row 2: pit outside [0, 1]" in got.output
    assert f"{bad / 'pit.csv'}: listed in the manifest but missing" in got.output
    assert "Traceback" not in got.output and "TypeError" not in got.output


def test_compare_two_identical_backtest_folders(backtests: dict[str, Path]) -> None:
    got = CliRunner().invoke(cli, ["compare", str(backtests["a"]), str(backtests["b"])])
    # Before: exit 2, "pit.csv: cannot compare: 9 rows share their key columns".
    assert got.exit_code == 0, got.output
    assert "SAME within the tolerance" in got.output
    assert "pit.csv: same" in got.output and "scores.csv: same" in got.output


def test_compare_backtest_folders_that_differ(backtests: dict[str, Path]) -> None:
    got = CliRunner().invoke(cli, ["compare", str(backtests["b"]), str(backtests["seed"])])
    assert got.exit_code == 1, got.output
    assert "seed: 0 -> 5" in got.output
    assert "scores.csv: 576 of 576 rows differ" in got.output
    # rows are aligned on what identifies them, so a count that changed is a value that differs
    assert "pit.csv: " in got.output and "0 rows only in A, 0 only in B" in got.output


# --------------------------------------------------------------------------- fit --model all


def test_fit_all_scores_analog_as_it_forecasts() -> None:
    got = CliRunner().invoke(cli, ["fit", "example", "--model", "all", "--format", "json"])
    assert got.exit_code == 0, got.output
    pinball = {f["model"]["kind"]: f["pinball"] for f in json.loads(got.output)["fits"]}
    # Before: analog was scored by the 56 days it keeps to seed its levels, which are exactly
    # what bootstrap resamples: the two losses were equal by construction.
    assert pinball["analog"] != pytest.approx(pinball["bootstrap"], rel=1e-3)
    text = CliRunner().invoke(cli, ["fit", "example", "--model", "all"]).output
    assert "one-day-ahead forecasts, refitted each day" in text


def test_analog_one_step_quantiles_are_its_forecast_of_the_next_day() -> None:
    from simulate.models import DailySeries, ModelSpec, daily_series, fit
    from simulate.models.analog import one_step_quantiles

    s = daily_series(load("example"), "personnel")
    levels = np.array([0.1, 0.5, 0.9])
    q = one_step_quantiles(ModelSpec("analog"), s, 3, levels)
    assert q.shape == (3, 3) and np.all(np.diff(q, axis=1) >= 0)
    # the last row is the forecast made the day before the last day: refit there and compare
    # with the model's own simulated first day
    spec = ModelSpec("analog")
    n = len(s.y) - 1
    head = DailySeries(s.name, s.source, s.reported_by, s.start, s.y[:n],
                       int(s.last_total - s.y[n:].sum()), s.granularity)  # fmt: skip
    first_day = fit(spec, head).simulate(1, 20_000, seed=3)[0][0]
    assert np.quantile(first_day, levels) == pytest.approx(q[-1], rel=0.03)


def test_an_invalid_backtest_is_never_moved_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulate.errors import RunInvalidError
    from simulate.outputs import backtestdir
    from simulate.pipeline import plan_backtest, run_backtest

    plan = plan_backtest(["example"], series=["personnel"], models=["naive"], every=60,
                         horizon=30, n_paths=100, start=None)  # fmt: skip
    result = run_backtest(plan)
    real = backtestdir.summarise
    monkeypatch.setattr(
        backtestdir, "summarise", lambda s, **kw: real(s, **kw).with_columns(cov80=pl.lit(1.5))
    )
    target = tmp_path / "bt"
    with pytest.raises(RunInvalidError, match=r"cov80 outside \[0, 1\]"):
        backtestdir.write_backtest(result, target, reference_model="naive", charts=False)
    assert not target.exists() and list(tmp_path.iterdir()) == []

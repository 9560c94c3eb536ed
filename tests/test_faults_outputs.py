"""File-system faults and concurrent writers (issue 13, outputs): every output is held from its
existence check to a rename that replaces nothing; a write that fails ends in one line naming
the path, with nothing half-written left behind.

"Unwritable" and "full" destinations are real file systems where the machine allows it: a
read-only tmpfs and a small tmpfs filled up (we run as root, so ``chmod`` would not stop us).
Where ``mount`` is not possible the same faults are made by monkeypatching the writers to raise
``OSError`` with the real ``errno`` (EROFS, ENOSPC); the tests run either way.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from fault_support import interrupt_after

import simulate
from simulate.cli import cli
from simulate.errors import OutputExistsError
from simulate.outputs.atomic import atomic_write, building_dir
from simulate.outputs.validation import validate_run

TINY = """\
[run]
name = "tiny"
seed = 1
paths = 200
horizon = 30

[data]
source = "example"
series = [{series}]

[model]
kind = "naive"

[[scenario]]
name = "status-quo"
"""

#: Hidden leftovers of a write: staging (``.<name>.xxxxxxxx.tmp`` / ``.old``), locks, kept tasks.
LEFTOVER = re.compile(r"^\..*\.(tmp|old|lock|partial)$")


def _tiny(d: Path, name: str = "tiny", series: str = '"personnel"') -> Path:
    path = d / f"{name}.toml"
    path.write_text(TINY.format(series=series).replace('"tiny"', f'"{name}"'), encoding="utf-8")
    return path


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _leftovers(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if LEFTOVER.match(p.name))


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in stderr
    return lines[0]


def _env() -> dict[str, str]:
    # The subprocesses import the `simulate` these tests import.
    return {**os.environ, "PYTHONPATH": str(Path(simulate.__file__).resolve().parents[1])}


# --- destinations: a read-only and a full file system --------------------------------------


def _mount(where: Path, *options: str) -> bool:
    if os.environ.get("ATTRITION_TEST_NO_MOUNT") or shutil.which("mount") is None:
        return False
    where.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(("size=2m", *options)), "tmpfs", str(where)],
        capture_output=True,
    )
    return got.returncode == 0


def _unmount(where: Path) -> None:
    subprocess.run(["umount", str(where)], capture_output=True, check=True)


def _under(path: Any, root: Path) -> bool:
    name = path if isinstance(path, (int, str, os.PathLike)) else getattr(path, "name", None)
    if isinstance(name, int):  # a file descriptor
        try:
            name = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            return False
    if not isinstance(name, (str, os.PathLike)):
        return False
    return os.path.abspath(os.fspath(name)).startswith(f"{root}{os.sep}")


@pytest.fixture
def readonly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder nothing can be created in (EROFS): a read-only tmpfs, else patched."""
    root = tmp_path / "ro"
    if _mount(root, "ro"):
        try:
            yield root
        finally:
            _unmount(root)
        return
    root.mkdir()
    for name in ("open", "mkdir"):
        real = getattr(os, name)

        def refuse(path: Any, *a: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            if _under(path, root) and (_name == "mkdir" or (a and a[0] & os.O_CREAT)):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
            return _real(path, *a, **kw)

        monkeypatch.setattr(os, name, refuse)
    yield root


@pytest.fixture
def full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on a device with no space left (ENOSPC): a small tmpfs that is filled up by
    :func:`_fill`, else writers patched to fail there."""
    root = tmp_path / "full"
    if _mount(root):
        try:
            yield root
        finally:
            _unmount(root)
        return
    root.mkdir()

    def no_space(real: Any, arg: int = 1) -> Any:
        def write(*a: Any, **kw: Any) -> Any:
            target = a[arg] if len(a) > arg else kw.get("file")
            if (root / ".filled").exists() and _under(target, root):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(*a, **kw)

        return write

    monkeypatch.setattr(os, "fsync", no_space(os.fsync, 0))
    for name in ("write_csv", "write_parquet"):
        monkeypatch.setattr(pl.DataFrame, name, no_space(getattr(pl.DataFrame, name)))
    monkeypatch.setattr(Path, "write_bytes", no_space(Path.write_bytes, 0))
    monkeypatch.setattr(Path, "write_text", no_space(Path.write_text, 0))
    yield root


def _fill(root: Path) -> None:
    """Use up the space left on the small tmpfs at `root` (a patched destination: only mark it
    full; never fill any other file system)."""
    if not os.path.ismount(root):
        (root / ".filled").touch()
        return
    with (root / ".filled").open("wb", buffering=0) as fh:
        try:
            for _ in range(1024):  # 4 MiB at most: twice the tmpfs
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        else:
            pytest.fail(f"{root}: not full after 4 MiB")


# --- two writers, one target ---------------------------------------------------------------


#: `attrition` with a meeting point: once past its checks (about to fit), a run waits until the
#: other run is past them too, or has ended, so that both have checked before either writes.
RENDEZVOUS = """\
import atexit, os, sys, time
import simulate.batch.runner as runner
me, other = sys.argv[1:3]
real = runner.prepare
def prepare(*a, **kw):
    open(me + ".checked", "w").close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        os.path.exists(other + end) for end in (".checked", ".ended")
    ):
        time.sleep(0.01)
    return real(*a, **kw)
runner.prepare = prepare
atexit.register(lambda: open(me + ".ended", "w").close())
from simulate.cli import main
sys.argv = ["attrition", *sys.argv[3:]]
main()
"""


def test_two_concurrent_runs_into_one_folder_exactly_one_wins(tmp_path: Path) -> None:
    scenario = _tiny(tmp_path)
    out = tmp_path / "O"
    marks = [str(tmp_path / "one"), str(tmp_path / "two")]
    args = ["run", str(scenario), "--out", str(out), "--no-charts", "-q"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RENDEZVOUS, me, other, *args, "--seed", seed],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for me, other, seed in ((*marks, "1"), (*marks[::-1], "2"))
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and codes[1] != 0, results
    [(_, _, loser)] = [r for r in results if r[0] != 0]
    line = _one_error_line(loser)
    assert f"{out / 'tiny'}: another attrition run is writing it" in line
    valid = subprocess.run([sys.executable, "-m", "simulate", "validate", str(out / "tiny")],
                           env=_env(), capture_output=True, text=True)  # fmt: skip
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert _leftovers(tmp_path) == []


def test_a_run_fails_before_simulating_when_another_process_holds_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulate.batch.executors as executors

    out = tmp_path / "O"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; "
         f"fd = os.open({str(out / '.tiny.lock')!r}, os.O_RDWR | os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        calls: list[int] = []
        monkeypatch.setattr(executors, "project_series", lambda *a, **kw: calls.append(1))
        result = _invoke("run", _tiny(tmp_path), "--out", out, "--no-charts", "-q")
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    assert result.exit_code == 2 and calls == []
    line = _one_error_line(result.stderr)
    assert f"{out / 'tiny'}: another attrition run is writing it" in line
    assert not (out / "tiny").exists()


@pytest.fixture(params=["renameat2", "fallback"])
def rename(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of renaming without replacing: Linux's renameat2, and the fallback of a C
    library without it."""
    import simulate.outputs.atomic as atomic

    if request.param == "fallback":
        monkeypatch.setattr(atomic, "_renameat2_call", lambda: None)
    return str(request.param)


def test_a_directory_that_appears_meanwhile_is_not_replaced(tmp_path: Path, rename: str) -> None:
    target = tmp_path / "run"
    appeared = pytest.raises(OutputExistsError, match="appeared while this run was working")
    with appeared, building_dir(target, force=False) as tmp:
        (tmp / "a.csv").write_text("x\n")
        target.mkdir()  # empty: a plain rename would replace it silently
    assert target.is_dir() and list(target.iterdir()) == []
    assert _leftovers(tmp_path) == []


def test_a_file_that_appears_meanwhile_is_not_replaced(tmp_path: Path, rename: str) -> None:
    target = tmp_path / "f.csv"

    def slow_writer(tmp: Path) -> None:
        target.write_text("theirs\n")  # another writer finished first
        tmp.write_text("ours\n")

    with pytest.raises(OutputExistsError, match="appeared while this run was working"):
        atomic_write(target, slow_writer)
    assert target.read_text() == "theirs\n"
    assert _leftovers(tmp_path) == []


def test_staging_and_locks_of_a_killed_process_are_removed_by_the_next_holder(
    tmp_path: Path,
) -> None:
    out = tmp_path / "O"
    out.mkdir()
    (out / ".tiny.k3j4h5g6.tmp").mkdir()  # a killed run's staging directory
    (out / ".tiny.k3j4h5g6.tmp" / "projections.csv").write_text("half\n")
    (out / ".tiny.lock").touch()  # its lock file (the kernel released the lock itself)
    (out / ".tiny-2.abcdefgh.tmp").mkdir()  # another target's: left alone
    result = _invoke("run", _tiny(tmp_path), "--out", out, "--no-charts", "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [".tiny-2.abcdefgh.tmp", "tiny"]


# --- unwritable destinations ---------------------------------------------------------------


def test_check_into_an_unwritable_folder_is_one_line(readonly: Path) -> None:
    result = _invoke("check", "example", "-o", readonly / "findings.txt")
    assert result.exit_code == 1
    line = _one_error_line(result.stderr)
    assert line == f"Error: {readonly / 'findings.txt'}: {os.strerror(errno.EROFS)}"


def test_series_into_an_unwritable_folder_is_one_line(readonly: Path) -> None:
    result = _invoke("series", "example", "-o", readonly / "sub" / "s.csv")
    assert result.exit_code == 1
    line = _one_error_line(result.stderr)
    assert line.startswith(f"Error: {readonly / 'sub' / 's.csv'}: ")
    assert line.endswith(os.strerror(errno.EROFS))


def test_run_into_an_unwritable_folder_fails_before_simulating(
    readonly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulate.batch.executors as executors

    calls: list[int] = []
    monkeypatch.setattr(executors, "project_series", lambda *a, **kw: calls.append(1))
    scenario = _tiny(tmp_path)
    result = _invoke("run", scenario, "--out", readonly / "runs", "--no-charts", "-q")
    assert result.exit_code == 1 and calls == []
    line = _one_error_line(result.stderr)
    assert line == f"Error: {scenario}: {readonly / 'runs' / 'tiny'}: {os.strerror(errno.EROFS)}"


def test_backtest_into_an_unwritable_folder_fails_before_fitting(
    readonly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulate.pipeline as pipeline

    monkeypatch.setattr(pipeline, "run_backtest", lambda *a, **kw: pytest.fail("fitted"))
    result = _invoke("backtest", "example", "--series", "personnel", "--out", readonly / "bt",
                     "--paths", "100", "--horizon", "7", "--every", "300", "-q")  # fmt: skip
    assert result.exit_code == 1
    line = _one_error_line(result.stderr)
    assert line == f"Error: {readonly / 'bt'}: {os.strerror(errno.EROFS)}"


# --- full destinations ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_full_disk_keeps_the_previous_run_and_leaves_nothing_behind(
    full: Path, tmp_path: Path, fmt: str
) -> None:
    scenario = _tiny(tmp_path)
    out = full / "runs"
    args = ("--out", out, "--no-charts", "-q", "--format", fmt)
    assert _invoke("run", scenario, *args).exit_code == 0
    before = {p.name: p.read_bytes() for p in (out / "tiny").iterdir()}
    _fill(full)
    result = _invoke("run", scenario, *args, "--force", "--seed", "7")
    assert result.exit_code == 1
    line = _one_error_line(result.stderr)
    assert line.startswith(f"Error: {scenario}: {out / 'tiny'}")
    assert line.endswith(os.strerror(errno.ENOSPC))
    assert {p.name: p.read_bytes() for p in (out / "tiny").iterdir()} == before
    assert validate_run(out / "tiny") == []
    assert _leftovers(full) == []  # no staging, lock or kept tasks (resuming cannot help)


def test_check_and_series_into_a_full_disk_are_one_line_and_leave_nothing(full: Path) -> None:
    _fill(full)
    for args, name in (
        (("check", "example", "-o"), "c.txt"),
        (("series", "example", "-o"), "s.csv"),
    ):
        result = _invoke(*args, full / name)
        assert result.exit_code == 1, result.output
        line = _one_error_line(result.stderr)
        assert line.startswith(f"Error: {full / name}") and line.endswith(os.strerror(errno.ENOSPC))
        assert sorted(p.name for p in full.iterdir()) == [".filled"]


def test_backtest_into_a_full_disk_is_one_line_and_leaves_nothing(full: Path) -> None:
    _fill(full)
    result = _invoke("backtest", "example", "--series", "personnel", "--out", full / "bt",
                     "--paths", "100", "--horizon", "7", "--every", "300", "-q")  # fmt: skip
    assert result.exit_code == 1, result.output
    line = _one_error_line(result.stderr)
    assert line.startswith(f"Error: {full / 'bt'}") and line.endswith(os.strerror(errno.ENOSPC))
    assert sorted(p.name for p in full.iterdir()) == [".filled"]


def test_one_file_failing_to_write_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulate.outputs.rundir as rundir

    real = rundir._write_files

    def failing(result: Any, tmp: Path, *a: Any) -> Any:
        if result.scenario_file.run.name == "a":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp / "projections.csv"))
        return real(result, tmp, *a)

    monkeypatch.setattr(rundir, "_write_files", failing)
    out = tmp_path / "O"
    result = _invoke("run", _tiny(tmp_path, "a"), _tiny(tmp_path, "b"), "--out", out,
                     "--no-charts", "-q")  # fmt: skip
    assert result.exit_code == 1
    errors = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
    assert errors == [
        f"Error: {tmp_path / 'a.toml'}: {out / 'a' / 'projections.csv'}: "
        f"{os.strerror(errno.ENOSPC)}"
    ]
    assert validate_run(out / "b") == [] and not (out / "a").exists()
    assert _leftovers(out) == []


# --- standard output -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "run"])
def test_standard_output_on_a_full_device_is_one_line(command: str, tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is absent on this system")
    args = ["check", "example"]
    if command == "run":
        args = ["run", str(_tiny(tmp_path)), "--out", str(tmp_path / "O"), "--no-charts"]
    with open("/dev/full", "w") as devfull:
        got = subprocess.run([sys.executable, "-m", "simulate", *args], env=_env(),
                             stdout=devfull, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert got.returncode == 1
    line = _one_error_line(got.stderr)
    assert line == f"Error: standard output: {os.strerror(errno.ENOSPC)}"


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    data = tmp_path / "long.csv"  # more findings than a pipe holds
    days = pl.date_range(pl.date(2020, 1, 1), pl.date(2024, 12, 31), eager=True)
    pl.DataFrame({"date": days, "tanks": [i // 2 * 2 for i in range(len(days))]})[::2].write_csv(
        data
    )
    got = subprocess.run(
        f"{sys.executable} -m simulate check {data} --all | head -1",
        shell=True, env=_env(), capture_output=True, text=True,
    )  # fmt: skip
    assert got.stdout.count("\n") == 1
    assert got.stderr == ""


# --- Ctrl-C --------------------------------------------------------------------------------


def test_ctrl_c_keeps_finished_tasks_and_says_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_after(monkeypatch, 1)  # the user presses Ctrl-C during the second series
    scenario = _tiny(tmp_path, series='"personnel", "tanks"')
    out = tmp_path / "O"
    result = _invoke("run", scenario, "--out", out, "--no-charts", "-q")
    assert result.exit_code == 130
    assert result.stderr.strip() == (
        "interrupted; 1 finished task is kept: run the same command with --resume to continue"
    )
    assert len(list((out / ".tiny.partial").glob("*.json"))) == 1  # kept for --resume
    assert sorted(p.name for p in out.iterdir()) == [".tiny.partial"]  # no staging, no lock
    monkeypatch.undo()
    resumed = _invoke("run", scenario, "--out", out, "--no-charts", "-q", "--resume")
    assert resumed.exit_code == 0 and sorted(p.name for p in out.iterdir()) == ["tiny"]


def test_a_run_that_fails_to_write_drops_its_kept_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulate.outputs.rundir as rundir

    interrupt_after(monkeypatch, 1)
    scenario = _tiny(tmp_path, series='"personnel", "tanks"')
    out = tmp_path / "O"
    assert _invoke("run", scenario, "--out", out, "--no-charts", "-q").exit_code == 130
    assert (out / ".tiny.partial").is_dir()
    monkeypatch.undo()

    def no_space(result: Any, tmp: Path, *a: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp / "summary.csv"))

    monkeypatch.setattr(rundir, "_write_files", no_space)
    result = _invoke("run", scenario, "--out", out, "--no-charts", "-q", "--resume")
    assert result.exit_code == 1
    line = _one_error_line(result.stderr)
    assert line == f"Error: {scenario}: {out / 'tiny' / 'summary.csv'}: {os.strerror(errno.ENOSPC)}"
    assert list(out.iterdir()) == []  # resuming cannot fix this: nothing is kept


@pytest.mark.parametrize("option", ["--help", "--version", "check --help"])
def test_help_and_version_on_a_full_device_are_one_line(option: str) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is absent on this system")
    with open("/dev/full", "w") as devfull:
        got = subprocess.run([sys.executable, "-m", "simulate", *option.split()], env=_env(),
                             stdout=devfull, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert got.returncode == 1
    assert _one_error_line(got.stderr) == f"Error: standard output: {os.strerror(errno.ENOSPC)}"


def test_help_into_a_closed_pipe_ends_quietly() -> None:
    got = subprocess.run(f"{sys.executable} -m simulate run --help | head -1", shell=True,
                         env=_env(), capture_output=True, text=True)  # fmt: skip
    assert got.stdout.startswith("Usage:") and got.stderr == ""


# --------------------------------------------------------------- Ctrl-C with worker processes

MANY_TASKS = """\
[run]
name = "many"
seed = 1
paths = 20000
horizon = 90

[data]
source = "example"
series = ["personnel", "tanks", "uav"]

[model]
kind = "naive"

[[scenario]]
name = "s00"
""" + "".join(
    f'\n[[scenario]]\nname = "s{i:02d}"\n[[scenario.adjust]]\ntype = "multiply"\n'
    f"factor = {1 + i / 100}\nstart = 2026-02-01\n"
    for i in range(1, 60)
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_ctrl_c_with_workers_keeps_the_finished_tasks_and_cancels_the_rest(
    tmp_path: Path,
) -> None:
    """Ctrl-C to the whole process group (as a terminal sends it) during ``--jobs 2``: the
    workers ignore it, tasks not started are cancelled, those in progress finish and are kept,
    and ``--resume`` completes the run. 9 tasks (3 series x 3 groups of scenarios); at most
    2 running and 1 queued when the first is kept, so some are always cancelled."""
    import signal
    import time

    path = tmp_path / "many.toml"
    path.write_text(MANY_TASKS, encoding="utf-8")
    out = tmp_path / "O"
    args = [sys.executable, "-m", "simulate", "run", str(path), "--out", str(out), "--jobs", "2",
            "--no-charts"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(simulate.__file__).parents[1])}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)  # fmt: skip
    kept_dir = out / ".many.partial"
    deadline = time.monotonic() + 300
    while not (kept_dir.is_dir() and any(kept_dir.glob("*.json"))):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    kept = len(list(kept_dir.glob("*.json")))
    assert 1 <= kept < 9, kept
    assert err.strip().splitlines()[-1] == (
        f"interrupted; {kept} finished tasks are kept: run the same command with --resume to "
        "continue"
    ).replace("1 finished tasks are", "1 finished task is")
    assert sorted(p.name for p in out.iterdir()) == [".many.partial"]  # no lock, no staging

    resumed = subprocess.run([*args, "--resume", "-q"], capture_output=True, text=True, env=env,
                             timeout=600, check=False)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert validate_run(out / "many") == []
    assert sorted(p.name for p in out.iterdir()) == ["many"]

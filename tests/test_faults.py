"""Faults: stale partials of dead processes, concurrent runs, planted symlinks, kills, interruptions."""

from __future__ import annotations

import contextlib
import errno
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit_lib.cli import app
from audit_lib.folders import owner_token, process_start, stale_partials

from builders import make_snapshot

ROOT = Path(__file__).resolve().parents[1]
COMMAND = str(ROOT / ".venv" / "bin" / "privacy-audit")
TAKEN_AT = "2026-10-08T00:00:00Z"
ROWS = {
    "customers": [{"customer_id": "C1", "country": "DE"}],
    "personal_data": [{"item_id": "I1", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z"}],
}

pytestmark = pytest.mark.skipif(
    not Path(COMMAND).exists() or sys.platform != "linux", reason="Linux, installed"
)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("faults"), ROWS, taken_at=TAKEN_AT)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "export"
    subprocess.run([COMMAND, "sample", "generate", "--out", str(out), "--customers", "3000"], check=True,
                   capture_output=True)  # fmt: skip
    return out


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if "partial" in p.name)


def has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` holds `path` open (Linux /proc): it is past its start, reading it."""
    with contextlib.suppress(OSError):
        return any(os.readlink(fd) == str(path.resolve()) for fd in Path(f"/proc/{pid}/fd").iterdir())
    return False


def test_stale_partials_of_dead_processes_are_removed(cli, valid_export: Path, tmp_path: Path) -> None:
    pid = dead_pid()
    place = tmp_path / "out"
    place.mkdir()
    stale = [
        place / f".old.duckdb.{pid}-12345-abcd0123.partial",
        place / f".old.duckdb.{pid}-12345-abcd0123.partial.wal",
        place / f".legacy.duckdb.{pid}.partial",
    ]
    for path in stale:
        path.write_bytes(b"junk")
    folder = place / f".report.partial-{pid}-12345-abcd0123"
    (folder / "evidence").mkdir(parents=True)
    kept = place / "unrelated.partial.txt"
    kept.write_text("mine")
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(place / "s.duckdb")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in place.iterdir()) == ["s.duckdb", "unrelated.partial.txt"]


def test_a_reused_pid_is_stale_and_a_live_one_is_not(tmp_path: Path) -> None:
    me, start = os.getpid(), process_start(os.getpid())
    assert start
    reused = tmp_path / f".s.duckdb.{me}-{start + 1}-abcd0123.partial"
    live = tmp_path / f".s.duckdb.{owner_token()}.partial"
    live_folder = tmp_path / f".r.partial-{owner_token()}"
    for path in (reused, live):
        path.write_bytes(b"x")
    live_folder.mkdir()
    assert stale_partials(tmp_path) == [reused]


def test_a_reused_pid_does_not_break_a_build(cli, valid_export: Path, tmp_path: Path) -> None:
    me, start = os.getpid(), process_start(os.getpid())
    # what a killed build under this very pid (long ago) would have left, old names and new
    legacy = tmp_path / f".s.duckdb.{me}.partial"
    legacy.write_bytes(b"not a database")
    os.utime(legacy, (time.time() - 10 * 86400,) * 2)  # made before this process started
    (tmp_path / f".s.duckdb.{me}-{start - 1}-abcd0123.partial").write_bytes(b"not a database")
    live = tmp_path / f".other.duckdb.{owner_token()}.partial"  # a build running now: untouched
    live.write_bytes(b"busy")
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "export") == sorted(["s.duckdb", live.name])


def test_stale_reservation_and_partial_folder_in_reports_are_removed(cli, snapshot: Path, tmp_path: Path,
                                                                       monkeypatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    pid = dead_pid()
    (reports / "2026-Q3_old").mkdir()  # an empty reservation of a killed run
    (reports / f".2026-Q3_old.partial-{pid}-1-abcd0123-reserved" / "evidence").mkdir(parents=True)
    (reports / f".other.partial-{pid}-1-abcd0123").mkdir()
    result = cli.invoke(
        app, ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3", "--no-notebooks"]
    )
    assert result.exit_code == 0, result.output
    assert len(list(reports.iterdir())) == 1 and debris(reports) == []


def test_stale_partial_inside_an_empty_out_is_removed(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "mount"
    out.mkdir()
    (out / f".mount.partial-{dead_pid()}-1-abcd0123").mkdir()
    args = [
        "run",
        "quarterly",
        "--snapshot",
        str(snapshot),
        "--period",
        "2026-Q3",
        "--out",
        str(out),
        "--no-notebooks",
    ]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "findings.json").is_file() and (out / "manifest.json").is_file() and debris(out) == []


def test_empty_existing_out_is_assembled_inside(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    inode = out.stat().st_ino
    args = [
        "run",
        "quarterly",
        "--snapshot",
        str(snapshot),
        "--period",
        "2026-Q3",
        "--out",
        str(out),
        "--no-notebooks",
    ]
    assert cli.invoke(app, args).exit_code == 0
    assert out.stat().st_ino == inode  # the folder itself (a mount point, say) is kept
    assert cli.invoke(app, ["verify", str(out)]).exit_code == 0


def test_two_runs_at_once_into_distinct_default_folders(snapshot: Path, tmp_path: Path) -> None:
    args = [COMMAND, "run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3", "--no-notebooks"]
    runs = [
        subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)
    ]
    results = [(p.wait(timeout=60), p.stderr.read().decode()) for p in runs]
    assert [code for code, _ in results] == [0, 0, 0], results
    folders = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert len(folders) == 3 and all((tmp_path / "reports" / f / "findings.json").is_file() for f in folders)
    assert debris(tmp_path / "reports") == []


def test_planted_symlink_in_reports_is_skipped(cli, snapshot: Path, tmp_path: Path, monkeypatch) -> None:
    from audit_lib.ingest.snapshot import snapshot_info

    monkeypatch.chdir(tmp_path)
    reports, elsewhere = tmp_path / "reports", tmp_path / "elsewhere"
    reports.mkdir()
    elsewhere.mkdir()
    today = datetime.now(UTC).date().isoformat()
    name = f"2026-Q3_{today}_{snapshot_info(snapshot).id}"
    (reports / name).symlink_to(elsewhere)  # to an empty folder
    (reports / f"{name}-2").symlink_to(tmp_path / "nowhere")  # dangling
    result = cli.invoke(
        app, ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3", "--no-notebooks"]
    )
    assert result.exit_code == 0, result.output
    assert list(elsewhere.iterdir()) == [] and not (tmp_path / "nowhere").exists()
    made = reports / f"{name}-3"
    assert made.is_dir() and not made.is_symlink() and (made / "findings.json").is_file()


def test_full_target_exit_2_blames_the_folder(cli, snapshot: Path, tmp_path: Path, monkeypatch) -> None:
    import audit_lib.runs.quarterly as quarterly

    def full(findings: object, folder: Path, **_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "findings.json"))

    monkeypatch.setattr(quarterly, "write_findings", full)
    out = tmp_path / "report"
    args = [
        "run",
        "quarterly",
        "--snapshot",
        str(snapshot),
        "--period",
        "2026-Q3",
        "--out",
        str(out),
        "--no-notebooks",
    ]
    result = cli.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert str(out) in result.output and "No space left" in result.output
    assert not out.exists() and debris(tmp_path) == []


def test_unwritable_snapshot_target_exit_2(cli, valid_export: Path, tmp_path: Path, monkeypatch) -> None:
    import duckdb

    import audit_lib.ingest.snapshot as snapshot_module

    def refused(*args: object, **kwargs: object) -> None:
        raise duckdb.IOException('IO Error: Cannot open file "x": Read-only file system')

    monkeypatch.setattr(snapshot_module, "connect", refused)
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2, result.output
    assert "cannot write the snapshot" in result.output and str(tmp_path) in result.output


def test_unreadable_input_exit_2_blames_the_file(
    cli, valid_export: Path, tmp_path: Path, monkeypatch
) -> None:
    victim = valid_export / "customers.csv"
    real_open = Path.open

    def guarded(self: Path, *args: object, **kwargs: object):
        if self == victim:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2, result.output
    assert "customers.csv" in result.output and "cannot read the input file" in result.output
    assert not (tmp_path / "s.duckdb").exists()


def wait_for_partial(folder: Path, process: subprocess.Popen, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(".partial" in p.name for p in folder.iterdir()):
            return True
        time.sleep(0.005)
    return False


def test_sigkill_of_a_build_leaves_no_debris_after_the_next(export: Path, tmp_path: Path) -> None:
    place = tmp_path / "out"
    place.mkdir()
    rng = random.Random(11)
    for attempt in range(3):
        build = subprocess.Popen([COMMAND, "snapshot", "build", str(export), "--out", str(place / f"k{attempt}.duckdb")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        wait_for_partial(place, build)
        time.sleep(rng.uniform(0, 0.6))
        build.kill()
        build.wait()
    result = subprocess.run([COMMAND, "snapshot", "build", str(export), "--out", str(place / "next.duckdb")],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert all(".partial" not in p.name for p in place.iterdir()), sorted(p.name for p in place.iterdir())


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_build_exits_130_and_writes_nothing(
    export: Path, tmp_path: Path, signum: int, code: int
) -> None:
    place = tmp_path / "out"
    place.mkdir()
    build = subprocess.Popen([COMMAND, "snapshot", "build", str(export), "--out", str(place / "s.duckdb")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert wait_for_partial(place, build), "the build ended before it could be interrupted"
    time.sleep(0.2)
    build.send_signal(signum)
    _, stderr = build.communicate(timeout=30)
    assert build.returncode == code, stderr
    assert "interrupted; nothing was written" in stderr and "Traceback" not in stderr
    assert list(place.iterdir()) == []


def test_interrupted_run_exits_130_and_writes_nothing(snapshot: Path, tmp_path: Path) -> None:
    args = [COMMAND, "run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3"]
    run = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while run.poll() is None and time.monotonic() < deadline and not debris(tmp_path):
        time.sleep(0.01)
    assert run.poll() is None, "the run ended before it could be interrupted"
    time.sleep(0.5)  # inside the notebooks
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert "interrupted; nothing was written" in stderr
    assert list((tmp_path / "reports").iterdir()) == []


@pytest.mark.parametrize(
    ("sig", "assembling"), [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGKILL, False),
                            (signal.SIGKILL, True)],
)  # fmt: skip
def test_an_interrupted_or_killed_investigation_leaves_nothing(
    snapshot: Path, tmp_path: Path, sig: int, assembling: bool
) -> None:
    """Signalled while it evaluates (once it has the snapshot open), or once its folder is being assembled."""
    args = [COMMAND, "investigate", "--snapshot", str(snapshot), "--customer", "C1"]
    run = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30

    def ready() -> bool:
        return bool(debris(tmp_path)) if assembling else has_open(run.pid, snapshot)

    while run.poll() is None and time.monotonic() < deadline and not ready():
        time.sleep(0.005)
    if run.poll() is not None:
        pytest.fail("the investigation ended before it could be signalled")
    run.send_signal(sig)
    _, stderr = run.communicate(timeout=60)
    reports = tmp_path / "reports"
    if sig == signal.SIGINT:
        assert run.returncode == 130 and "interrupted; nothing was written" in stderr, stderr
        assert not reports.exists() or list(reports.iterdir()) == []
        return
    again = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert debris(tmp_path) == []  # the next run removed what the killed one left
    (folder,) = reports.iterdir()
    assert (folder / "investigation.html").is_file()


@pytest.mark.parametrize("moment", ["reserved", "made", "writing", "before rename", "removing"])
def test_a_sigint_at_any_moment_of_assembling_leaves_nothing(
    tmp_path: Path, monkeypatch, moment: str
) -> None:
    """A real SIGINT delivered at each step of a folder's life (its reservation made, its
    temporary made, a file written, just before the rename, while a failure is cleaned up):
    exit 130, and nothing is left, the reservation included."""
    import shutil

    import typer

    from audit_lib import folders
    from audit_lib.cli.common import reported

    reports = tmp_path / "reports"
    reports.mkdir()
    fired: list[str] = []

    def signal_once(step: str) -> None:
        if step == moment and not fired:
            fired.append(step)
            signal.raise_signal(signal.SIGINT)

    real_mkdir, real_rename, real_rmtree = os.mkdir, os.rename, shutil.rmtree

    def mkdir(path, *args, **kwargs):
        real_mkdir(path, *args, **kwargs)
        signal_once("made" if ".partial-" in os.fspath(path) else "reserved")

    def rename(*args, **kwargs):
        signal_once("before rename")
        return real_rename(*args, **kwargs)

    def rmtree(*args, **kwargs):
        signal_once("removing")
        return real_rmtree(*args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(shutil, "rmtree", rmtree)

    def command() -> None:
        with folders.assembled(folders.dated_folder("run", "{today}", parent=reports)) as tmp:
            (tmp / "evidence.csv").write_text("a\n")
            signal_once("writing")
            if moment == "removing":
                raise OSError(errno.EIO, "a failing disk")
            (tmp / "manifest.json").write_text("{}\n")

    with pytest.raises(typer.Exit) as stopped:
        reported(command)()
    assert fired == [moment]
    assert stopped.value.exit_code == 130
    assert list(reports.iterdir()) == []

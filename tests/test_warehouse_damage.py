"""A missing, locked, cut-short or corrupted warehouse (or snapshot) meets every command with one
line that says what is wrong and what to do, exit code 1, and nothing created or changed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from flows.cli import _user_errors, app
from flows.ingest import prepare_warehouse
from tasks.warehouse.database import WarehouseUnavailable, connect, snapshot_path

WEEK = "2024-W47"
FLOW_COMMANDS = {
    "ingest": ["ingest"],
    "run": ["run", "--week", WEEK],
    "bulletin": ["bulletin", "--week", WEEK],
    "backfill": ["backfill", "--from", WEEK, "--to", WEEK],
}
READ_COMMANDS = {
    "status": ["status", "--week", WEEK],
    "query": ["query", "select count(*) from ref.kabkota"],
}


def _half(p: Path) -> None:
    os.truncate(p, p.stat().st_size // 2)


def _junk_header(p: Path) -> None:
    with p.open("r+b") as f:
        f.write(os.urandom(4096))


def _random(p: Path) -> None:
    p.write_bytes(os.urandom(p.stat().st_size))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _half, "junk-header": _junk_header, "random": _random}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A real warehouse, migrated with Kaltim's reference data, and its first snapshot."""
    warehouse = tmp_path_factory.mktemp("pristine") / "warehouse.duckdb"
    prepare_warehouse.fn(warehouse, "64")
    return warehouse


@pytest.fixture
def site(settings_env, pristine) -> Iterator[dict]:
    """The pristine warehouse and snapshot in place, an archive and inbox holding a file each,
    and a fingerprint of everything a command must leave alone."""
    shutil.copytree(pristine.parent, settings_env.warehouse.parent)
    for folder, name in ((settings_env.archive / "ab", "ab12.csv"),
                         (Path(settings_env.inbox) / "6402", "6402_ringkasan_2024-W47.csv")):
        folder.mkdir(parents=True)
        (folder / name).write_text("kode_kabkota\n6402\n", encoding="utf-8")
    yield {"settings": settings_env, "before": _fingerprint(settings_env)}


def _fingerprint(settings) -> dict[str, str]:
    roots = (settings.archive, Path(settings.inbox), settings.outbox, settings.warehouse.parent)
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for root in roots if root.exists() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


def _one_line_failure(result, *words: str) -> str:
    """The command failed with exit code 1 and a single line, no traceback; returns it."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # no traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _hold(path: Path) -> subprocess.Popen:
    """Another process holding DuckDB's write lock on `path` until its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\n"
                               "print('open', flush=True)\nsys.stdin.read()\n", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open"
    return proc


def _release(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize("damage", DAMAGE)
def test_connect_refuses_a_damaged_file_and_leaves_it_as_it_was(tmp_path, pristine, damage,
                                                                read_only):
    """Half a file still opens in plain DuckDB (the catalog survives); `connect` refuses it."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(pristine, path)
    DAMAGE[damage](path)
    before = path.read_bytes()
    with pytest.raises(WarehouseUnavailable, match="rusak atau bukan file DuckDB") as exc, \
            connect(path, read_only=read_only):
        pass
    assert exc.value.kind == "damaged" and exc.value.path == path
    assert path.read_bytes() == before  # never "repaired" into an empty database
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]


def test_connect_names_the_process_holding_the_lock(tmp_path, pristine):
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(pristine, path)
    holder = _hold(path)
    try:
        with pytest.raises(WarehouseUnavailable, match=f"dikunci .*PID {holder.pid}") as exc, \
                connect(path):
            pass
    finally:
        _release(holder)
    assert exc.value.kind == "locked"


def test_read_only_connect_to_a_missing_file_creates_nothing(tmp_path):
    with pytest.raises(WarehouseUnavailable, match="belum ada"), \
            connect(tmp_path / "none.duckdb", read_only=True):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("command", FLOW_COMMANDS)
def test_flow_commands_meet_a_damaged_warehouse_with_one_line(site, command, damage):
    s = site["settings"]
    DAMAGE[damage](s.warehouse)
    before = _fingerprint(s)
    result = CliRunner().invoke(app, FLOW_COMMANDS[command])
    line = _one_line_failure(result, f"Gudang data {s.warehouse} rusak", "Pulihkan dari snapshot",
                             "arsip dan inbox tidak diubah")
    assert str(snapshot_path(s.warehouse)) in line
    assert _fingerprint(s) == before
    assert not s.outbox.exists()


@pytest.mark.parametrize("command", FLOW_COMMANDS)
def test_flow_commands_meet_a_foreign_lock_with_one_line(site, command):
    """Someone opened the live warehouse in the DuckDB CLI: say who, before any run starts."""
    s = site["settings"]
    holder = _hold(s.warehouse)
    try:
        result = CliRunner().invoke(app, FLOW_COMMANDS[command])
    finally:
        _release(holder)
    _one_line_failure(result, "sedang dikunci", f"PID {holder.pid}", "-readonly")
    assert _fingerprint(s) == site["before"]


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("command", READ_COMMANDS)
def test_read_commands_meet_a_damaged_snapshot_with_one_line(site, command, damage):
    s = site["settings"]
    DAMAGE[damage](snapshot_path(s.warehouse))
    before = _fingerprint(s)
    result = CliRunner().invoke(app, READ_COMMANDS[command])
    _one_line_failure(result, "Snapshot analis", "rusak", "pilkada ingest")
    assert _fingerprint(s) == before


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_read_commands_meet_a_write_locked_snapshot_with_one_line(site, command):
    s = site["settings"]
    holder = _hold(snapshot_path(s.warehouse))
    try:
        result = CliRunner().invoke(app, READ_COMMANDS[command])
    finally:
        _release(holder)
    _one_line_failure(result, "Snapshot analis", "sedang dikunci", f"PID {holder.pid}")


@pytest.mark.parametrize("command", READ_COMMANDS)
def test_read_commands_keep_working_on_the_snapshot_of_a_damaged_warehouse(site, command):
    """The snapshot is where recovery starts: analysts keep reading it meanwhile."""
    s = site["settings"]
    _random(s.warehouse)
    result = CliRunner().invoke(app, READ_COMMANDS[command])
    assert result.exit_code == 0, result.output


def test_template_meets_a_damaged_snapshot_with_one_line(site):
    s = site["settings"]
    _junk_header(snapshot_path(s.warehouse))
    result = CliRunner().invoke(app, ["template", "--week", WEEK, "--all"])
    _one_line_failure(result, "Snapshot analis", "rusak")
    assert not s.outbox.exists()


def test_corruption_found_inside_a_run_ends_in_the_same_line(settings_env, capsys):
    """A checksum error surfaces mid-run (the file opened fine): translated, not a traceback."""
    with pytest.raises(typer.Exit) as exit_, _user_errors(check_warehouse=False):
        raise duckdb.Error("Corrupt database file: computed checksum 1 does not match stored "
                           "checksum 2 in block at location 12288")
    assert exit_.value.exit_code == 1
    assert f"Gudang data {settings_env.warehouse} rusak" in capsys.readouterr().err
    with pytest.raises(duckdb.BinderException), _user_errors(check_warehouse=False):
        raise duckdb.BinderException("Binder Error: column x not found")  # a bug stays a bug


def test_ingest_in_a_real_process_says_one_line_and_starts_nothing(site):
    s = site["settings"]
    _half(s.warehouse)
    before = _fingerprint(s)
    proc = subprocess.run([sys.executable, "-c", "from flows.cli import app; app()", "ingest"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "rusak atau bukan file DuckDB (file terpotong:" in proc.stderr
    assert _fingerprint(s) == before

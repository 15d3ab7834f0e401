"""A careless or hostile desk never stops the week: odd names, odd objects, forged clocks,
oversized files, codes and weeks outside the area, and files that break a step each end in their
own verdict (or in the "not a submission" list) while the other files load."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks.contract.regions import tps_master
from tasks.ingest.feedback import FeedbackIncomplete, missing_feedback
from tasks.ingest.pull import InboxFile, SourceUnreadable, archive, safe_name
from tasks.warehouse.database import snapshot_path, sql
from tests.pipeline import ingest, judged
from tests.test_feedback import KAB, ON_TIME, WEEK, insiden_rows, keamanan_rows, put, to_csv

# the tests here run the ingest flow (tests/pipeline.py) on the session's Prefect server
pytestmark = pytest.mark.usefixtures("prefect_harness")

GOOD = f"{KAB}/{KAB}_keamanan_{WEEK}.csv"


def ledger(con) -> dict[str, tuple]:
    rows = con.execute("SELECT source_path, status, reason, received_at, file_id "
                       "FROM audit.submission_status").fetchall()
    return {p: (s, r, t, i) for p, s, r, t, i in rows}


def put_bytes(settings, rel: bytes, data: bytes, when: datetime = ON_TIME) -> bytes:
    """A file whose name is given as raw bytes (not valid UTF-8, control characters…)."""
    path = os.fsencode(settings.inbox) + b"/" + rel
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


@pytest.fixture
def no_hang():
    """Opening a FIFO blocks for ever: fail the test instead of hanging CI."""
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the inbox pull blocked"))
    signal.alarm(120)
    yield
    signal.alarm(0)


# ---------------------------------------------------------------------------------------------
# names


ODD = {
    b"%s/%s_keamanan_%s_\xe9t\xe9.csv": "undecodable bytes (a Windows zip tool's name)",
    b"%s/%s_keamanan_%s_a\nb.csv": "a newline",
    b"%s/%s_keamanan_%s_\xe2\x80\xaevsc.csv": "a right-to-left override",
    b"%s/%s_keamanan_%s_" + b"x" * 200 + b".csv": "a 250-byte name (legal, too long to extend)",
}


def test_any_name_bytes_end_in_a_verdict_with_a_safe_name(warehouse, settings_env):
    put(settings_env, GOOD, to_csv(keamanan_rows(), "keamanan"))
    k, w = KAB.encode(), WEEK.encode()
    body = to_csv(keamanan_rows()[:-1], "keamanan")  # other bytes than GOOD: judged on its own
    for pattern in ODD:
        put_bytes(settings_env, pattern % (k, k, w), body)
    results = ingest(settings_env)
    assert len(results) == 1 + len(ODD)
    rows = ledger(warehouse)
    assert rows[GOOD][0] == "superseded"  # by the long-named correction, sent at the same time
    for path, (status, reason, *_) in rows.items():
        assert path == safe_name(path) and path.isprintable(), path  # nothing to break a line
        assert reason.isprintable() and status
    long_name = next(p for p in rows if "x" * 200 in p)
    assert rows[long_name][0] == "accepted_with_flags"  # a legal name: judged on its content
    # the name's exact bytes are kept beside the display form
    raw = {bytes(b) for (b,) in warehouse.execute("SELECT source_bytes FROM raw.file").fetchall()}
    assert {(p % (k, k, w)) for p in ODD} <= raw
    written = [p for p in (Path(settings_env.outbox) / "feedback").rglob("*") if p.is_file()]
    assert len([p for p in written if p.name.endswith(".umpan-balik.txt")]) == len(results)
    for p in written:
        assert len(p.name.encode()) <= 255 and p.name.isascii() and p.name.isprintable(), p.name


def test_a_rerun_over_odd_names_changes_nothing(warehouse, settings_env):
    k, w = KAB.encode(), WEEK.encode()
    for pattern in ODD:
        put_bytes(settings_env, pattern % (k, k, w), to_csv(keamanan_rows(), "keamanan"))
    first = ingest(settings_env)
    assert len(first) == len(ODD)
    assert ingest(settings_env) == []


# ---------------------------------------------------------------------------------------------
# what is not a submission


def test_links_fifos_folders_and_hidden_files_are_listed_never_opened(warehouse, settings_env,
                                                                       no_hang, tmp_path):
    inbox = Path(settings_env.inbox)
    put(settings_env, GOOD, to_csv(keamanan_rows(), "keamanan"))
    secret = tmp_path / "secret.csv"
    secret.write_text("rahasia\n")
    (inbox / KAB / f"{KAB}_ringkasan_{WEEK}.csv").symlink_to(secret)
    (inbox / KAB / f"{KAB}_insiden_{WEEK}_link.csv").symlink_to(tmp_path / "gone.csv")
    os.mkfifo(inbox / KAB / f"{KAB}_netralitas_{WEEK}.csv")
    (inbox / KAB / f"{KAB}_logistik_{WEEK}.csv").mkdir()
    put(settings_env, f"{KAB}/~$laporan.xlsx", b"lock")
    put(settings_env, f"{KAB}/.DS_Store", b"mac")
    results = ingest(settings_env)
    assert [v.source_path for v in results] == [GOOD]
    skipped = dict(warehouse.execute(
        "SELECT source_path, object_type FROM audit.inbox_skipped").fetchall())
    assert skipped == {
        f"{KAB}/{KAB}_ringkasan_{WEEK}.csv": "symlink",
        f"{KAB}/{KAB}_insiden_{WEEK}_link.csv": "symlink",
        f"{KAB}/{KAB}_netralitas_{WEEK}.csv": "special",
        f"{KAB}/{KAB}_logistik_{WEEK}.csv": "folder",
        f"{KAB}/~$laporan.xlsx": "hidden",
        f"{KAB}/.DS_Store": "hidden",
    }
    archived = [p for p in Path(settings_env.archive).rglob("*") if p.is_file()]
    assert all(b"rahasia" not in p.read_bytes() for p in archived)
    # seen again next run: still one row each; once removed from the inbox, no longer present
    ingest(settings_env)
    assert warehouse.execute("SELECT count(*) FROM audit.inbox_skipped").fetchone()[0] == 6
    os.unlink(inbox / KAB / f"{KAB}_netralitas_{WEEK}.csv")
    ingest(settings_env)
    present = {p for (p, *_) in warehouse.execute(sql("queries/inbox_skipped.sql")).fetchall()}
    assert present == set(skipped) - {f"{KAB}/{KAB}_netralitas_{WEEK}.csv"}


def test_a_file_that_cannot_be_read_is_listed_and_tried_again(settings_env, tmp_path):
    item = InboxFile(f"{KAB}/{KAB}_keamanan_{WEEK}.csv", str(tmp_path / "vanished.csv"), 10,
                     None)
    with pytest.raises(SourceUnreadable):
        archive(item, Path(settings_env.archive))
    assert not [p for p in Path(settings_env.archive).rglob("*") if p.is_file()]


# ---------------------------------------------------------------------------------------------
# arrival time and versions


def test_an_overwrite_in_place_with_the_same_size_and_time_is_a_new_version(warehouse,
                                                                             settings_env):
    rows = keamanan_rows()
    first = to_csv(rows, "keamanan")
    rows[0]["posko"] = 7 if rows[0]["posko"] != 7 else 8
    second = to_csv(rows, "keamanan")
    assert len(first) == len(second) and first != second
    path = put(settings_env, GOOD, first)
    ingest(settings_env)
    stat = path.stat()
    path.write_bytes(second)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert len(ingest(settings_env)) == 1
    versions = warehouse.execute(
        "SELECT version, status FROM audit.submission_status ORDER BY version").fetchall()
    assert versions == [(1, "superseded"), (2, "accepted")]


def test_a_touched_but_unchanged_file_gets_no_second_verdict(warehouse, settings_env):
    path = put(settings_env, GOOD, to_csv(keamanan_rows(), "keamanan"))
    ingest(settings_env)
    os.utime(path, None)  # new mtime and ctime, same bytes
    assert ingest(settings_env) == []
    assert ingest(settings_env) == []  # and the new fingerprint is remembered


def test_the_senders_clock_is_never_trusted(warehouse, settings_env):
    """By default arrival is the time the storage recorded the write: a file dated 2031 is not
    received in the future, and a genuine later correction still supersedes it."""
    settings = replace(settings_env, arrival="storage")
    future = datetime(2031, 1, 1, tzinfo=UTC)
    past = datetime(2024, 11, 20, tzinfo=UTC)  # backdated to look on time
    start = datetime.now(UTC) - timedelta(seconds=2)
    put(settings, GOOD, to_csv(keamanan_rows(), "keamanan"), when=future)
    put(settings, f"{KAB}/{KAB}_insiden_{WEEK}.csv", to_csv(insiden_rows(), "insiden"), when=past)
    ingest(settings)
    rows = ledger(warehouse)
    end = datetime.now(UTC) + timedelta(seconds=2)
    for path, (_, _, received, _) in rows.items():
        assert start <= received <= end, (path, received)
    assert all(rows[p][0] == "accepted" for p in rows)
    revised = f"{KAB}/{KAB}_keamanan_{WEEK}_revisi.csv"
    put(settings, revised, to_csv(keamanan_rows()[:-1], "keamanan"), when=past)
    ingest(settings)
    rows = ledger(warehouse)
    assert rows[GOOD][0] == "superseded" and rows[revised][0] != "superseded"


def test_a_replayed_clock_is_never_in_the_future(warehouse, settings_env):
    assert settings_env.arrival == "mtime"
    put(settings_env, GOOD, to_csv(keamanan_rows(), "keamanan"), when=datetime(2031, 1, 1,
                                                                             tzinfo=UTC))
    ingest(settings_env)
    ((received,),) = warehouse.execute("SELECT received_at FROM raw.file").fetchall()
    assert received <= datetime.now(UTC)


# ---------------------------------------------------------------------------------------------
# size, area, calendar


def test_an_oversized_file_is_refused_before_it_is_copied(warehouse, settings_env):
    settings = replace(settings_env, max_file_bytes=4096)
    big = to_csv(insiden_rows(200), "insiden")
    assert len(big) > 4096
    put(settings, f"{KAB}/{KAB}_insiden_{WEEK}.csv", big)
    put(settings, GOOD, to_csv(keamanan_rows()[:3], "keamanan"))
    ingest(settings)
    rows = ledger(warehouse)
    status, reason, *_ = rows[f"{KAB}/{KAB}_insiden_{WEEK}.csv"]
    assert status == "rejected" and "terlalu besar" in reason
    assert rows[GOOD][0] != "rejected"
    (size, archive_path), = warehouse.execute(
        "SELECT size_bytes, archive_path FROM raw.file WHERE kind = 'insiden'").fetchall()
    assert size == len(big) and archive_path == ""
    archived = [p.stat().st_size for p in Path(settings.archive).rglob("*") if p.is_file()]
    assert archived and max(archived) <= 4096


@pytest.mark.parametrize("kind", ["ringkasan", "logistik", "keamanan", "insiden", "netralitas"])
def test_codes_outside_the_area_and_weeks_outside_the_calendar(warehouse, settings_env, kind):
    cases = {
        f"6301/6301_{kind}_{WEEK}.csv": "wilayah",  # Kalimantan Selatan: another province
        f"9999/9999_{kind}_{WEEK}.csv": "wilayah",  # no such kab/kota
        f"{KAB}/{KAB}_{kind}_2023-W10.csv": "kalender",
        f"{KAB}/{KAB}_{kind}_2026-W47.csv": "kalender",
    }
    for rel in cases:
        put(settings_env, rel, b"kode_kabkota\n" + rel[:4].encode() + b"\n")
    ingest(settings_env)
    got = dict(warehouse.execute(
        "SELECT f.source_path, i.rule FROM audit.row_issue i JOIN raw.file f USING (file_id) "
        "JOIN audit.submission s USING (file_id) WHERE s.verdict = 'rejected'").fetchall())
    assert got == cases
    for rel, (_, reason, *_) in ledger(warehouse).items():
        assert ("wilayah" in reason or "Kalimantan Timur" in reason) if cases[rel] == "wilayah" \
            else "kalender" in reason


def test_the_calendar_is_configurable(settings_env, monkeypatch):
    from tasks.config import load_settings
    from tasks.weeks import check_calendar

    monkeypatch.setenv("PILKADA_CALENDAR", "2024-W40:2024-W48")
    assert check_calendar(load_settings().calendar) == ("2024-W40", "2024-W48")
    monkeypatch.setenv("PILKADA_CALENDAR", "2024-W48:2024-W40")
    with pytest.raises(ValueError, match=r"PILKADA_CALENDAR.*sebelum"):
        check_calendar(load_settings().calendar)


# ---------------------------------------------------------------------------------------------
# one file breaking a step


MARK = 777_777  # personel_polri of the file that breaks the step


def keamanan_of(kab: str) -> list[dict]:
    per_kec = (tps_master().filter(pl.col("kabkota_code") == kab)
               .group_by("kecamatan_code").agg(n=pl.len()).sort("kecamatan_code"))
    return [{"kode_kabkota": kab, "kode_kecamatan": kec, "jumlah_tps": n,
             "tps_kurang_rawan": n, "tps_rawan": 0, "tps_sangat_rawan": 0,
             "personel_polri": n, "personel_tni": n, "personel_linmas": 2 * n, "posko": 1,
             "per_tanggal": "2024-11-21"} for kec, n in per_kec.iter_rows()]


def _hostile_and_good(settings) -> str:
    put(settings, GOOD, to_csv(keamanan_rows(), "keamanan"))
    rows = keamanan_of("6401")
    rows[0]["personel_polri"] = MARK
    bad = "6401/6401_keamanan_2024-W47.csv"
    put(settings, bad, to_csv(rows, "keamanan"))
    put(settings, f"{KAB}/{KAB}_insiden_{WEEK}.csv", to_csv(insiden_rows(), "insiden"))
    return bad


def test_a_file_that_breaks_validation_costs_only_itself(warehouse, settings_env, monkeypatch):
    import tasks.ingest.judge

    real = tasks.ingest.judge.validate_kind

    def breaking(con, kind, batch):
        if kind == "keamanan" and MARK in batch["personel_polri"].to_list():
            raise duckdb.OutOfRangeException("Overflow in addition of INT64")
        return real(con, kind, batch)

    monkeypatch.setattr(tasks.ingest.judge, "validate_kind", breaking)
    bad = _hostile_and_good(settings_env)
    ingest(settings_env)
    rows = ledger(warehouse)
    assert rows[bad][0] == "rejected" and "validasi" in rows[bad][1]
    assert rows[GOOD][0] == "accepted"
    assert rows[f"{KAB}/{KAB}_insiden_{WEEK}.csv"][0] == "accepted"


@pytest.mark.parametrize("step", ["membaca", "penilaian"])
def test_a_file_that_breaks_typing_or_marking_costs_only_itself(warehouse, settings_env,
                                                                 monkeypatch, step):
    """A kind's files are typed, scrubbed and marked in one pass (tasks.ingest.judge._typed,
    _marked); a file whose cells break the pass is redone alone and rejected, the others of the
    same kind keep their verdicts: the pass breaks while typing (`membaca`) or marking."""
    import tasks.ingest.judge

    real_type, real_mark = tasks.ingest.judge.type_columns, tasks.ingest.judge._marked

    def breaks(frame: pl.DataFrame) -> bool:
        return str(MARK) in frame["personel_polri"].cast(pl.String).to_list()

    def typing(frame, kind):
        if kind == "keamanan" and breaks(frame):
            raise pl.exceptions.ComputeError("cannot cast")
        return real_type(frame, kind)

    def marking(frame, files):
        if "personel_polri" in frame.columns and breaks(frame):
            raise ValueError("cannot mark")
        return real_mark(frame, files)

    if step == "membaca":
        monkeypatch.setattr(tasks.ingest.judge, "type_columns", typing)
    else:
        monkeypatch.setattr(tasks.ingest.judge, "_marked", marking)
    bad = _hostile_and_good(settings_env)
    ingest(settings_env)
    rows = ledger(warehouse)
    assert rows[bad][0] == "rejected" and f"langkah {step}" in rows[bad][1], rows[bad]
    assert rows[GOOD][0] == "accepted"
    assert rows[f"{KAB}/{KAB}_insiden_{WEEK}.csv"][0] == "accepted"
    kept = warehouse.execute("SELECT count(*) FROM core.keamanan WHERE kode_kabkota = '6401'")
    assert kept.fetchone()[0] == 0


def test_a_systematic_fault_fails_the_run_instead_of_every_file(warehouse, settings_env,
                                                                monkeypatch):
    import tasks.ingest.judge

    def broken(con, kind, batch):
        raise duckdb.IOException("disk I/O error")

    monkeypatch.setattr(tasks.ingest.judge, "validate_kind", broken)
    _hostile_and_good(settings_env)
    with pytest.raises(duckdb.IOException):
        ingest(settings_env)
    assert warehouse.execute("SELECT count(*) FROM raw.file").fetchone()[0] == 0


def test_a_file_that_cannot_be_stored_costs_only_itself(warehouse, settings_env, monkeypatch):
    import tasks.ingest.load

    real = tasks.ingest.load._insert

    def breaking(con, name, frame, statement):
        if name == "staged_rows" and "personel_polri" in frame.columns \
                and MARK in frame["personel_polri"].to_list():
            raise duckdb.ConversionException("cannot store")
        return real(con, name, frame, statement)

    monkeypatch.setattr(tasks.ingest.load, "_insert", breaking)
    bad = _hostile_and_good(settings_env)
    ingest(settings_env)
    rows = ledger(warehouse)
    assert rows[bad][0] == "rejected" and "tidak dapat disimpan" in rows[bad][1]
    assert rows[GOOD][0] == "accepted"
    kept = warehouse.execute("SELECT count(*) FROM core.keamanan WHERE kode_kabkota = '6401'")
    assert kept.fetchone()[0] == 0
    assert warehouse.execute("SELECT count(*) FROM core.keamanan").fetchone()[0] == len(
        keamanan_rows())


def test_feedback_that_cannot_be_written_is_caught_up(warehouse, settings_env):
    put(settings_env, GOOD, to_csv(keamanan_rows(), "keamanan"))
    put(settings_env, "6401/6401_insiden_2024-W47.csv", b"bukan csv yang sah\x00\x01")
    blocker = Path(settings_env.outbox) / "feedback" / KAB
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the desk's folder should be")
    with pytest.raises(FeedbackIncomplete) as caught:  # both files loaded, one note unwritten
        ingest(settings_env)
    assert caught.value.files == [f"{KAB}_keamanan_{WEEK}.csv"]
    assert len(judged(settings_env.warehouse)) == 2
    assert list((blocker.parent / "6401").glob("*.umpan-balik.txt"))  # the other desk's note
    assert len(missing_feedback(warehouse)) == 1
    blocker.unlink()
    assert ingest(settings_env) == []  # nothing new: the run only catches up on the note
    assert missing_feedback(warehouse) == []
    assert list(blocker.glob("*.umpan-balik.txt"))


# ---------------------------------------------------------------------------------------------
# the flows: the week still loads, publishes and goes out


@pytest.mark.flow
def test_the_week_goes_out_whatever_the_names(settings_env, prefect_harness):
    """Ingest a week with hostile names and an unwritable feedback folder: every week's batch
    is loaded and published and the run says what it could not do; the next run catches up and
    the bulletin, with the desks' feedback attached, reaches every recipient."""
    from flows.bulletin import weekly_bulletin
    from flows.ingest import ingest_submissions
    from samples.kaltim import generate

    generate(Path(settings_env.inbox), ["2024-W46"])
    src = Path(settings_env.inbox) / "6407" / "6407_insiden_2024-W46.csv"  # has a flagged row
    for name in (b"6407_insiden_2024-W46_a\nb.csv", b"6407_insiden_2024-W46_\xe9.csv",
                 b"6407_insiden_2024-W46_" + b"y" * 220 + b".csv"):
        put_bytes(settings_env, b"6407/" + name, src.read_bytes().replace(b"\n", b"\r\n"))
    blocker = Path(settings_env.outbox) / "feedback" / "6402"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("x")
    with pytest.raises(FeedbackIncomplete):
        ingest_submissions()
    assert snapshot_path(settings_env.warehouse).exists()
    blocker.unlink()
    assert ingest_submissions()["files"] == 0
    result = weekly_bulletin(week="2024-W46", send=True)
    with duckdb.connect(str(settings_env.warehouse), read_only=True) as con:
        assert missing_feedback(con) == []
        statuses = dict(con.execute("SELECT status, count(*) FROM audit.submission_status "
                                    "GROUP BY ALL").fetchall())
    assert statuses.get("accepted", 0) >= 40
    deliveries = result["deliveries"]
    assert deliveries and all(d["status"] == "sent" for d in deliveries)
    mail = list((Path(settings_env.outbox) / "mail" / "2024-W46").rglob("*.eml"))
    assert mail
    for eml in mail:
        for line in eml.read_bytes().split(b"\n"):
            if b"filename" in line:
                assert b"\\x" not in line or line.isascii()


def test_status_shows_the_data_team_what_is_not_a_submission(warehouse, settings_env, tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    put(settings_env, GOOD, to_csv(keamanan_rows(), "keamanan"))
    (Path(settings_env.inbox) / KAB / f"{KAB}_ringkasan_{WEEK}.csv").symlink_to(tmp_path)
    put_bytes(settings_env, KAB.encode() + b"/.~lock[bold]\n.csv#", b"x")
    ingest(settings_env)  # which publishes the snapshot `status` reads
    result = CliRunner().invoke(app, ["status", "--week", WEEK])
    assert result.exit_code == 0, result.output
    assert "2 benda di folder masuk bukan kiriman" in result.output
    assert f"{KAB}/{KAB}_ringkasan_{WEEK}.csv (symlink)" in result.output
    assert f"{KAB}/.~lock[bold]\\x0a.csv# (hidden)" in result.output  # shown, never interpreted

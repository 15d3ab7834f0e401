"""Validation in bounded batches gives exactly the findings of one big batch."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import replace
from pathlib import Path

import pytest

import tasks.ingest.judge as ingest
import tasks.ingest.validate as validate
from samples.kaltim import generate
from tasks.ingest.pull import ArchivedFile, Identity, InboxFile, archive, list_inbox
from tasks.warehouse.database import connect
from tests import pipeline
from tests.test_feedback import ON_TIME


def test_chunks_keep_whole_files_within_the_budget():
    sizes = [3, 4, 10, 0, 1, 2]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    spans = [ingest._Span(i, s, n)
             for i, (s, n) in enumerate(zip(starts, sizes, strict=True), start=1)]
    chunks = ingest._chunks(spans, 6)
    assert [[s.height for s in c] for c in chunks] == [[3], [4], [10], [0, 1, 2]]
    assert [s for c in chunks for s in c] == spans  # every file once, in order
    assert ingest._chunks([], 6) == []


def _file(name: str, kab: str | None, kind: str | None, size: int) -> ArchivedFile:
    return ArchivedFile(InboxFile(name, name, size, None), name, None,
                        Identity(kab, kind, "2024-W47", "csv", None if kind else "nama"))


def test_task_batches_are_one_kind_keep_a_kabkota_together_and_respect_the_budget():
    files = [_file("a", "6401", "logistik", 60), _file("a2", "6401", "logistik", 50),
             _file("b", "6402", "logistik", 30), _file("c", "6403", "logistik", 30),
             _file("d", "6401", "keamanan", 10), _file("x", None, None, 5)]
    got = [[f.source.source_path for f in b] for b in ingest.batches(files, budget=100)]
    # a kab/kota over the budget is a batch of its own; kinds never share a batch; no file lost
    assert got == [["x"], ["d"], ["a", "a2"], ["b", "c"]]


def test_parts_spread_a_small_week_over_the_slots_and_keep_a_large_one_near_the_budget():
    cost = ingest.BATCH_COST_BYTES
    small = [[_file(f"{k}{i}", f"640{i}", k, size) for i in range(3)]
             for k, size in (("logistik", 200_000), ("insiden", 2_000), ("keamanan", 2_000),
                             ("netralitas", 1_000), ("ringkasan", 3_000), ("tindak_lanjut", 500))]

    def weight(part: list) -> int:
        return sum(a.source.size for b in part for a in b) + cost * len(part)

    got = ingest.parts(small, slots=2)
    assert len(got) == 2 and sorted(map(id, (b for p in got for b in p))) == sorted(map(id, small))
    assert weight(got[0]) >= weight(got[1])  # the heaviest part first: it starts first
    # largest first into the lightest part: the heavy logistik batch opens its part and shares
    # it with one small kind, the other four kinds fill the other part
    [heavy] = [p for p in got if p[0] is small[0]]
    assert len(heavy) == 2
    assert weight(got[0]) - weight(got[1]) <= max(weight([b]) for b in small)
    assert ingest.parts(small[:1], slots=2) == [small[:1]]  # fewer batches than slots
    assert ingest.parts([], slots=2) == []
    # a large week: parts of about the budget, never a batch split or lost
    big = [[_file(f"b{i}", f"64{i:02d}", "logistik", 900)] for i in range(40)]
    budget = 10 * (900 + cost)
    got = ingest.parts(big, slots=2, budget=budget)
    assert len(got) == 4 and sorted(map(id, (b for p in got for b in p))) == sorted(map(id, big))
    assert all(weight(p) <= budget for p in got)


@pytest.mark.slow  # two sample weeks judged twice: in small batches and in one
def test_small_batches_find_the_same_as_one_batch(warehouse, settings_env, monkeypatch):
    generate(Path(settings_env.inbox), ["2024-W45", "2024-W46"])
    # received at a fixed time: unset, each judging would take "now" (a minute apart, it differs)
    archived = [replace(archive(f, settings_env.archive), received_at=ON_TIME)
                for f in list_inbox(settings_env.inbox)[0]]

    def findings() -> dict[str, list[tuple]]:
        return {v.archived.source.source_path: sorted(
                    (f.row or 0, f.column or "", f.rule, f.message) for f in v.findings)
                for v in ingest.judge(warehouse, archived, settings_env)}

    whole = findings()
    monkeypatch.setattr(ingest, "VALIDATION_CHUNK_ROWS", 500)
    assert findings() == whole
    monkeypatch.setattr(ingest, "BATCH_BYTES", 20_000)  # many task batches, each judged apart
    assert len(ingest.batches(archived)) > 12
    assert findings() == whole
    assert any(whole.values())  # the sample's bad rows are among them


def test_a_backlog_of_weeks_is_judged_week_by_week(settings_env, prefect_harness):
    """A fall in a cumulative quantity is caught even when both weeks arrive in one run."""
    generate(Path(settings_env.inbox), ["2024-W46", "2024-W47"])
    path = Path(settings_env.inbox) / "6474" / "6474_logistik_2024-W47.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[0]["diterima_kabkota"] = "0"  # W46 had goods at the warehouse for every row
    rows[0]["diterima_ppk"] = rows[0]["diterima_pps"] = rows[0]["diterima_tps"] = "0"
    rows[0]["catatan"] = ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    stat = path.stat()
    path.write_text(buf.getvalue(), encoding="utf-8")
    os.utime(path, (stat.st_atime, stat.st_mtime))
    pipeline.ingest(settings_env)
    rules = [(f.rule, f.row) for v in pipeline.judged(settings_env.warehouse)
             if v.file_name == "6474_logistik_2024-W47.csv" for f in v.findings]
    assert ("kumulatif_tidak_turun", 2) in rules


def test_a_batch_gets_only_its_kabkotas_rows_and_the_findings_of_the_whole_tables(
        settings_env, prefect_harness):
    """A logistik batch is sent the requirement and last week's rows of its own kab/kota only
    (a national week's tables are 670,096 rows each), and judges exactly as against the whole
    tables, even a row whose desa code is another kab/kota's (compared with nothing of it)."""
    inbox = Path(settings_env.inbox)
    generate(inbox, ["2024-W46"])
    pipeline.ingest(settings_env)
    generate(inbox, ["2024-W47"])
    with connect(settings_env.warehouse) as warehouse:
        _judge_against_own_and_whole(warehouse, settings_env)


def _judge_against_own_and_whole(warehouse, settings_env) -> None:
    """The test above once W46 is loaded, on an open connection: the batch's inputs read from it."""
    inbox = Path(settings_env.inbox)
    path = inbox / "6474" / "6474_logistik_2024-W47.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    # another kab/kota's desa with a requirement and positive W46 figures, filed by 6474
    desa, need = warehouse.execute(
        "SELECT r.desa_code, r.jumlah_kebutuhan FROM ref.kebutuhan r JOIN core.logistik_current p"
        " ON p.kode_desa = r.desa_code AND p.barang = r.barang AND p.week = '2024-W46'"
        " WHERE r.kabkota_code <> '6474' AND r.barang = 'ss_gubernur' AND p.diterima_kabkota > 0"
        " ORDER BY 1 LIMIT 1").fetchall()[0]
    assert need > 0
    rows[0] |= {"kode_desa": desa, "barang": "ss_gubernur", "jumlah_kebutuhan": "0",
                "diterima_kabkota": "0", "diterima_ppk": "0", "diterima_pps": "0",
                "diterima_tps": "0", "rusak": "0", "catatan": ""}
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    batch = [replace(archive(f, settings_env.archive), received_at=ON_TIME)
             for f in list_inbox(settings_env.inbox)[0]
             if f.source_path.endswith("6474_logistik_2024-W47.csv")]
    own = ingest.batch_inputs(warehouse, batch, ["2024-W47"])
    assert set(own["ref.kebutuhan"]["kabkota_code"].to_pylist()) == {"6474"}
    assert set(own["core.logistik_current"]["kode_kabkota"].to_pylist()) == {"6474"}
    everyone = [c for (c,) in warehouse.execute("SELECT kabkota_code FROM ref.kabkota").fetchall()]
    whole = validate.validation_inputs(warehouse, "logistik", ["2024-W47"], everyone)
    assert whole["ref.kebutuhan"].num_rows > own["ref.kebutuhan"].num_rows
    assert whole["core.logistik_current"].num_rows > own["core.logistik_current"].num_rows

    facts = ingest.known(warehouse)

    def findings(inputs: dict) -> list[tuple]:
        (v,) = ingest.judge_batch(batch, settings_env, facts, inputs)
        return sorted((f.row or 0, f.column or "", f.rule, f.message) for f in v.findings)

    found = findings(own)
    assert found == findings(whole)
    on_row = {rule for row, _, rule, _ in found if row == 2}  # the first data row
    assert "kode_desa_valid" in on_row
    assert not on_row & {"cadangan_surat_suara", "kumulatif_tidak_turun"}


def _outcome(verdicts) -> dict[str, tuple]:
    return {v.archived.source.source_path: (
        v.verdict, v.reason,
        sorted((f.row or 0, f.column or "", f.rule, f.severity, f.message, f.effect, f.columns)
               for f in v.findings),
        None if v.rows is None else (v.rows.columns, v.rows.sort("_row").rows()))
        for v in verdicts}


def _rewrite(path: Path, edit) -> None:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows = edit(rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_a_kind_judged_in_one_pass_equals_each_file_judged_alone(warehouse, settings_env):
    """Typing, scrubbing and marking run once over a batch's files of a kind
    (`tasks.ingest.judge._typed`, `_marked`); every verdict, reason, finding and stored row is
    what judging each file alone gives, also when the files' columns differ (an optional column
    left out, columns that are not the contract's, one named like the pass's own `_file_id`),
    cells are unreadable or hold a name or NIP."""
    inbox = Path(settings_env.inbox)
    generate(inbox, ["2024-W47"])
    insiden = sorted(inbox.glob("*/*_insiden_2024-W47.csv"))
    assert len(insiden) >= 3
    _rewrite(insiden[0], lambda rows: [{k: v for k, v in r.items() if k != "kode_desa"}
                                       for r in rows])
    _rewrite(insiden[1], lambda rows: [
        r | {"_file_id": "99", "_row": "7", "lain": "x"} for r in rows])

    def hostile(rows: list[dict]) -> list[dict]:
        rows[0] |= {"korban_luka": "dua", "ringkasan": "Bapak Budi Santoso, S.Pd. melapor; "
                    "NIP 198501012010011001."}
        rows[-1] |= {"waktu_kejadian": "kemarin", "kode_kabkota": "6401"}
        return rows

    _rewrite(insiden[2], hostile)
    archived = [replace(archive(f, settings_env.archive), received_at=ON_TIME)
                for f in list_inbox(settings_env.inbox)[0]]
    facts = ingest.known(warehouse)
    checked = 0
    for batch in ingest.batches(archived):
        inputs = ingest.batch_inputs(warehouse, batch, ["2024-W47"])
        together = _outcome(ingest.judge_batch(batch, settings_env, facts, inputs))
        alone = _outcome(v for a in batch for v in ingest.judge_batch([a], settings_env, facts,
                                                                       inputs))
        assert together == alone
        checked += len(batch)
    assert checked == len(archived)
    found = _outcome(ingest.judge(warehouse, archived, settings_env))
    hostile_rules = {f[2] for f in found[str(insiden[2].relative_to(inbox))][2]}
    assert {"format_nilai", "nama_disamarkan", "nip_disamarkan"} <= hostile_rules, hostile_rules


def test_a_part_judged_on_one_connection_equals_its_batches_judged_alone(warehouse, settings_env):
    """`judge_batches` judges a part's batches on one in-memory DuckDB: each with its own
    inputs, the same verdicts, findings and rows as on a connection of its own."""
    generate(Path(settings_env.inbox), ["2024-W47"])
    # received at a fixed time: unset, each judging takes "now", and a late file's reason names
    # it to the minute, so the two judgings below differed when a minute turned between them
    archived = [replace(archive(f, settings_env.archive), received_at=ON_TIME)
                for f in list_inbox(settings_env.inbox)[0]]
    facts = ingest.known(warehouse)
    grouped = ingest.batches(archived)
    inputs = [ingest.batch_inputs(warehouse, b, ["2024-W47"]) for b in grouped]
    assert len({tuple(i) for i in inputs}) > 1  # the kinds read different relations
    shared = _outcome(ingest.judge_batches(grouped, settings_env, facts, inputs))
    alone = _outcome(v for b, i in zip(grouped, inputs, strict=True)
                     for v in ingest.judge_batch(b, settings_env, facts, i))
    assert shared == alone and len(shared) == len(archived)


def test_a_batch_never_sees_the_inputs_of_the_batch_before_it():
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    with validate.given(con, {"ref.desa": pa.table({"a": [1]})}):
        assert con.sql("SELECT a FROM ref.desa").fetchall() == [(1,)]
    with pytest.raises(duckdb.CatalogException):
        con.sql("SELECT * FROM ref.desa")
    with validate.given(con, {"ref.desa": pa.table({"a": [2]})}):  # the same name again
        assert con.sql("SELECT a FROM ref.desa").fetchall() == [(2,)]

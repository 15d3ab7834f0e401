"""One workbook, one send (issue 22): a week's workbook is one submission per kind sheet."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from reports.workbook_template import build_template
from tasks.contract.submission import KINDS, column_names
from tasks.ingest.pull import identify
from tests.pipeline import ingest
from tests.test_template import KAB, WEEK, _desk_rows, _friday, sample_dir  # noqa: F401

# the tests here run the ingest flow (tests/pipeline.py) on the session's Prefect server
pytestmark = pytest.mark.usefixtures("prefect_harness")


def _drop(settings, workbook: Path, name: str, at: float) -> Path:
    folder = Path(settings.inbox) / KAB
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(workbook, target)
    os.utime(target, (at, at))
    return target


def _ledger(con) -> list[tuple]:
    return con.execute(
        "SELECT kind, status, version, workbook, sheet, source_path, rows_total "
        "FROM audit.submission_status ORDER BY file_id").fetchall()


def test_identify_workbook_names():
    i = identify(f"{KAB}/{KAB}_{WEEK}.xlsx")
    assert (i.kabkota_code, i.kind, i.week, i.workbook, i.problem) == (KAB, None, WEEK, True, None)
    assert identify(f"{KAB}/{KAB}_{WEEK}_revisi.xlsx").workbook
    assert identify(f"{KAB}/{KAB}_{WEEK}_template.xlsx").workbook
    assert "hanya untuk buku kerja XLSX" in identify(f"{KAB}/{KAB}_{WEEK}.csv").problem
    assert "folder 6402/" in identify(f"6401/{KAB}_{WEEK}.xlsx").problem
    assert not identify(f"{KAB}/{KAB}_logistik_{WEEK}.xlsx").workbook  # single kind: as before


def test_one_workbook_six_submissions_and_a_correction(sample_dir, settings_env, warehouse,  # noqa: F811
                                                       tmp_path):
    """The desk sends the filled template once: six ledger rows, one per kind, each accepted
    with its own version and feedback; a corrected workbook later supersedes only the sheet
    that changed (the others are the same report: duplicates)."""
    fill = {kind: _desk_rows(sample_dir, kind) for kind in KINDS}
    book = build_template(KAB, WEEK, tmp_path / "filled", fill=fill)
    _drop(settings_env, book, f"{KAB}_{WEEK}.xlsx", _friday(WEEK))
    loaded = ingest(settings_env)
    verdicts = {v.kind: v for v in loaded}
    assert set(verdicts) == set(KINDS)
    for kind, v in verdicts.items():
        assert v.verdict == "accepted", (kind, v.reason, v.findings[:3])
        assert v.rows_total == len(fill[kind]), kind
    rows = _ledger(warehouse)
    assert len(rows) == 6
    for kind, status, version, workbook, sheet, source, _ in rows:
        assert (status, version, sheet) == ("accepted", 1, kind)
        assert workbook == f"{KAB}/{KAB}_{WEEK}.xlsx"
        assert source == f"{KAB}/{KAB}_{WEEK}.xlsx › {kind}"
    # the run wrote one note per sheet
    notes = sorted((settings_env.outbox / "feedback" / KAB).glob("*.umpan-balik.txt"))
    assert {n.name.split(".xlsx_")[1].split(".")[0] for n in notes} == set(KINDS)
    assert "Jenis laporan : logistik" in next(n for n in notes if "_logistik." in n.name
                                              ).read_text()

    # unchanged: a rerun reads nothing
    assert ingest(settings_env) == []

    # the correction: one logistik figure changed, everything else as it was
    fill["logistik"][0] = {**fill["logistik"][0],
                           "diterima_tps": (fill["logistik"][0]["diterima_tps"] or 0) + 1}
    fixed = build_template(KAB, WEEK, tmp_path / "fixed", fill=fill)
    _drop(settings_env, fixed, f"{KAB}_{WEEK}_revisi.xlsx", _friday(WEEK) + 3600)
    second = {v.kind: v.verdict for v in ingest(settings_env)}
    assert second == {**dict.fromkeys(KINDS, "duplicate"), "logistik": "accepted"}
    current = warehouse.execute(
        "SELECT kind, version, workbook FROM audit.submission_status WHERE status = 'accepted' "
        "ORDER BY kind").fetchall()
    assert dict((k, (v, w)) for k, v, w in current)["logistik"] == (
        2, f"{KAB}/{KAB}_{WEEK}_revisi.xlsx")
    assert len(current) == 6  # one current version per kind


def _book(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    """A workbook as a desk's own spreadsheet program might save it: named sheets, text cells."""
    with xlsxwriter.Workbook(path) as wb:
        for name, rows in sheets.items():
            ws = wb.add_worksheet(name)
            for r, row in enumerate(rows):
                ws.write_row(r, 0, row)
    return path


def test_missing_and_blank_sheets(settings_env, warehouse, tmp_path):
    """No logistik/keamanan sheet: not sent; a blank ringkasan sheet: not sent either (an empty
    summary would only be rejected); insiden with only its header, and netralitas and
    tindak_lanjut wholly blank: "nothing this week" (accepted, no rows)."""
    book = _book(tmp_path / "b.xlsx", {
        "Petunjuk": [["isi lembar laporan"]], "ringkasan": [],
        "insiden": [column_names("insiden")], "netralitas": [], "tindak_lanjut": []})
    _drop(settings_env, book, f"{KAB}_{WEEK}.xlsx", _friday(WEEK))
    got = {v.kind: (v.verdict, v.rows_total)
           for v in ingest(settings_env)}
    assert got == {k: ("accepted", 0) for k in ("insiden", "netralitas", "tindak_lanjut")}


def test_hostile_or_empty_workbook_costs_only_itself(settings_env, warehouse, tmp_path):
    """A zip bomb named as a workbook, and a workbook with no kind sheet: each one rejected row
    with the reason; a single-kind file sent beside them is judged as usual."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * 300_000_000)
    folder = Path(settings_env.inbox) / KAB
    folder.mkdir(parents=True)
    (folder / f"{KAB}_{WEEK}.xlsx").write_bytes(bomb.getvalue())
    _book(folder / f"{KAB}_{WEEK}_lain.xlsx", {"Sheet1": [column_names("insiden")]})
    (folder / f"{KAB}_insiden_{WEEK}.csv").write_text(",".join(column_names("insiden")) + "\n")
    for p in folder.iterdir():
        os.utime(p, (_friday(WEEK), _friday(WEEK)))
    got = {v.source_path: v for v in ingest(settings_env)}
    assert "terlalu besar" in got[f"{KAB}/{KAB}_{WEEK}.xlsx"].reason
    assert "lembar" in got[f"{KAB}/{KAB}_{WEEK}_lain.xlsx"].reason
    assert got[f"{KAB}/{KAB}_insiden_{WEEK}.csv"].verdict == "accepted"


@pytest.mark.parametrize("name", [f"{KAB}_ringkasan_{WEEK}.xlsx"])
def test_single_kind_workbook_still_one_kind(sample_dir, settings_env, warehouse, tmp_path,  # noqa: F811
                                             name):
    book = build_template(KAB, WEEK, tmp_path, fill={"ringkasan": _desk_rows(sample_dir,
                                                                             "ringkasan")})
    _drop(settings_env, book, name, _friday(WEEK))
    got = [(v.kind, v.verdict, v.sheet)
           for v in ingest(settings_env)]
    assert got == [("ringkasan", "accepted", None)]

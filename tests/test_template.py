"""Prefilled desk templates (issues 11, 18): the workbook the template builder writes, filled
with a desk's figures by the same code path, is accepted by the pipeline for every kind; values
pasted past the dropdowns are still caught; the XLSX carries its validations, protection and
frozen panes; the previous week's accepted figures and open items (incidents, cases, follow-ups)
are carried forward; the provincial desk gets its own follow-up workbook; LibreOffice opens and
resaves it and the result is accepted."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import fastexcel
import pytest
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from reports.workbook_template import (
    DAFTAR,
    FINAL_STATUS_INSIDEN,
    FINAL_TAHAP,
    FINAL_TINDAK_LANJUT,
    PETUNJUK,
    build_all,
    build_template,
    template_name,
)
from samples.kaltim import generate
from tasks.config import WITA
from tasks.contract.submission import (
    COLUMNS,
    ENUM_COLUMNS,
    ENUMS,
    KINDS,
    REQUIRED_KINDS,
    TINDAK_LANJUT_OPEN,
)
from tasks.ingest.parse import ROW, read_table, type_columns
from tasks.weeks import week_start
from tests.pipeline import Judged, ingest

# the tests here run the ingest flow (tests/pipeline.py) on the session's Prefect server
pytestmark = pytest.mark.usefixtures("prefect_harness")

KAB, WEEK, PREV = "6402", "2024-W47", "2024-W46"
PROV = "64"


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, [PREV, WEEK])
    return out


def _sample_rows(sample_dir: Path, kind: str, week: str = WEEK) -> list[dict]:
    """The sample desk's figures for one kind, typed as the pipeline reads them."""
    data = (sample_dir / KAB / f"{KAB}_{kind}_{week}.csv").read_bytes()
    typed, issues = type_columns(read_table(data, "csv", kind), kind)
    assert not issues
    return typed.drop(ROW).to_dicts()


def _follow_up(kab: str, n: int, status: str, decided: date, **more) -> dict:
    """One follow-up as a desk types it (contract columns, typed)."""
    return {"kode_kabkota": kab, "id_tindak_lanjut": f"TL-{kab}-{n:04d}",
            "tanggal_keputusan": decided, "forum": "desk_pilkada", "bidang": "logistik",
            "isu": f"Kotak suara rusak di gudang ({n})", "tindakan": "Kirim kotak pengganti",
            "instansi": "kpu", "tenggat": decided + timedelta(days=10), "status": status,
            "tanggal_status": decided + timedelta(days=2), "catatan": None} | more


def _follow_ups(kab: str = KAB) -> list[dict]:
    """The desk's follow-ups of WEEK. Built here, not taken from the sample generator, so these
    tests do not depend on what (if anything) the sample says about follow-ups."""
    return [
        _follow_up(kab, 1, "berjalan", date(2024, 11, 11)),
        _follow_up(kab, 2, "selesai", date(2024, 11, 18), forum="rakor_forkopimda",
                   bidang="keamanan", instansi="polri", catatan="Tambahan 40 personel"),
        _follow_up(kab, 3, "baru", date(2024, 11, 20), bidang="netralitas",
                   instansi="bawaslu", tenggat=date(2024, 11, 27)),
    ]


def _desk_rows(sample_dir: Path, kind: str) -> list[dict]:
    """A desk's week for one kind: the sample's, and our own follow-ups."""
    return _follow_ups() if kind == "tindak_lanjut" else _sample_rows(sample_dir, kind)


def _csv(rows: list[dict], kind: str) -> bytes:
    """Rows as a desk's CSV file (dates ISO, empty cells for None)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, [c.name for c in COLUMNS[kind]])
    w.writeheader()
    w.writerows({k: "" if v is None else str(v) for k, v in r.items()} for r in rows)
    return buf.getvalue().encode()


def _sheet(path: Path, kind: str) -> list[dict]:
    """A sheet of a workbook as the pipeline reads it (typed, with `_row`)."""
    typed, issues = type_columns(read_table(path.read_bytes(), "xlsx", kind), kind)
    assert not issues
    return typed.to_dicts()


def _friday(week: str) -> float:
    """Friday 09:30 WITA of the week (before the Saturday deadline), as a file time."""
    return datetime.combine(week_start(week) + timedelta(days=4), time(9, 30), WITA).timestamp()


def _send(settings, workbook: Path, kinds, week: str = WEEK, kab: str = KAB) -> None:
    """Drop the workbook into the inbox once per kind, under that kind's file name, stamped
    Friday morning (before the Saturday deadline)."""
    folder = Path(settings.inbox) / kab
    folder.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        target = folder / f"{kab}_{kind}_{week}{workbook.suffix}"
        shutil.copyfile(workbook, target)
        os.utime(target, (_friday(week), _friday(week)))


def _send_csv(settings, kab: str, week: str, rows: list[dict]) -> None:
    """An earlier follow-up report, sent as the desk's own CSV file."""
    folder = Path(settings.inbox) / kab
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{kab}_tindak_lanjut_{week}.csv"
    target.write_bytes(_csv(rows, "tindak_lanjut"))
    os.utime(target, (_friday(week), _friday(week)))


def _text(path: Path, sheet: str) -> str:
    """Every non-empty cell of a sheet, joined (for the Petunjuk's wording)."""
    frame = fastexcel.read_excel(path.read_bytes()).load_sheet(sheet, header_row=None).to_polars()
    return " ".join(str(v) for row in frame.iter_rows() for v in row if v)


def _ingest(con, settings) -> dict[str, Judged]:
    return {v.kind: v for v in ingest(settings)}


def _assert_clean(verdicts: dict[str, Judged], kinds) -> None:
    for kind in kinds:
        v = verdicts[kind]
        assert v.verdict == "accepted", (kind, v.reason, v.findings[:5])
        assert v.findings == [], (kind, v.findings[:5])
        assert not v.is_late, kind


# --------------------------------------------------------------------------------------------


def test_round_trip_every_kind(sample_dir, settings_env, warehouse, tmp_path):
    """The desk fills the template with its week's figures (same builder, `fill`), saves the one
    workbook under the six file names: every kind is accepted with no finding, figures intact."""
    fill = {kind: _desk_rows(sample_dir, kind) for kind in KINDS}
    assert all(fill.values()), "the sample week must have rows of every kind"
    path = build_template(KAB, WEEK, tmp_path / "filled", fill=fill)
    assert path.name == template_name(KAB, WEEK) == f"{KAB}_{WEEK}_template.xlsx"

    _send(settings_env, path, KINDS)
    verdicts = _ingest(warehouse, settings_env)
    assert set(verdicts) == set(KINDS)
    _assert_clean(verdicts, KINDS)
    for kind in KINDS:
        assert verdicts[kind].rows_total == len(fill[kind]), kind

    # the figures arrive as the desk typed them
    for kind, key, value in (("logistik", "kode_desa", "diterima_tps"),
                             ("keamanan", "kode_kecamatan", "personel_linmas"),
                             ("insiden", "id_insiden", "waktu_kejadian"),
                             ("netralitas", "id_kasus", "tanggal_tahap"),
                             ("tindak_lanjut", "id_tindak_lanjut", "tenggat")):
        got = dict(warehouse.execute(
            f"SELECT {key} || '|' || coalesce(barang, ''), {value} FROM core.{kind}_current "
            "WHERE week = ?" if kind == "logistik" else
            f"SELECT {key}, {value} FROM core.{kind}_current WHERE week = ?", [WEEK]).fetchall())
        want = {(f"{r[key]}|{r['barang']}" if kind == "logistik" else r[key]): r[value]
                for r in fill[kind]}
        assert got == want, kind
    narasi = warehouse.execute("SELECT narasi FROM core.ringkasan_current WHERE week = ?",
                               [WEEK]).fetchall()
    assert narasi == [(fill["ringkasan"][0]["narasi"],)]


def test_blank_item_sheets_are_valid_empty_reports(settings_env, warehouse, tmp_path):
    """Nothing happened this week: the untouched insiden/netralitas/tindak_lanjut sheets (their
    kode_kabkota formulas evaluate to empty) are accepted as empty reports, not as rows of
    blanks."""
    kinds = ("insiden", "netralitas", "tindak_lanjut")
    path = build_template("6474", WEEK, tmp_path)
    assert all(_sheet(path, kind) == [] for kind in kinds)
    _send(settings_env, path, kinds, kab="6474")
    verdicts = _ingest(warehouse, settings_env)
    _assert_clean(verdicts, kinds)
    assert all(verdicts[kind].rows_total == 0 for kind in kinds)


def test_value_outside_dropdown_is_flagged(sample_dir, settings_env, warehouse, tmp_path):
    """Excel's list validation does not stop a pasted value: the pipeline still flags the row."""
    logistik = _sample_rows(sample_dir, "logistik")
    target = logistik[10]
    target["moda_angkut"] = "perahu_motor"
    insiden = _sample_rows(sample_dir, "insiden")
    insiden[0]["kategori"] = "tawuran"
    follow_ups = _follow_ups()
    follow_ups[1]["instansi"] = "satpol_pp"
    path = build_template(KAB, WEEK, tmp_path, fill={"logistik": logistik, "insiden": insiden,
                                                    "tindak_lanjut": follow_ups})

    rows = _sheet(path, "logistik")
    excel_row = next(r[ROW] for r in rows if (r["kode_desa"], r["barang"])
                     == (target["kode_desa"], target["barang"]))
    assert excel_row > 3  # below the title, hint and header rows
    incident_row = next(r[ROW] for r in _sheet(path, "insiden")
                        if r["id_insiden"] == insiden[0]["id_insiden"])
    follow_up_row = next(r[ROW] for r in _sheet(path, "tindak_lanjut")
                         if r["id_tindak_lanjut"] == follow_ups[1]["id_tindak_lanjut"])

    _send(settings_env, path, ("logistik", "insiden", "tindak_lanjut"))
    verdicts = _ingest(warehouse, settings_env)
    for kind, column, row in (("logistik", "moda_angkut", excel_row),
                              ("insiden", "kategori", incident_row),
                              ("tindak_lanjut", "instansi", follow_up_row)):
        v = verdicts[kind]
        assert v.verdict == "accepted_with_flags", (kind, v.reason)
        assert [(f.row, f.column, f.rule) for f in v.findings] == [
            (row, column, f"pilihan_{column}")], kind


def test_previous_week_carried_forward(sample_dir, settings_env, warehouse, tmp_path):
    """With last week's accepted reports in the warehouse, the template carries the cumulative
    figures and the open incidents/cases/follow-ups (not the closed ones); filled with this
    week's figures it passes the cross-week rules (quantities do not fall, statuses do not move
    back, an open follow-up is not dropped)."""
    inbox = Path(settings_env.inbox) / KAB
    inbox.mkdir(parents=True)
    for kind in REQUIRED_KINDS:  # the sample's; its follow-ups (if any) are not ours
        for f in (sample_dir / KAB).glob(f"{KAB}_{kind}_{PREV}*"):
            shutil.copy2(f, inbox / f.name)
    earlier = [  # two open, two closed follow-ups; 0001 moves on this week (_follow_ups)
        _follow_up(KAB, 1, "baru", date(2024, 11, 11)),
        _follow_up(KAB, 4, "terkendala", date(2024, 11, 4), bidang="partisipasi",
                   instansi="diskominfo", catatan="anggaran belum cair"),
        _follow_up(KAB, 8, "selesai", date(2024, 11, 5)),
        _follow_up(KAB, 9, "dibatalkan", date(2024, 11, 6), catatan="digabung ke TL-6402-0001"),
    ]
    _send_csv(settings_env, KAB, PREV, earlier)
    first = {v.source_path: v for v in ingest(settings_env)}
    # the sample's deliberate resubmission: a flawed keamanan file, then its _revisi
    assert first.pop(f"{KAB}/{KAB}_keamanan_{PREV}.csv").verdict == "accepted_with_flags"
    assert {v.verdict for v in first.values()} == {"accepted"} and len(first) == 6
    assert first[f"{KAB}/{KAB}_tindak_lanjut_{PREV}.csv"].findings == []

    path = build_template(KAB, WEEK, tmp_path / "blank", con=warehouse)
    got = {(r["kode_desa"], r["barang"]): r for r in _sheet(path, "logistik")}
    cols = ("diterima_kabkota", "diterima_ppk", "diterima_pps", "diterima_tps", "rusak",
            "tps_lengkap", "moda_angkut")
    prev = warehouse.execute(
        f"SELECT kode_desa, barang, {', '.join(cols)} FROM core.logistik_current "
        "WHERE week = ? AND kode_kabkota = ?", [PREV, KAB]).fetchall()
    assert len(prev) == len(got) > 0
    for desa, barang, *values in prev:
        assert tuple(got[(desa, barang)][c] for c in cols) == tuple(values)

    keamanan = {r["kode_kecamatan"]: r for r in _sheet(path, "keamanan")}
    for kec, polri, linmas, rawan in warehouse.execute(
            "SELECT kode_kecamatan, personel_polri, personel_linmas, tps_rawan "
            "FROM core.keamanan_current WHERE week = ?", [PREV]).fetchall():
        assert (keamanan[kec]["personel_polri"], keamanan[kec]["personel_linmas"],
                keamanan[kec]["tps_rawan"]) == (polri, linmas, rawan)
    ringkasan = _sheet(path, "ringkasan")
    assert ringkasan[0]["unit_pelapor"] == _sample_rows(sample_dir, "ringkasan", PREV)[0][
        "unit_pelapor"]
    assert ringkasan[0]["narasi"] is None  # written fresh every week

    for kind, key, state, final in (("insiden", "id_insiden", "status", FINAL_STATUS_INSIDEN),
                                    ("netralitas", "id_kasus", "tahap", FINAL_TAHAP)):
        open_before = {r[key]: r for r in _sample_rows(sample_dir, kind, PREV)
                       if r[state] not in final}
        carried = {r[key]: r for r in _sheet(path, kind)}
        assert set(carried) == set(open_before), kind
        for k, r in carried.items():
            assert r["kode_kabkota"] == KAB  # the default formula's value
            assert {c: r[c] for c in open_before[k]} == open_before[k]

    # follow-ups: the open ones, whole, in decision order; the closed ones stay behind
    assert {"selesai", "dibatalkan"} == FINAL_TINDAK_LANJUT
    carried = _sheet(path, "tindak_lanjut")
    assert [r["id_tindak_lanjut"] for r in carried] == ["TL-6402-0004", "TL-6402-0001"]
    assert [{k: v for k, v in r.items() if k != ROW} for r in carried] == [
        earlier[1], earlier[0]]
    assert all(r["status"] in TINDAK_LANJUT_OPEN for r in carried)
    petunjuk = _text(path, PETUNJUK)
    assert "2 tindak lanjut yang masih terbuka" in petunjuk

    fill = {kind: _desk_rows(sample_dir, kind) for kind in KINDS}
    filled = build_template(KAB, WEEK, tmp_path / "filled", con=warehouse, fill=fill)
    _send(settings_env, filled, KINDS)
    verdicts = _ingest(warehouse, settings_env)
    _assert_clean(verdicts, KINDS)
    # carried incidents the desk left untouched are resent as they were: harmless
    assert verdicts["insiden"].rows_total >= len(fill["insiden"])
    # ... and so is the untouched open follow-up 0004, which must not vanish while open
    now = dict(warehouse.execute(
        "SELECT id_tindak_lanjut, status FROM core.tindak_lanjut_current WHERE week = ?",
        [WEEK]).fetchall())
    assert now == {"TL-6402-0001": "berjalan", "TL-6402-0002": "selesai",
                   "TL-6402-0003": "baru", "TL-6402-0004": "terkendala"}

    # the next week's template carries what is still open after this week's report
    after = build_template(KAB, "2024-W48", tmp_path / "next", con=warehouse)
    assert [r["id_tindak_lanjut"] for r in _sheet(after, "tindak_lanjut")] == [
        "TL-6402-0004", "TL-6402-0001", "TL-6402-0003"]


# --------------------------------------------------------------------------------------------
# The workbook itself


def _sheet_xml(path: Path) -> dict[str, str]:
    """Sheet name -> its worksheet XML (xlsxwriter numbers sheets in tab order)."""
    with zipfile.ZipFile(path) as z:
        names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
        return {n: z.read(f"xl/worksheets/sheet{i}.xml").decode()
                for i, n in enumerate(names, start=1)}


def _validations(xml: str) -> list[tuple[str, str, str]]:
    """(type, operator, formula1) of every data validation."""
    out = []
    for attrs, body in re.findall(r"<dataValidation ([^>]*)>(.*?)</dataValidation>", xml):
        kind = re.search(r'type="(\w+)"', attrs)
        op = re.search(r'operator="(\w+)"', attrs)
        f1 = re.search(r"<formula1>(.*?)</formula1>", body)
        out.append((kind[1] if kind else "", op[1] if op else "", f1[1] if f1 else ""))
    return out


def _list_sources(xml: str) -> dict[str, str]:
    """Column letter -> formula1 of the list validation that starts on the first data row."""
    out = {}
    for attrs, body in re.findall(r'<dataValidation (type="list"[^>]*)>(.*?)</dataValidation>',
                                  xml):
        ref = re.search(r'sqref="([A-Z]+)4:', attrs)
        out[ref[1]] = re.search(r"<formula1>(.*?)</formula1>", body)[1]
    return out


def _dropdown(path: Path, kind: str, column: str) -> list[str]:
    """The values a column's list validation offers, read from the hidden daftar sheet."""
    lists = _list_sources(_sheet_xml(path)[kind])
    letter = xl_col_to_name([c.name for c in COLUMNS[kind]].index(column))
    src = re.fullmatch(r"daftar!\$([A-Z]+)\$(\d+):\$\1\$(\d+)", lists[letter])
    assert src, (kind, column, lists.get(letter))
    daftar = fastexcel.read_excel(path.read_bytes()).load_sheet(DAFTAR, header_row=None)
    values = daftar.to_polars()[:, xl_cell_to_rowcol(f"{src[1]}1")[1]].to_list()
    return values[int(src[2]) - 1:int(src[3])]


def test_workbook_structure(tmp_path):
    path = build_template(KAB, WEEK, tmp_path)
    reader = fastexcel.read_excel(path.read_bytes())
    assert reader.sheet_names == [PETUNJUK, *KINDS, DAFTAR]
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert re.search(rf'<sheet name="{DAFTAR}" sheetId="\d+" state="hidden"', workbook)
    assert '<protection locked="0"/>' in styles  # input cells are unlocked

    xml = _sheet_xml(path)
    for kind in KINDS:
        sheet = xml[kind]
        found = _validations(sheet)
        lists = [f for t, _, f in found if t == "list"]
        assert all(f.startswith(f"{DAFTAR}!$") for f in lists), kind
        assert len(lists) >= len(ENUM_COLUMNS[kind]), kind
        n_int = sum(c.type == "int" for c in COLUMNS[kind])
        assert found.count(("whole", "greaterThanOrEqual", "0")) == n_int, kind
        n_dates = sum(c.type in ("date", "datetime") for c in COLUMNS[kind])
        # "between" is the default operator, so the XML leaves it out
        assert sum(t == "date" and op == "" for t, op, _ in found) == n_dates, kind
        assert re.search(r"<sheetProtection [^>]*sheet=\"1\"", sheet), kind
        assert "password" not in sheet.split("<sheetProtection", 1)[1].split("/>", 1)[0]
        assert re.search(r'<pane [^>]*ySplit="3"[^>]*state="frozen"', sheet), kind
        assert "<cols>" in sheet, kind  # column widths
    assert re.search(r'<dataValidation type="textLength"[^>]*>.*?<formula2>2000</formula2>',
                     xml["ringkasan"])
    assert any(t == "custom" for t, _, _ in _validations(xml["netralitas"]))  # ref_subjek

    # every enumerated column's dropdown holds exactly its enumeration, from the daftar sheet
    for kind in KINDS:
        for column, enum in ENUM_COLUMNS[kind].items():
            assert _dropdown(path, kind, column) == list(ENUMS[enum]), (kind, column)
    assert _dropdown(path, "tindak_lanjut", "kode_kabkota") == [KAB]
    text = _text(path, PETUNJUK)
    for kind in KINDS:
        assert f"{KAB}_{kind}_{WEEK}.xlsx" in text
    for phrase in ("Sabtu, 23 November 2024 pukul 12.00 WITA", "JANGAN PERNAH nama atau NIP",
                   "cadangan 2,5 %", "revisi", "dikirim SATU KALI",
                   f"dengan nama {KAB}_{WEEK}.xlsx", "lampiran surel",
                   "Laporan tindak_lanjut tidak wajib: lembar kosong",
                   "sampai berstatus selesai atau dibatalkan", "TL-6402-0001",
                   "paling lambat 2024-11-25"):
        assert phrase in text, phrase

    # tindak_lanjut: frozen right of kode_kabkota and the id; a date before the decision is red
    assert re.search(r'<pane xSplit="2" ySplit="3"', xml["tindak_lanjut"])
    for column in ("tenggat", "tanggal_status"):
        letter = xl_col_to_name([c.name for c in COLUMNS["tindak_lanjut"]].index(column))
        assert re.search(rf'<conditionalFormatting sqref="{letter}4:{letter}\d+">.*?'
                         rf"{letter}4&lt;\$C4", xml["tindak_lanjut"]), column


def test_template_is_deterministic_and_checks_its_arguments(tmp_path):
    a = build_template("6409", WEEK, tmp_path / "a").read_bytes()
    b = build_template("6409", WEEK, tmp_path / "b").read_bytes()
    assert a == b
    with pytest.raises(ValueError, match="tidak dikenal"):
        build_template("6499", WEEK, tmp_path)
    with pytest.raises(ValueError):
        build_template(KAB, "2024-47", tmp_path)


def test_build_all(tmp_path):
    """Every desk of the area: the provincial desk, then the ten kab/kota."""
    out = tmp_path / "templates" / WEEK
    paths = build_all(WEEK, out)
    assert [p.name for p in paths] == [
        template_name(c, WEEK) for c in (PROV, "6401", "6402", "6403", "6407", "6408", "6409",
                                         "6411", "6471", "6472", "6474")]
    assert all(p.parent == out for p in paths)
    assert fastexcel.read_excel(paths[0].read_bytes()).sheet_names == [
        PETUNJUK, "tindak_lanjut", DAFTAR]
    for p in paths[1:]:
        rows = _sheet(p, "logistik")
        kab = p.name[:4]
        assert {r["kode_kabkota"] for r in rows} == {kab}
        assert {r["kode_kecamatan"][:4] for r in _sheet(p, "keamanan")} == {kab}


def test_provincial_desk_workbook(settings_env, warehouse, tmp_path):
    """The provincial desk (sender 64) gets a workbook with the tindak_lanjut sheet only,
    prefilled with its own open follow-ups (naming a kab/kota or the province itself), with
    kode_kabkota chosen per row from the province's codes; filled and sent as
    64/64_tindak_lanjut_<week>.xlsx it is accepted with no finding. History is per sender: a
    kab/kota's template does not carry the province's follow-ups about that kab/kota."""
    earlier = [
        _follow_up(PROV, 1, "berjalan", date(2024, 11, 12), kode_kabkota=KAB,
                   forum="rakor_forkopimda", instansi="dishub"),
        _follow_up(PROV, 2, "baru", date(2024, 11, 13), kode_kabkota=PROV, bidang="keamanan",
                   instansi="polri"),
        _follow_up(PROV, 3, "selesai", date(2024, 11, 11), kode_kabkota="6471"),
    ]
    _send_csv(settings_env, PROV, PREV, earlier)
    _assert_clean(_ingest(warehouse, settings_env), ["tindak_lanjut"])

    path = build_template(PROV, WEEK, tmp_path / "blank", con=warehouse)
    assert path.name == f"{PROV}_{WEEK}_template.xlsx"
    assert fastexcel.read_excel(path.read_bytes()).sheet_names == [
        PETUNJUK, "tindak_lanjut", DAFTAR]
    carried = [{k: v for k, v in r.items() if k != ROW} for r in _sheet(path, "tindak_lanjut")]
    assert carried == earlier[:2]  # the open ones, as last reported; 0003 was closed

    # dropdowns: the province and its ten kab/kota, and each enumeration
    assert _dropdown(path, "tindak_lanjut", "kode_kabkota") == [
        PROV, "6401", "6402", "6403", "6407", "6408", "6409", "6411", "6471", "6472", "6474"]
    for column, enum in ENUM_COLUMNS["tindak_lanjut"].items():
        assert _dropdown(path, "tindak_lanjut", column) == list(ENUMS[enum]), column
    xml = _sheet_xml(path)["tindak_lanjut"]
    assert "<f>" not in xml  # no kode_kabkota formula: the desk picks the kab/kota per row
    assert re.search(r"<sheetProtection [^>]*sheet=\"1\"", xml)
    assert re.search(r'<pane xSplit="2" ySplit="3"[^>]*state="frozen"', xml)
    text = _text(path, PETUNJUK)
    for phrase in ("Provinsi Kalimantan Timur (64)", f"{PROV}_tindak_lanjut_{WEEK}.xlsx",
                   "folder 64/", "2 tindak lanjut yang masih terbuka", "TL-64-0001",
                   "atau 64 (tingkat provinsi)"):
        assert phrase in text, phrase
    for phrase in ("per_tanggal", "diterima_kabkota"):  # the kab/kota's reports
        assert phrase not in text, phrase
    assert _sheet(build_template(KAB, WEEK, tmp_path / "kab", con=warehouse),
                  "tindak_lanjut") == []

    done = {**earlier[0], "status": "selesai", "tanggal_status": date(2024, 11, 19)}
    fill = {"tindak_lanjut": [
        done,
        _follow_up(PROV, 4, "baru", date(2024, 11, 19), kode_kabkota="6474", instansi="bpbd"),
        _follow_up(PROV, 5, "berjalan", date(2024, 11, 18), kode_kabkota=PROV,
                   forum="lainnya", bidang="partisipasi", instansi="kesbangpol"),
    ]}
    filled = build_template(PROV, WEEK, tmp_path / "filled", con=warehouse, fill=fill)
    _send(settings_env, filled, ["tindak_lanjut"], kab=PROV)
    verdicts = _ingest(warehouse, settings_env)
    _assert_clean(verdicts, ["tindak_lanjut"])
    got = warehouse.execute(
        "SELECT id_tindak_lanjut, pengirim, kode_kabkota, status FROM core.tindak_lanjut_current "
        "WHERE week = ? ORDER BY 1", [WEEK]).fetchall()
    assert got == [("TL-64-0001", PROV, KAB, "selesai"), ("TL-64-0002", PROV, PROV, "baru"),
                   ("TL-64-0004", PROV, "6474", "baru"), ("TL-64-0005", PROV, PROV, "berjalan")]

    with pytest.raises(ValueError, match="tidak memuat lembar logistik"):
        build_template(PROV, WEEK, tmp_path, fill={"logistik": []})
    with pytest.raises(ValueError, match="kode provinsi '99' tidak dikenal"):
        build_template("99", WEEK, tmp_path)


@pytest.mark.office
def test_libreoffice_opens_the_workbook(sample_dir, settings_env, warehouse, tmp_path):
    """LibreOffice reads the workbook: the first sheet converts to a CSV with content, and a
    filled workbook resaved by LibreOffice still reads the same through the parser and, sent
    under the six file names, is accepted with no finding."""
    soffice = shutil.which("libreoffice") or shutil.which("soffice")
    assert soffice, ("LibreOffice is required for this test: `make test` installs the Debian "
                     "package libreoffice-calc-nogui")
    fill = {kind: _desk_rows(sample_dir, kind) for kind in KINDS}
    path = build_template(KAB, WEEK, tmp_path / "in", fill=fill)
    profile = (tmp_path / "lo-profile").as_uri()

    def convert(fmt: str, outdir: Path) -> Path:
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless",
                        "--convert-to", fmt, "--outdir", str(outdir), str(path)],
                       check=True, capture_output=True, timeout=180)
        return outdir / f"{path.stem}.{fmt.split(':')[0]}"

    csv = convert("csv", tmp_path / "csv")
    assert "Templat laporan mingguan Desk Pilkada" in csv.read_text(encoding="utf-8",
                                                                    errors="replace")
    resaved = convert("xlsx", tmp_path / "lo")
    for kind in KINDS:
        assert ([{k: v for k, v in r.items() if k != ROW} for r in _sheet(resaved, kind)]
                == fill[kind]), kind
    _send(settings_env, resaved, KINDS)
    _assert_clean(_ingest(warehouse, settings_env), KINDS)

    # "save each sheet as CSV" (the other way Petunjuk offers): every sheet, one CSV each
    convert("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            tmp_path / "sheets")
    for kind in KINDS:
        data = (tmp_path / "sheets" / f"{path.stem}-{kind}.csv").read_bytes()
        typed, issues = type_columns(read_table(data, "csv", kind), kind)
        assert not issues and typed.drop(ROW).to_dicts() == fill[kind], kind


def test_open_follow_up_without_a_valid_deadline_is_carried_over():
    """A follow-up whose `tenggat` a rule took out of the figures (NULL in core) is still carried
    into next week's sheet, its note asking for the deadline, instead of the template failing."""
    from reports.workbook_template import _open_items

    names = [c.name for c in COLUMNS["tindak_lanjut"]]
    row = {**dict.fromkeys(names), "week": "2024-W47", "id_tindak_lanjut": "TL-1",
           "status": "berjalan", "tenggat": None}
    (sheet_row,) = _open_items("tindak_lanjut", [row]).rows
    assert "tenggat belum diisi dengan benar" in sheet_row.info[0]
    dated = _open_items("tindak_lanjut", [{**row, "tenggat": date(2024, 11, 25)}]).rows[0]
    assert "tenggat 2024-11-25" in dated.info[0]

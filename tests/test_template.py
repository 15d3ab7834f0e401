"""Prefilled desk templates (issue 11): the workbook the template builder writes, filled with a
desk's figures by the same code path, is accepted by the pipeline for every kind; values pasted
past the dropdowns are still caught; the XLSX carries its validations, protection and frozen
panes; the previous week's accepted figures are carried forward; LibreOffice opens it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from datetime import datetime, time, timedelta
from pathlib import Path

import fastexcel
import pytest
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from tasks.config import WITA
from tasks.contract import COLUMNS, ENUM_COLUMNS, ENUMS, KINDS
from tasks.ingest import ingest_inbox
from tasks.load import Verdict
from tasks.parse import ROW, read_table, type_columns
from tasks.sample import generate
from tasks.template import (
    DAFTAR,
    FINAL_STATUS_INSIDEN,
    FINAL_TAHAP,
    PETUNJUK,
    build_all,
    build_template,
    template_name,
)
from tasks.weeks import week_start

KAB, WEEK, PREV = "6402", "2024-W47", "2024-W46"


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


def _sheet(path: Path, kind: str) -> list[dict]:
    """A sheet of a workbook as the pipeline reads it (typed, with `_row`)."""
    typed, issues = type_columns(read_table(path.read_bytes(), "xlsx", kind), kind)
    assert not issues
    return typed.to_dicts()


def _send(settings, workbook: Path, kinds, week: str = WEEK, kab: str = KAB) -> None:
    """Drop the workbook into the inbox once per kind, under that kind's file name, stamped
    Friday morning (before the Saturday deadline)."""
    folder = Path(settings.inbox) / kab
    folder.mkdir(parents=True, exist_ok=True)
    sent = datetime.combine(week_start(week) + timedelta(days=4), time(9, 30), WITA).timestamp()
    for kind in kinds:
        target = folder / f"{kab}_{kind}_{week}{workbook.suffix}"
        shutil.copyfile(workbook, target)
        os.utime(target, (sent, sent))


def _ingest(con, settings) -> dict[str, Verdict]:
    return {v.archived.identity.kind: v for _, v in ingest_inbox(con, settings)}


def _assert_clean(verdicts: dict[str, Verdict], kinds) -> None:
    for kind in kinds:
        v = verdicts[kind]
        assert v.verdict == "accepted", (kind, v.reason, v.findings[:5])
        assert v.findings == [], (kind, v.findings[:5])
        assert not v.is_late, kind


# --------------------------------------------------------------------------------------------


def test_round_trip_every_kind(sample_dir, settings_env, warehouse, tmp_path):
    """The desk fills the template with its week's figures (same builder, `fill`), saves the one
    workbook under the five file names: every kind is accepted with no finding, figures intact."""
    fill = {kind: _sample_rows(sample_dir, kind) for kind in KINDS}
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
                             ("netralitas", "id_kasus", "tanggal_tahap")):
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


def test_blank_incident_and_case_sheets_are_valid_empty_reports(settings_env, warehouse,
                                                                tmp_path):
    """Nothing happened this week: the untouched insiden/netralitas sheets (their kode_kabkota
    formulas evaluate to empty) are accepted as empty reports, not as rows of blanks."""
    path = build_template("6474", WEEK, tmp_path)
    assert _sheet(path, "insiden") == [] and _sheet(path, "netralitas") == []
    _send(settings_env, path, ("insiden", "netralitas"), kab="6474")
    verdicts = _ingest(warehouse, settings_env)
    _assert_clean(verdicts, ("insiden", "netralitas"))
    assert verdicts["insiden"].rows_total == verdicts["netralitas"].rows_total == 0


def test_value_outside_dropdown_is_flagged(sample_dir, settings_env, warehouse, tmp_path):
    """Excel's list validation does not stop a pasted value: the pipeline still flags the row."""
    logistik = _sample_rows(sample_dir, "logistik")
    target = logistik[10]
    target["moda_angkut"] = "perahu_motor"
    insiden = _sample_rows(sample_dir, "insiden")
    insiden[0]["kategori"] = "tawuran"
    path = build_template(KAB, WEEK, tmp_path, fill={"logistik": logistik, "insiden": insiden})

    rows = _sheet(path, "logistik")
    excel_row = next(r[ROW] for r in rows if (r["kode_desa"], r["barang"])
                     == (target["kode_desa"], target["barang"]))
    assert excel_row > 3  # below the title, hint and header rows
    incident_row = next(r[ROW] for r in _sheet(path, "insiden")
                        if r["id_insiden"] == insiden[0]["id_insiden"])

    _send(settings_env, path, ("logistik", "insiden"))
    verdicts = _ingest(warehouse, settings_env)
    for kind, column, row in (("logistik", "moda_angkut", excel_row),
                              ("insiden", "kategori", incident_row)):
        v = verdicts[kind]
        assert v.verdict == "accepted_with_flags", (kind, v.reason)
        assert [(f.row, f.column, f.rule) for f in v.findings] == [
            (row, column, f"pilihan_{column}")], kind


def test_previous_week_carried_forward(sample_dir, settings_env, warehouse, tmp_path):
    """With last week's accepted reports in the warehouse, the template carries the cumulative
    figures and the open incidents/cases; filled with this week's figures it passes the
    cross-week rules (quantities do not fall, statuses do not move back)."""
    inbox = Path(settings_env.inbox) / KAB
    inbox.mkdir(parents=True)
    for f in (sample_dir / KAB).glob(f"*_{PREV}*"):
        shutil.copy2(f, inbox / f.name)
    first = {v.archived.source.source_path: v.verdict
             for _, v in ingest_inbox(warehouse, settings_env)}
    # the sample's deliberate resubmission: a flawed keamanan file, then its _revisi
    assert first.pop(f"{KAB}/{KAB}_keamanan_{PREV}.csv") == "accepted_with_flags"
    assert set(first.values()) == {"accepted"} and len(first) == 5

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

    fill = {kind: _sample_rows(sample_dir, kind) for kind in KINDS}
    filled = build_template(KAB, WEEK, tmp_path / "filled", con=warehouse, fill=fill)
    _send(settings_env, filled, KINDS)
    verdicts = _ingest(warehouse, settings_env)
    _assert_clean(verdicts, KINDS)
    # carried incidents the desk left untouched are resent as they were: harmless
    assert verdicts["insiden"].rows_total >= len(fill["insiden"])


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
    daftar = reader.load_sheet(DAFTAR, header_row=None).to_polars()
    for kind in KINDS:
        lists = _list_sources(xml[kind])
        for column, enum in ENUM_COLUMNS[kind].items():
            letter = xl_col_to_name([c.name for c in COLUMNS[kind]].index(column))
            src = re.fullmatch(r"daftar!\$([A-Z]+)\$(\d+):\$\1\$(\d+)", lists[letter])
            assert src, (kind, column, lists.get(letter))
            values = daftar[:, xl_cell_to_rowcol(f"{src[1]}1")[1]].to_list()
            assert values[int(src[2]) - 1:int(src[3])] == list(ENUMS[enum]), (kind, column)
    petunjuk = reader.load_sheet(PETUNJUK, header_row=None).to_polars()
    text = " ".join(str(v) for row in petunjuk.iter_rows() for v in row if v)
    for kind in KINDS:
        assert f"{KAB}_{kind}_{WEEK}.xlsx" in text
    for phrase in ("Sabtu, 23 November 2024 pukul 12.00 WITA", "JANGAN PERNAH nama atau NIP",
                   "cadangan 2,5 %", "revisi"):
        assert phrase in text, phrase


def test_template_is_deterministic_and_checks_its_arguments(tmp_path):
    a = build_template("6409", WEEK, tmp_path / "a").read_bytes()
    b = build_template("6409", WEEK, tmp_path / "b").read_bytes()
    assert a == b
    with pytest.raises(ValueError, match="tidak dikenal"):
        build_template("6499", WEEK, tmp_path)
    with pytest.raises(ValueError):
        build_template(KAB, "2024-47", tmp_path)


def test_build_all(tmp_path):
    out = tmp_path / "templates" / WEEK
    paths = build_all(WEEK, out)
    assert [p.name for p in paths] == [
        template_name(c, WEEK) for c in ("6401", "6402", "6403", "6407", "6408", "6409",
                                         "6411", "6471", "6472", "6474")]
    assert all(p.parent == out for p in paths)
    for p in paths:
        rows = _sheet(p, "logistik")
        kab = p.name[:4]
        assert {r["kode_kabkota"] for r in rows} == {kab}
        assert {r["kode_kecamatan"][:4] for r in _sheet(p, "keamanan")} == {kab}


def test_libreoffice_opens_the_workbook(sample_dir, tmp_path):
    """LibreOffice reads the workbook: the first sheet converts to a CSV with content, and a
    filled workbook resaved by LibreOffice still reads the same through the parser."""
    soffice = shutil.which("libreoffice") or shutil.which("soffice")
    assert soffice, ("LibreOffice is required for this test: `make test` installs the Debian "
                     "package libreoffice-calc-nogui")
    fill = {kind: _sample_rows(sample_dir, kind) for kind in KINDS}
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

    # "save each sheet as CSV" (the other way Petunjuk offers): every sheet, one CSV each
    convert("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            tmp_path / "sheets")
    for kind in KINDS:
        data = (tmp_path / "sheets" / f"{path.stem}-{kind}.csv").read_bytes()
        typed, issues = type_columns(read_table(data, "csv", kind), kind)
        assert not issues and typed.drop(ROW).to_dicts() == fill[kind], kind

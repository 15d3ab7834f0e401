"""Personal data (issue 15): NIPs, NIKs and names are found in every text column and never
stored, echoed, published or logged; legitimate figures, codes, roles and candidates are kept."""

from __future__ import annotations

import csv
import email
import io
import logging
import re
from email import policy
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks.contract.personal import (
    NAME_MARK,
    NAME_RULE,
    NIP_MARK,
    NIP_RULE,
    PREFILTER,
    redact,
    scrub,
    unechoed,
)
from tasks.ingest.validate import suite_document

NIP_FORMS = [
    "198503122010011002",
    "19850312 201001 1 002",
    "19850312-201001-1-002",
    "19850312.201001.1.002",
    "NIP 198503122010011002",
    "NIP. 19850312 201001 1 002",
    "NIP: 19850312-201001-1-002",
    "nip 198503122010011002",
    "NIP 010203040",                 # the old 9-digit NIP, found by its label
    "NIP.010203040",
    "199203152022212001",            # PPPK: `21` where the appointment month goes
    "NIK 6402015203850001",
    "6402015203850001",              # NIK: region, birth day + 40 (a woman), month, year
    "640201 520385 0001",
    "NRP 87051234",
    "NI PPPK 199203152022212001",
]


@pytest.mark.parametrize("number", NIP_FORMS)
def test_every_common_form_of_a_nip_or_nik_is_redacted(number):
    text, rules = redact(f"Oknum ASN dengan {number} hadir di lokasi kampanye.")
    digits = re.sub(r"\D", "", number)
    assert rules == {NIP_RULE}
    assert NIP_MARK in text and digits not in re.sub(r"\D", "", text)
    assert text.startswith("Oknum ASN dengan ") and text.endswith(" hadir di lokasi kampanye.")


NAMES = [
    ("Oknum ASN bernama Sukarjo Wiryatmo ikut kampanye.", "Sukarjo Wiryatmo"),
    ("Diduga dilakukan Sdr. Sukarjo di balai desa", "Sukarjo"),
    ("Sdri. Lestari Handayani mengunggah dukungan", "Lestari Handayani"),
    ("laporan terhadap Bapak Sukarjo Wiryatmo", "Sukarjo Wiryatmo"),
    ("diterima Bpk. Sukarjo", "Sukarjo"),
    ("menurut Ibu Lestari, guru", "Lestari"),
    ("Pak Sukarjo hadir", "Sukarjo"),
    ("Bu Lestari hadir", "Lestari"),
    ("surat a.n. Sukarjo Wiryatmo", "Sukarjo Wiryatmo"),
    ("dilaporkan atas nama Lestari Handayani", "Lestari Handayani"),
    ("Nama: Sukarjo Wiryatmo", "Sukarjo Wiryatmo"),
    ("pelaku berinisial SW (45)", "SW"),
    ("inisial S.W. terlibat", "S.W."),
    ("Drs. H. Sukarjo Wiryatmo memimpin apel", "Sukarjo Wiryatmo"),
    ("Hj. Lestari Handayani hadir", "Lestari Handayani"),
    ("Ir. Sukarjo Wiryatmo", "Sukarjo Wiryatmo"),
    ("Kepala Sekolah Sukarjo Wiryatmo, S.Pd. hadir", "Sukarjo Wiryatmo"),
    ("Lestari Handayani, S.H., M.Si. memberi sambutan", "Lestari Handayani"),
    ("Sukarjo Wiryatmo S.Sos", "Sukarjo Wiryatmo"),
    ("BAPAK SUKARJO WIRYATMO", "SUKARJO WIRYATMO"),
]


@pytest.mark.parametrize(("text", "name"), NAMES, ids=[t for t, _ in NAMES])
def test_names_after_honorifics_labels_titles_or_before_degrees_are_redacted(text, name):
    out, rules = redact(text)
    assert rules == {NAME_RULE}
    assert NAME_MARK in out and name not in out


KEPT = [
    "Memasuki masa tenang (24 s.d. 26 November), H-3 menjelang pemungutan suara.",
    "Surat suara 1.234 lembar tiba di PPK pada 20/11/2024; 92,8% di PPS, 2024-11-20 14:30.",
    "kode desa 6402012001, kecamatan 640201, kab/kota 6402",
    "Posko 24 jam: 0812-3456-7890, (0541) 741234",
    "Kegiatan di Ibu Kota Nusantara berjalan lancar",
    "Bapak Bupati Kutai Kartanegara membuka apel; Pak Camat dan Ibu Ketua PKK hadir",
    "Surat a.n. Bupati Kutai Timur",
    "Kantor di Jl. Dr. Sutomo No. 5 dan Jl. Ir. H. Juanda",
    "kampanye calon gubernur H. Rudy Mas'ud di Samarinda",
    "paslon nomor urut 2 Dr. H. Isran Noor berkampanye",
    "baliho cabup Bapak Aulia Rahman Basri dirusak",
    "hari H. Pada hari itu situasi aman",
    "ASN-6402-000123 dan INS-6402-2024W47-001",
    "Rp 150.000.000 dan 2.821.202 pemilih",
    "Guru SDN 001 Tenggarong",
    "Dinas Pendidikan dan Kebudayaan",
]


@pytest.mark.parametrize("text", KEPT)
def test_codes_figures_roles_streets_and_candidates_are_kept(text):
    assert redact(text) == (text, frozenset())


@pytest.mark.parametrize("text", [n for n in NIP_FORMS] + [t for t, _ in NAMES])
def test_the_vectorised_prefilter_selects_every_cell_the_detector_would_change(text):
    assert pl.Series([text]).str.contains(PREFILTER).item()


def test_the_sample_submissions_have_nothing_to_redact(tmp_path):
    from samples.kaltim import generate
    from tasks.ingest.parse import ParseError, read_table, type_columns
    from tasks.ingest.pull import identify

    generate(tmp_path, ["2024-W45", "2024-W47"])
    scanned = 0
    for path in sorted(tmp_path.rglob("*_*_*.*")):
        ident = identify(str(path.relative_to(tmp_path)))
        if ident.problem or not ident.kind:
            continue
        try:
            typed, _ = type_columns(read_table(path.read_bytes(), ident.file_format, ident.kind),
                                    ident.kind)
        except ParseError:  # the sample's deliberately unreadable files
            continue
        scanned += typed.height
        assert scrub(ident.kind, typed)[1] == [], path.name
    assert scanned > 10_000


def test_scrub_redacts_every_text_column_and_reports_without_echoing():
    frame = pl.DataFrame({
        "kode_kabkota": ["6474", "6474", "6474"],
        "id_kasus": ["ASN-6474-001", "ASN-6474-002", "NIP 198503122010011002"],
        "ref_subjek": ["SBJ-6474-0001", "198503122010011002", "SBJ-6474-0003"],
        "instansi": ["Dinas Pendidikan", "SDN 001 a.n. Sukarjo Wiryatmo", None],
        "jabatan": ["Guru", "Guru, NIP 19850312 201001 1 002", "Staf"],
        "tanggal_lapor": [None, None, None],
        "_row": [2, 3, 4],
    }, schema_overrides={"tanggal_lapor": pl.Date})
    out, findings = scrub("netralitas", frame)
    assert findings == [
        (3, "instansi", NAME_RULE, findings[0][3]),
        (3, "jabatan", NIP_RULE, findings[1][3]),
        (4, "id_kasus", NIP_RULE, findings[2][3]),
    ]
    assert out["instansi"].to_list() == ["Dinas Pendidikan", f"SDN 001 a.n. {NAME_MARK}", None]
    assert out["jabatan"].to_list() == ["Guru", f"Guru, {NIP_MARK}", "Staf"]
    assert out["id_kasus"][2] == NIP_MARK
    # ref_subjek is the suite's: flagged and not stored at all (tasks.contract.personal.withhold)
    assert out["ref_subjek"].to_list() == frame["ref_subjek"].to_list()
    assert out.drop("instansi", "jabatan", "id_kasus").equals(
        frame.drop("instansi", "jabatan", "id_kasus"))
    for *_, message in findings:
        assert "Sukarjo" not in message and "1985" not in message and "disamarkan" in message


def test_a_quoted_unreadable_value_is_not_echoed():
    message = "nilai 'NIP 198503122010011002 hadir' bukan bilangan bulat"
    assert "1985" not in unechoed("NIP 198503122010011002 hadir", message)
    assert unechoed("dua puluh", "nilai 'dua puluh' bukan bilangan bulat") == \
        "nilai 'dua puluh' bukan bilangan bulat"


def _ref_subjek_rules() -> dict[str, tuple[str, bool]]:
    """rule -> (regex, must match) of the neutrality suite's ref_subjek checks, applied the way
    GX's pandas engine does (`re.search`)."""
    out = {}
    for e in suite_document("netralitas")["expectations"]:
        if e["meta"]["rule"] in ("bukan_nip", "bukan_nama"):
            out[e["meta"]["rule"]] = (e["kwargs"]["regex"],
                                      e["type"] == "expect_column_values_to_match_regex")
    return out


def _fails(value: str) -> set[str]:
    return {rule for rule, (regex, must) in _ref_subjek_rules().items()
            if bool(re.search(regex, value)) != must}


@pytest.mark.parametrize(("value", "rule"), [
    ("198503122010011002", "bukan_nip"),
    ("19850312-201001-1-002", "bukan_nip"),
    ("19850312.201001.1.002", "bukan_nip"),
    ("19850312_201001_1_002", "bukan_nip"),
    ("SBJ-198503122010011002", "bukan_nip"),
    ("6402015203850001", "bukan_nip"),
    ("NIP-010203040", "bukan_nip"),
    ("Budi1", "bukan_nama"),
    ("Ani-01", "bukan_nama"),
    ("budi.santoso-01", "bukan_nama"),
    ("B.Santoso85", "bukan_nama"),
    ("Budi Santoso", "bukan_nama"),
])
def test_ref_subjek_refuses_a_separated_nip_and_a_name_with_a_digit(value, rule):
    assert rule in _fails(value)


@pytest.mark.parametrize("value", ["SBJ-6402-7F3A", "SBJ-6474-0B1C", "sbj-6402-7f3a",
                                   "S-6402-0102", "SBJ-ASN-6474-001", "KASUS-6402-001"])
def test_ref_subjek_accepts_pseudonyms(value):
    assert _fails(value) == set()


# ---------------------------------------------------------------- end to end, flows for real

WEEK = "2024-W47"
NIP = "19850312 201001 1 002"
NIK = "6402015203850001"
NAME, OTHER = "Sukarjo Wiryatmo", "Lestari Handayani"
SECRETS = (NAME, OTHER, "Sukarjo", "Handayani")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _leaks(text: str) -> list[str]:
    """Which secrets a text carries (digits compared with separators removed)."""
    digits = re.sub(r"[ .\-]", "", text)
    found = [s for s in SECRETS if s in text]
    found += [n for n in (NIP, NIK) if re.sub(r"\D", "", n) in digits]
    return found


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _plant(inbox: Path) -> None:
    """Revisions for Bontang (6474) carrying a NIP and names in every free-text column."""
    folder = inbox / "6474"
    ringkasan = _read_csv(folder / f"6474_ringkasan_{WEEK}.csv")
    ringkasan[0]["narasi"] += f" Oknum ASN bernama {NAME} (NIP {NIP}) ikut kampanye."
    ringkasan[0]["unit_pelapor"] = f"Kesbangpol, a.n. {OTHER}"
    _write_csv(folder / f"6474_ringkasan_{WEEK}_revisi.csv", ringkasan)
    logistik = _read_csv(folder / f"6474_logistik_{WEEK}.csv")
    for row in logistik:
        row.setdefault("catatan", "")
    logistik[0]["catatan"] = f"diterima Bapak {NAME}, NIK {NIK}"
    _write_csv(folder / f"6474_logistik_{WEEK}_revisi.csv", logistik)
    insiden = _read_csv(folder / f"6474_insiden_{WEEK}.csv")
    base = insiden[0] if insiden else None
    assert base, "the sample has an incident for Bontang that week"
    insiden.append({**base, "id_insiden": base["id_insiden"] + "-B",
                    "ringkasan": f"Sdri. {OTHER} membagikan uang; NIP {NIP}.",
                    "sumber": f"laporan Pak {NAME}", "ditangani_oleh": f"Ir. {OTHER}"})
    _write_csv(folder / f"6474_insiden_{WEEK}_revisi.csv", insiden)
    netralitas = [{
        "kode_kabkota": "6474", "id_kasus": f"ASN-6474-9{n:02d}", "ref_subjek": ref,
        "jenis_pegawai": "pns", "instansi": instansi, "jabatan": jabatan,
        "tanggal_lapor": "2024-11-19", "asal": "temuan_bawaslu",
        "jenis_pelanggaran": "media_sosial", "tahap": "registrasi",
        "tanggal_tahap": "2024-11-19", "sanksi": ""}
        for n, (ref, instansi, jabatan) in enumerate([
            ("19850312-201001-1-002", "Dinas Pendidikan", "Guru"),
            ("Sukarjo1", "Dinas Kesehatan", "Perawat"),
            ("SBJ-6474-9A01", f"SDN 005 Bontang, Kepala Sekolah {NAME}, S.Pd.", "Guru"),
            ("SBJ-6474-9A02", "Dinas Sosial", f"Staf (NIP {NIP})"),
            *[(f"SBJ-6474-9B{n:02d}", "Dinas Sosial", "Staf") for n in range(5)],
        ], start=1)]  # 4 of 9 rows flagged: the file is accepted, its rows stored
    for old in folder.glob(f"6474_netralitas_{WEEK}.*"):
        old.unlink()
    _write_csv(folder / f"6474_netralitas_{WEEK}.csv", netralitas)


def _texts_of(path: Path) -> list[str]:
    """Everything a person could read in an outbox file: decoded MIME parts, PDF text, CSVs."""
    from pypdf import PdfReader

    data = path.read_bytes()
    if path.suffix == ".png":
        return []
    if path.suffix == ".pdf":
        return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    if path.suffix == ".eml":
        out = []
        for part in email.message_from_bytes(data, policy=policy.default).walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True) or b""
            if part.get_content_type() == "application/pdf":
                out += [p.extract_text() for p in PdfReader(io.BytesIO(payload)).pages]
            elif not part.get_content_type().startswith("image/"):
                out.append(payload.decode("utf-8-sig", errors="replace"))
        return [*out, str(email.message_from_bytes(data, policy=policy.default)["Subject"])]
    return [data.decode("utf-8-sig", errors="replace")]


def _table_texts(db: Path) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                             "WHERE NOT internal").fetchall()
        return {t: str(con.execute(f"SELECT * FROM {t}").fetchall()) for (t,) in tables}


@pytest.mark.flow
def test_names_and_nips_reach_no_table_bulletin_annex_feedback_or_log(tmp_path, monkeypatch,
                                                                      capfd, prefect_harness):
    from flows.bulletin import weekly_bulletin
    from flows.ingest import ingest_submissions
    from samples.kaltim import generate

    for name in [n for n in __import__("os").environ if n.startswith("PILKADA_")]:
        monkeypatch.delenv(name)
    env = {"PILKADA_CONFIG": tmp_path / "none.toml", "PILKADA_WAREHOUSE": tmp_path / "w.duckdb",
           "PILKADA_INBOX": tmp_path / "inbox", "PILKADA_OUTBOX": tmp_path / "outbox",
           "PILKADA_ARCHIVE": tmp_path / "archive"}
    for k, v in env.items():
        monkeypatch.setenv(k, str(v))
    generate(tmp_path / "inbox", [WEEK])
    _plant(tmp_path / "inbox")
    records = _Records()
    loggers = [logging.getLogger(), logging.getLogger("prefect")]
    for lg in loggers:
        lg.addHandler(records)
    try:
        ingest_submissions()
        weekly_bulletin(week=WEEK, send=True)
    finally:
        for lg in loggers:
            lg.removeHandler(records)

    stored = _table_texts(env["PILKADA_WAREHOUSE"])
    snapshot = _table_texts(env["PILKADA_WAREHOUSE"].with_name("w.snapshot.duckdb"))
    assert {t: _leaks(s) for t, s in stored.items() if _leaks(s)} == {}
    assert {t: _leaks(s) for t, s in snapshot.items() if _leaks(s)} == {}
    # redacted rather than dropped: the flagged rows are kept with the marker in place
    assert NAME_MARK in stored["core.netralitas"] and NIP_MARK in stored["core.netralitas"]
    assert NAME_MARK in stored["core.insiden"] and NIP_MARK in stored["core.logistik"]
    assert "ref_subjek" in stored["audit.row_issue"] and NIP_RULE in stored["audit.row_issue"]

    outbox = sorted(p for p in (tmp_path / "outbox").rglob("*") if p.is_file())
    kinds = {p.suffix for p in outbox}
    assert {".html", ".txt", ".eml", ".pdf", ".csv"} <= kinds
    assert any("feedback" in p.parts and p.name.startswith("6474_netralitas") for p in outbox)
    assert any("annex" in p.parts for p in outbox) and any("mail" in p.parts for p in outbox)
    leaked = {str(p.relative_to(tmp_path)): found for p in outbox
              if (found := _leaks("\n".join(_texts_of(p))))}
    assert leaked == {}

    out, err = capfd.readouterr()
    assert records.lines, "the flows' logs were captured"
    assert _leaks("\n".join([*records.lines, out, err])) == []

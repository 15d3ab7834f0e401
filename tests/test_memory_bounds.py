"""One careless (or hostile) file costs bounded time and memory, and never the week.

A real `pilkada ingest` runs in a subprocess over two kab/kota's sample week plus four hostile
corrections, each inside the 20 MiB size limit: a CSV of ten million one-character lines, an XLSX
whose zip headers understate how large its sheet really is, a JSON array of seven million empty
objects, and a CSV of twenty million empty lines. The peak RSS of the whole process tree (the
CLI and Prefect's temporary server) must stay under 1.5 GB, each hostile file must be rejected for
its own reason, and every good file of the week must still get its verdict. No timing is asserted:
on a shared machine times are noise; memory is what kills a run.
"""

from __future__ import annotations

import os
import shutil
import struct
import zipfile
from pathlib import Path

import duckdb
import pytest

from bench.measure import cli, run

PEAK_LIMIT_MB = 1536
MAX_FILE_BYTES = 20 * 1024 * 1024
WEEK = "2024-W47"
KEAMANAN_HEADER = ("kode_kabkota,kode_kecamatan,jumlah_tps,tps_kurang_rawan,tps_rawan,"
                   "tps_sangat_rawan,personel_polri,personel_tni,personel_linmas,posko,per_tanggal\n")


def one_char_lines_csv(path: Path, size: int = MAX_FILE_BYTES) -> Path:
    """A keamanan header, then `a` lines up to exactly `size` bytes: ten million rows that the
    size guard lets through."""
    head = KEAMANAN_HEADER.encode()
    n = (size - len(head)) // 2
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + b"a\n" * n)
    return path


def _sheet_chunks(rows: int, header: list[str]):
    """Sheet XML streamed in chunks: a header row, then `rows` rows of one inline string."""
    yield (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<sheetData>")
    yield b'<row r="1">' + b"".join(
        f'<c t="inlineStr"><is><t>{h}</t></is></c>'.encode() for h in header) + b"</row>"
    line = b'<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row>'
    block = line * 10_000
    for _ in range(rows // 10_000):
        yield block
    yield b"</sheetData></worksheet>"


_WORKBOOK_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
        '"xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="logistik" sheetId="1" r:id='
        '"rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        '"worksheets/sheet1.xml"/></Relationships>'),
}
SHEET = "xl/worksheets/sheet1.xml"


def lying_xlsx(path: Path, rows: int = 6_000_000, declared: int | None = 4096,
               compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A readable workbook whose sheet really expands to ~400 MB (for 6M rows) but whose local
    header and central directory both claim `declared` bytes: a guard that trusts the headers
    lets it through. The CRC is left true, so only the sizes lie (`declared=None`: no lie)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, text in _WORKBOOK_PARTS.items():
            zf.writestr(name, text)
        with zf.open(SHEET, "w", force_zip64=False) as out:
            for chunk in _sheet_chunks(rows, ["kode_kabkota", "kode_kecamatan", "kode_desa"]):
                out.write(chunk)
    if declared is None:
        return path
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(SHEET)
        real = info.file_size
    # Local file header: uncompressed size at offset 22 (the CRC and sizes are also in a data
    # descriptor only when flag bit 3 is set; zipfile writes them here for a seekable file).
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    # Central directory entry: find it by its signature and the sheet's name; size at offset 24.
    name = SHEET.encode()
    cd = data.find(b"PK\x01\x02")
    while cd != -1:
        n_len = struct.unpack_from("<H", data, cd + 28)[0]
        if bytes(data[cd + 46 : cd + 46 + n_len]) == name:
            struct.pack_into("<I", data, cd + 24, declared)
            break
        cd = data.find(b"PK\x01\x02", cd + 4)
    else:
        raise AssertionError("central directory entry of the sheet not found")
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:  # the lie is in place
        assert zf.getinfo(SHEET).file_size == declared < real
    return path


def million_tiny_objects_json(path: Path, size: int = MAX_FILE_BYTES) -> Path:
    """`[{},{},…]` up to `size` bytes: seven million objects that `json.loads` would build."""
    n = (size - 2) // 3
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"[" + b"{}," * (n - 1) + b"{}]")
    return path


def empty_lines_csv(path: Path, size: int = MAX_FILE_BYTES) -> Path:
    """A keamanan header, then twenty million empty lines: no data row at all."""
    head = KEAMANAN_HEADER.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + b"\n" * (size - len(head)))
    return path


def _env(root: Path, inbox: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PILKADA_") and k != "PREFECT_API_URL"}
    env.update(PILKADA_CONFIG=str(root / "no-such-pilkada.toml"),
               PILKADA_WAREHOUSE=str(root / "data" / "warehouse.duckdb"),
               PILKADA_INBOX=str(inbox), PILKADA_OUTBOX=str(root / "outbox"),
               PILKADA_ARCHIVE=str(root / "archive"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               GX_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    return env


@pytest.mark.slow  # one subprocess per hostile file, each measured
def test_hostile_files_cost_bounded_memory_and_only_themselves(tmp_path):
    from samples.kaltim import generate

    inbox = tmp_path / "inbox"
    good = [f for f in generate(inbox, [WEEK]) if f.kabkota in ("6402", "6403")]
    for d in inbox.iterdir():
        if d.name not in ("6402", "6403"):
            shutil.rmtree(d)
    hostile = {
        "6402_keamanan_2024-W47_revisi.csv": (
            one_char_lines_csv(inbox / "6402" / "6402_keamanan_2024-W47_revisi.csv"),
            "batas_baris", "File berisi lebih dari 200,000 baris; batas 200,000."),
        "6403_logistik_2024-W47_revisi.xlsx": (
            lying_xlsx(inbox / "6403" / "6403_logistik_2024-W47_revisi.xlsx"),
            "file_tidak_terbaca", "terlalu besar setelah diekstrak"),
        "6402_insiden_2024-W47_revisi.json": (
            million_tiny_objects_json(inbox / "6402" / "6402_insiden_2024-W47_revisi.json"),
            "batas_baris", "File berisi lebih dari 200,000 baris"),
        "6403_keamanan_2024-W47_revisi.csv": (
            empty_lines_csv(inbox / "6403" / "6403_keamanan_2024-W47_revisi.csv"),
            "file_kosong", "tidak berisi baris data"),
    }
    for path, *_ in hostile.values():
        assert path.stat().st_size <= MAX_FILE_BYTES  # the size guard lets every one through

    measured = run(cli("ingest"), _env(tmp_path, inbox), cwd=Path(__file__).parents[1])

    assert measured.peak_rss_mb < PEAK_LIMIT_MB, f"peak RSS {measured.peak_rss_mb:.0f} MB"
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        status = {name: (s, reason) for name, s, reason in con.execute(
            "SELECT file_name, status, reason FROM audit.submission_status").fetchall()}
        rules = dict(con.execute(
            "SELECT f.file_name, i.rule FROM audit.row_issue i JOIN raw.file f USING (file_id) "
            "WHERE i.severity = 'reject'").fetchall())
    for name, (_, rule, words) in hostile.items():
        assert status[name][0] == "rejected", (name, status[name])
        assert words in status[name][1], (name, status[name])
        assert rules[name] == rule, name
    for f in good:  # every good file of the week is still judged as it would be alone
        assert status[f.path.name][0] == f.expected_status, f.path.name

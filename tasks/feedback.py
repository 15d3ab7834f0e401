"""Feedback to the regency desk: for every file, what happened to it, in Indonesian.

Written into the outbox (`feedback/<kabkota>/`) as a short text note and, when rows were
flagged or the file was rejected, a CSV of the findings that the desk can open in Excel. Values
echoed back from the submission are neutralised against formula injection.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from tasks.config import WITA
from tasks.warehouse import sql

STATUS_ID = {
    "accepted": "DITERIMA",
    "accepted_with_flags": "DITERIMA DENGAN CATATAN",
    "rejected": "DITOLAK",
    "duplicate": "DUPLIKAT (tidak dihitung ulang)",
    "superseded": "DIGANTIKAN versi lebih baru",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A spreadsheet cannot evaluate it: a leading formula character gets a quote prefix."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _note(info: dict, issues: list[tuple]) -> str:
    lines = [
        "UMPAN BALIK KIRIMAN LAPORAN DESK PILKADA",
        "",
        f"File          : {info['file_name']}",
        f"Kab/kota      : {info['kabkota_code']}",
        f"Jenis laporan : {info['kind']}",
        f"Minggu        : {info['week']}",
        f"Versi         : {info['version'] or '-'}",
        f"Diterima      : {info['received_at'].astimezone(WITA):%d-%m-%Y %H:%M} WITA"
        + (" (TERLAMBAT)" if info["is_late"] else ""),
        f"Status        : {STATUS_ID.get(info['status'], info['status'])}",
        f"Jumlah baris  : {info['rows_total']} (ditandai: {info['rows_flagged']})",
    ]
    if info["reason"]:
        lines += ["", f"Keterangan    : {info['reason']}"]
    if issues:
        lines += ["", "Temuan (baris sesuai nomor baris di spreadsheet Anda):"]
        lines += [f"- {msg}" for *_, msg in issues[:200]]
        if len(issues) > 200:
            lines.append(f"- … dan {len(issues) - 200} temuan lain (lihat file CSV terlampir)")
    if info["status"] in ("rejected", "accepted_with_flags"):
        lines += ["", "Mohon perbaiki dan kirim ulang file dengan nama yang sama atau akhiran "
                  "_revisi; versi terbaru akan menggantikan versi ini."]
    lines += ["", f"SHA-256: {info['sha256']}"]
    return "\n".join(lines) + "\n"


def write_feedback(con: duckdb.DuckDBPyConnection, file_ids: list[int], outbox: Path) -> list[Path]:
    """One note per file (and a findings CSV where there are findings); returns paths written.
    Two queries for the whole batch, not two per file: a national week has 2,570 files."""
    written: list[Path] = []
    if not file_ids:
        return written
    cur = con.execute(sql("queries/feedback_file.sql"), {"file_ids": file_ids})
    cols = [d[0] for d in cur.description]
    files = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    issues_of: dict[int, list[tuple]] = {}
    for file_id, *issue in con.execute(sql("queries/feedback_issues.sql"),
                                       {"file_ids": file_ids}).fetchall():
        issues_of.setdefault(file_id, []).append(tuple(issue))
    for info in files:
        file_id, issues = info["file_id"], issues_of.get(info["file_id"], [])
        folder = outbox / "feedback" / (info["kabkota_code"] or "lainnya")
        folder.mkdir(parents=True, exist_ok=True)
        stem = Path(info["file_name"]).name
        note = folder / f"{stem}.{file_id}.umpan-balik.txt"
        note.write_text(_note(info, issues), encoding="utf-8")
        written.append(note)
        if issues:
            table = folder / f"{stem}.{file_id}.temuan.csv"
            with table.open("w", newline="", encoding="utf-8-sig") as f:
                w = csv.writer(f, delimiter=";")
                w.writerow(["baris", "kolom", "aturan", "tingkat", "pesan"])
                for row in issues:
                    w.writerow([safe_cell(v) for v in row])
            written.append(table)
    return written

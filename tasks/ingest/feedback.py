"""Feedback to the desks: for every file, what happened to it, in Indonesian.

A kab/kota desk's files are answered under `feedback/<kabkota>/`, the provincial desk's (sent
under the province code) under `feedback/<province>/`, e.g. `feedback/64/`: a short text note
and, when rows were flagged or the file was rejected, a CSV of the findings that the desk can
open in Excel. Values echoed back from the submission are neutralised against formula injection.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from pathlib import Path

import duckdb

from tasks.config import WITA
from tasks.warehouse.database import sql

log = logging.getLogger(__name__)

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


def _sender(code: str | None) -> str:
    """The note's sender line: a kab/kota code (4 digits), or the provincial desk's, which sends
    under its 2-digit province code (tasks.ingest.pull.identify) and should not read as a
    kab/kota."""
    if code is not None and len(code) == 2:
        return f"Provinsi      : {code} (desk provinsi)"
    return f"Kab/kota      : {code}"


def _note(info: dict, issues: list[tuple]) -> str:
    lines = [
        "UMPAN BALIK KIRIMAN LAPORAN DESK PILKADA",
        "",
        f"File          : {info['file_name']}",
        _sender(info["kabkota_code"]),
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
        lines += [f"- {msg}" for *_, msg, _ in issues[:200]]
        if len(issues) > 200:
            lines.append(f"- … dan {len(issues) - 200} temuan lain (lihat file CSV terlampir)")
    if info["status"] in ("rejected", "accepted_with_flags"):
        lines += ["", "Mohon perbaiki dan kirim ulang file dengan nama yang sama atau akhiran "
                  "_revisi; versi terbaru akan menggantikan versi ini."]
    lines += ["", f"SHA-256: {info['sha256']}"]
    return "\n".join(lines) + "\n"


# What a finding did to the figures, in the desk's words (docs/submission-format.md): every
# finding is sent whatever its effect, so the desk knows which of its numbers still count.
_EFFECT_ID = {"nothing": "nilai tetap dihitung", "values": "nilai ini tidak dihitung",
              "row": "baris tidak dihitung"}


def _effect(severity: str, effect: str | None) -> str:
    if severity == "reject":
        return "file ditolak"
    if severity == "catatan":
        return _EFFECT_ID["nothing"]
    return _EFFECT_ID.get(effect or "row", "")


def _safe_part(text: str, limit: int) -> str:
    """A path component that any file system and mail client accepts: ASCII letters, digits,
    `._-` only, at most `limit` characters (a long name keeps its start, a hash and its end)."""
    part = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    if len(part) > limit:
        digest = hashlib.sha256(part.encode()).hexdigest()[:8]
        part = f"{part[:limit - 24]}_{digest}_{part[-14:]}"
    return part


def missing_feedback(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Files of earlier runs whose feedback was never written."""
    return [i for (i,) in con.execute(sql("queries/feedback_missing.sql")).fetchall()]


def feedback_paths(outbox: Path, kabkota_code: str | None, file_name: str,
                   file_id: int) -> tuple[Path, Path]:
    """Where a file's note and findings table live: one rule for the writer and the mailer.
    The desk's file name never becomes a path: only its safe form, under the kab/kota folder."""
    folder = outbox / "feedback" / (_safe_part(kabkota_code or "", 16) or "lainnya")
    stem = _safe_part(file_name, 100) or "file"
    return (folder / f"{stem}.{file_id}.umpan-balik.txt", folder / f"{stem}.{file_id}.temuan.csv")


def write_feedback(con: duckdb.DuckDBPyConnection, file_ids: list[int], outbox: Path) -> list[Path]:
    """One note per file (and a findings CSV where there are findings); returns paths written.

    `audit.feedback_written` records each note, so a run can catch up (`missing_feedback`) on
    files whose feedback an earlier run could not write (outbox full or unwritable). A file whose
    feedback cannot be written is logged by name and left for the next run; it never stops the
    others. Two queries for the whole batch, not two per file: a national week has 2,570 files."""
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
    done, failed = [], []
    for info in files:
        file_id, issues = info["file_id"], issues_of.get(info["file_id"], [])
        note, table = feedback_paths(outbox, info["kabkota_code"], info["file_name"], file_id)
        try:
            note.parent.mkdir(parents=True, exist_ok=True)
            note.write_text(_note(info, issues), encoding="utf-8")
            written.append(note)
            if issues:
                with table.open("w", newline="", encoding="utf-8-sig") as f:
                    w = csv.writer(f, delimiter=";")
                    w.writerow(["baris", "kolom", "aturan", "tingkat", "pesan", "akibat"])
                    for *row, effect in issues:
                        w.writerow([safe_cell(v) for v in row] + [_effect(row[3], effect)])
                written.append(table)
        except OSError as exc:
            failed.append(info["file_name"])
            log.error("umpan balik untuk %s (file_id %s) tidak dapat ditulis: %s",
                      info["file_name"], file_id, exc)
            continue
        done.append(file_id)
    if done:
        con.execute(sql("load/feedback_written.sql"), {"file_ids": done})
    if failed:
        raise FeedbackIncomplete(failed)
    return written


class FeedbackIncomplete(Exception):
    """Some notes could not be written; they are retried by the next run."""

    def __init__(self, files: list[str]) -> None:
        super().__init__(f"Umpan balik untuk {len(files)} file belum dapat ditulis ke outbox "
                         f"(mis. {files[0]}); dicoba lagi pada run berikutnya.")
        self.files = files

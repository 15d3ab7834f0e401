"""The text of the runs' artifacts in the Prefect UI: what needs doing first, then the counts.

An artifact is read by the data team on a Monday morning, between other things. So the ingest
summary opens with the files that were rejected and the desks that were late (each with its
reason), then the counts per kind and verdict, then what the inbox holds that is not a
submission, then where GX's Data Docs are; the full per-file table is a separate artifact. The
bulletin note names the Kritis and Waspada kab/kota with their reasons and links the bulletin;
the overdue follow-ups of the week (issue 18) are a table of their own, and a week without any
says so in words, so an empty list is never mistaken for a step that did not run.

Plain functions from verdicts and dicts to markdown, so they are tested without Prefect. File
names come from the desks: every piece of text from outside is escaped, so a name cannot turn
into a link, a heading or a broken table.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tasks.ingest.load import Verdict

VERDICTS = ("accepted", "accepted_with_flags", "rejected", "duplicate")
VERDICT_LABEL = {"accepted": "diterima", "accepted_with_flags": "diterima dengan catatan",
                 "rejected": "ditolak", "duplicate": "duplikat"}
# Lines listed by name in a summary before "… dan N lainnya": the full list is the ledger table.
LISTED = 30

# What could turn text into markup: emphasis, code, links and images (brackets), HTML, tables,
# headings, strikethrough. Parentheses are left alone: without a bracket they are plain text.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#|~])")


def md(text: object) -> str:
    """Text from outside (file names, reasons) as literal markdown on one line."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def file_link(path: Path | str, label: str | None = None) -> str:
    """A markdown link to a local file (file:// URI), labelled with its name."""
    p = Path(path).absolute()  # not resolve(): the link shows the path as configured
    return f"[{md(label or p.name)}]({p.as_uri()})"


def _listed(lines: list[str], limit: int = LISTED) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"- … dan {len(lines) - limit} lainnya (lihat tabel `ingest-ledger`)"]


def _who(v: Verdict) -> str:
    i = v.archived.identity
    parts = [p for p in (i.kabkota_code, i.kind, i.week) if p]
    return f" ({md(' '.join(parts))})" if parts else ""


def ledger_rows(verdicts: Sequence[Verdict]) -> list[dict[str, Any]]:
    """One row per file processed, rejected and late files first, for the `ingest-ledger` table."""
    order = {"rejected": 0, "accepted_with_flags": 1, "accepted": 2, "duplicate": 3}
    ranked = sorted(verdicts, key=lambda v: (order.get(v.verdict, 9), not v.is_late,
                                             v.archived.shown_path))
    return [{"file": v.archived.shown_path, "status": v.verdict,
             "late": v.is_late, "rows": v.rows_total, "flagged": v.rows_flagged,
             "reason": v.reason} for v in ranked]


def counts_by_kind(verdicts: Iterable[Verdict]) -> dict[str, Counter[str]]:
    """Verdicts counted per kind (a file whose name gave no kind counts as "(tanpa jenis)")."""
    out: dict[str, Counter[str]] = {}
    for v in verdicts:
        out.setdefault(v.archived.identity.kind or "(tanpa jenis)", Counter())[v.verdict] += 1
    return out


def ingest_summary(run_id: str, verdicts: Sequence[Verdict],
                   skipped: Sequence[Mapping[str, Any]], docs: Path | None,
                   docs_note: str = "") -> str:
    """The `ingest-summary` markdown: rejects, late files, counts, inbox oddities, Data Docs."""
    rejected = [v for v in verdicts if v.verdict == "rejected"]
    late = [v for v in verdicts if v.is_late and v.verdict != "rejected"]
    out = [f"# Ingest {md(run_id)}", "",
           f"{len(verdicts)} berkas diproses: {len(rejected)} ditolak, {len(late)} terlambat "
           "(tidak termasuk yang ditolak).", ""]
    out += [f"## Ditolak ({len(rejected)})", ""]
    out += _listed([f"- **{md(v.archived.shown_path)}**{_who(v)}: {md(v.reason)}"
                    for v in rejected]) or ["- tidak ada"]
    out += ["", f"## Terlambat ({len(late)})", ""]
    out += _listed([f"- **{md(v.archived.shown_path)}**{_who(v)}: {md(v.reason)}"
                    for v in late]) or ["- tidak ada"]
    out += ["", "## Jumlah per jenis", "",
            "| jenis | " + " | ".join(VERDICT_LABEL[s] for s in VERDICTS) + " | total |",
            "|---|" + "---:|" * (len(VERDICTS) + 1)]
    by_kind = counts_by_kind(verdicts)
    total: Counter[str] = Counter()
    for kind in sorted(by_kind):
        c = by_kind[kind]
        total += c
        out.append(f"| {md(kind)} | " + " | ".join(str(c[s]) for s in VERDICTS)
                   + f" | {sum(c.values())} |")
    out.append("| **semua** | " + " | ".join(str(total[s]) for s in VERDICTS)
               + f" | {sum(total.values())} |")
    out += ["", f"## Bukan kiriman di folder masuk ({len(skipped)})", ""]
    out += _listed([f"- {md(s['source_path'])} ({md(s['object_type'])}): {md(s['reason'])}"
                    for s in skipped]) or ["- tidak ada"]
    out += ["", "## Hasil validasi GX", ""]
    if docs is not None:
        out.append(f"Data Docs GX (suite dan hasil validasi run ini): {file_link(docs)}"
                   + (f" — {md(docs_note)}" if docs_note else ""))
    else:
        out.append(md(docs_note or "Tidak ada validasi GX pada run ini."))
    out += ["", "Tabel lengkap per berkas: artifact `ingest-ledger`."]
    return "\n".join(out) + "\n"


def bulletin_summary(ctx: Mapping[str, Any], paths: Mapping[str, str],
                     result: Mapping[str, Any], subject: str) -> str:
    """The `weekly-bulletin` markdown: counts, Kritis then Waspada kab/kota with their reasons,
    a link to the bulletin's HTML in the outbox, and what delivery did (when it ran)."""
    reason_key = "alasan_en" if ctx.get("lang") == "en" else "alasan"
    counts = ctx.get("counts", {})
    out = [f"# {md(subject)}", "",
           " · ".join(f"{md(s)}: **{n}**" for s, n in counts.items()), ""]
    listed = ctx.get("kabkota", [])
    for status in ("Kritis", "Waspada"):
        rows = [k for k in listed if k.get("status") == status]
        out += [f"## {status} ({counts.get(status, len(rows))})", ""]
        out += [f"- **{md(k['kabkota_name'])}**: {md(k.get(reason_key) or '—')}" for k in rows]
        if counts.get(status, 0) > len(rows):
            out.append(f"- … dan {counts[status] - len(rows)} lainnya (lihat buletin)")
        if not rows and not counts.get(status):
            out.append("- tidak ada")
        out.append("")
    if "tindak_lanjut_terlambat" in result:
        out += [overdue_line(result["tindak_lanjut_terlambat"]), ""]
    out.append(f"Buletin: {file_link(paths['html'])}"
               + (f" · PDF: {file_link(paths['pdf'])}" if paths.get("pdf") else "")
               + (f" · EML: {file_link(paths['eml'])}" if paths.get("eml") else ""))
    if result.get("deliveries"):
        status = Counter(d["status"] for d in result["deliveries"])
        out += ["", "Pengiriman: " + ", ".join(f"{md(s)} {n}" for s, n in sorted(status.items()))
                + " (tabel `bulletin-delivery`)."]
    elif result.get("plan"):
        out += ["", f"Rencana pengiriman: {len(result['plan'])} pesan, tidak dikirim "
                "(tabel `bulletin-plan`)."]
    return "\n".join(out) + "\n"


OVERDUE_KEY = "tindak-lanjut-terlambat"


def overdue_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The `tindak-lanjut-terlambat` table from sql/queries/tindak_lanjut_terlambat.sql: one row
    per overdue follow-up, where it is and who sent it, what and who, how late, and whether its
    sender's report of the week dropped it (then it is shown as last reported)."""
    out = []
    for r in rows:
        where = ("seluruh provinsi" if r["seluruh_provinsi"] else r["kode_kabkota"])
        sender = ("desk provinsi" if r["dari_desk_provinsi"] else f"desk {r['pengirim_nama']}")
        out.append({
            "wilayah": f"{r['wilayah_singkat'] or r['kode_kabkota']} ({where})",
            "pengirim": f"{sender} ({r['pengirim']})",
            "id": r["id_tindak_lanjut"],
            "tindakan": r["tindakan"],
            "instansi": r["instansi_label"],
            "tenggat": r["tenggat"].isoformat(),
            "hari lewat tenggat": r["hari_lewat_tenggat"],
            "status": r["status_label"],
            "hilang dari laporan": (f"ya (terakhir dilaporkan {r['minggu_laporan']})"
                                    if r["hilang_dari_laporan"] else "tidak"),
        })
    return out


def overdue_line(n: int) -> str:
    """One sentence on the week's overdue follow-ups, for the `weekly-bulletin` note."""
    if not n:
        return "Tidak ada tindak lanjut yang terlambat."
    return f"{n} tindak lanjut terlambat (tabel `{OVERDUE_KEY}`)."


def no_overdue(week: str) -> str:
    """The `tindak-lanjut-terlambat` note of a week without any: said, not left empty."""
    return (f"# Tindak lanjut terlambat minggu {md(week)}\n\n"
            "Tidak ada tindak lanjut yang terlambat: semua tindak lanjut yang masih terbuka "
            "belum melewati tenggatnya pada Senin setelah minggu ini.\n")

"""One workbook, one send: a week's workbook becomes one submission per sheet named for a kind.

`6411/6411_2024-W47.xlsx` (no kind in the name) is archived once, under the sha256 of its bytes,
like any file. Here it is opened once (after the zip checks of `tasks.ingest.parse`) and split into
one `ArchivedFile` per visible sheet named for a kind, each judged, versioned and answered exactly
as if that sheet had been sent alone as `6411_<kind>_2024-W47.xlsx` (the parser reads the sheet
named for the kind). Each sheet's `sha256` is the digest of its cells, so a sheet left unchanged in
a corrected workbook is a duplicate, not a new version. A kind without a sheet was not sent; a
blank sheet is "nothing this week" for the kinds that may be empty (insiden, netralitas,
tindak_lanjut) and "not sent" for the others, whose empty report would only be rejected.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from tasks.contract.submission import KINDS, PROVINCE_KINDS
from tasks.ingest.parse import ParseError, workbook_sheets
from tasks.ingest.pull import ArchivedFile
from tasks.ingest.validate import policy

log = logging.getLogger(__name__)

NO_SHEET = "lembar_jenis"  # the ledger rule of a workbook without any sheet named for a kind


def _refused(a: ArchivedFile, problem: str, rule: str) -> list[ArchivedFile]:
    return [replace(a, identity=replace(a.identity, problem=problem, rule=rule))]


def expand(a: ArchivedFile, max_rows: int | None = None) -> list[ArchivedFile]:
    """The submissions in one archived file: itself, or a workbook's kind sheets (in contract
    order). A workbook that cannot be opened, or holds no kind sheet, stays one file whose
    identity carries the problem, so it is rejected with that reason like a badly named file."""
    ident = a.identity
    if not ident.workbook or ident.kind or ident.problem or a.archive_path is None:
        return [a]
    kinds = PROVINCE_KINDS if len(ident.kabkota_code or "") == 2 else frozenset(KINDS)
    try:
        sheets = workbook_sheets(a.archive_path.read_bytes(), kinds, max_rows)
    except ParseError as exc:
        return _refused(a, str(exc), exc.rule)
    except Exception as exc:  # a reader bug costs this workbook its verdict, not the run
        log.exception("buku kerja %s tidak dapat dibuka", a.source.display_path)
        return _refused(a, f"Buku kerja tidak dapat dibaca ({type(exc).__name__}); tim data "
                           "sudah diberi tahu.", "file_tidak_terbaca")
    must_fill = set(policy()["reject_if_empty"])
    out = [replace(a, sha256=digest, workbook_sha256=a.sha256, sheet=kind, blank=blank,
                   identity=replace(ident, kind=kind))
           for kind in KINDS if kind in sheets
           for digest, blank in [sheets[kind]] if not (blank and kind in must_fill)]
    if not out:
        return _refused(a, "Buku kerja tidak berisi lembar laporan yang terisi: nama lembar harus "
                           "sama dengan jenis laporan (" + ", ".join(sorted(kinds, key=KINDS.index))
                        + "); jangan mengganti nama lembar templat.", NO_SHEET)
    return out


def expand_all(archived: list[ArchivedFile], max_rows: int | None = None) -> list[ArchivedFile]:
    """Every archived file's submissions (`expand`), in the order the files came."""
    return [s for a in archived for s in expand(a, max_rows)]

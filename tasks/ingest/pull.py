"""Pull: list the inbox (any fsspec URL), identify each file, archive its raw bytes by hash.

The archive is written before anything reads the content, so even a file that later crashes the
parser or is rejected is kept byte for byte under its sha256. Whatever else the inbox holds
(symlinks, FIFOs, folders, hidden or lock files, files that vanish or cannot be read) is listed as
"not a submission" with a reason, never opened and never silently skipped.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import fsspec

from tasks.contract.submission import KINDS, PROVINCE_KINDS
from tasks.weeks import parse_week

FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".json": "json"}
# A kab/kota code (4 digits), or a province's (2 digits) for what the provincial desk sends; a
# kind may hold underscores (`tindak_lanjut`): the week after it anchors where it ends.
NAME_RE = re.compile(
    r"^(?P<kabkota>\d{4}|\d{2})_(?P<kind>[a-z]+(?:_[a-z]+)*)_(?P<week>\d{4}-W\d{2})(?:_[\w-]+)?$",
    re.IGNORECASE,
)
# A whole week's workbook: kab/kota and week without a kind; each sheet named for a kind is that
# kind's submission (`tasks.ingest.workbook`).
WORKBOOK_RE = re.compile(r"^(?P<kabkota>\d{4}|\d{2})_(?P<week>\d{4}-W\d{2})(?:_[\w-]+)?$",
                         re.IGNORECASE)
# Between a workbook's name and a sheet in the ledger: `6411/6411_2024-W47.xlsx › logistik`.
SHEET_MARK = " › "
CHUNK = 1 << 20
# Listing keys that change when a file is rewritten (local: size, times, inode; object stores:
# etag, generation, last-modified). ctime cannot be set by the sender, so an in-place overwrite
# with the same size and mtime still changes the fingerprint.
FINGERPRINT_KEYS = ("size", "mtime", "created", "ino", "ETag", "etag", "generation",
                    "LastModified", "last_modified", "updated", "md5Hash", "version_id")
# Times the storage itself sets when the bytes are written: a desk cannot forge them.
STORAGE_TIME_KEYS = ("LastModified", "last_modified", "updated", "created")
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def safe_name(name: str) -> str:
    """A name fit for the ledger, messages and mail headers: valid UTF-8, undecodable bytes as
    `\\xNN`, control and format characters (newline, bidi overrides…) escaped, so two different
    names stay different and none can break a line, a header or a display."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(ch if unicodedata.category(ch) not in _UNSAFE
                   else f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
                   for ch in text)


def name_bytes(name: str) -> bytes:
    """The exact bytes of a listed name (undecodable bytes come back from surrogate escapes)."""
    return name.encode("utf-8", "surrogateescape")


class _Named:
    """A listed name: its safe display form and its exact bytes (`source_path` is the field)."""

    source_path: str

    @property
    def display_path(self) -> str:
        return safe_name(self.source_path)

    @property
    def raw_path(self) -> bytes:
        return name_bytes(self.source_path)


@dataclass(frozen=True)
class InboxFile(_Named):
    """A file as listed in the inbox, before it is read."""

    source_path: str  # relative to the inbox root, POSIX style, as the file system names it
    url: str  # full fsspec path, for reading
    size: int
    mtime: datetime | None
    fingerprint: str = ""
    stored_at: datetime | None = None  # when the storage recorded the write (ctime, LastModified)


@dataclass(frozen=True)
class Skipped(_Named):
    """Something in the inbox that is not a submission; listed for the data team, never read."""

    source_path: str
    object_type: str  # symlink | special | folder | hidden | unreadable
    reason: str


@dataclass(frozen=True)
class Identity:
    """What the path and name say the file is; `problem` (Indonesian) when they say nothing sane."""

    kabkota_code: str | None
    kind: str | None
    week: str | None
    file_format: str | None
    problem: str | None
    workbook: bool = False  # a whole week's workbook: one submission per kind sheet
    rule: str = "nama_file"  # the rule a `problem` breaks, as the ledger's findings name it


@dataclass(frozen=True)
class ArchivedFile:
    source: InboxFile
    sha256: str  # of the file's bytes; of a workbook sheet's cells (`tasks.ingest.workbook`)
    archive_path: Path | None  # None: over the size limit, hashed but not kept
    identity: Identity
    # set by `tasks.ingest.judge.pull_new` from the arrival clock
    received_at: datetime | None = None
    sheet: str | None = None  # the workbook sheet this submission is (None: a single-kind file)
    workbook_sha256: str | None = None  # the workbook's bytes, when this is one of its sheets
    blank: bool = False  # a workbook sheet with no cell filled: "nothing this week"

    @property
    def shown_path(self) -> str:
        """The ledger's name: the file's, and for a workbook sheet the sheet after it."""
        shown = self.source.display_path
        return f"{shown}{SHEET_MARK}{self.sheet}" if self.sheet else shown


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            return _time(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _first_time(info: dict, keys: tuple[str, ...]) -> datetime | None:
    for key in keys:
        if (t := _time(info.get(key))) is not None:
            return t
    return None


def _fingerprint(info: dict) -> str:
    return "|".join(f"{k}={info[k]}" for k in FINGERPRINT_KEYS if info.get(k) is not None)


def _skip_reason(rel: PurePosixPath, info: dict) -> tuple[str, str] | None:
    if any(part.startswith((".", "~$")) for part in rel.parts):
        return "hidden", ("File tersembunyi atau file sementara Office (nama diawali '.' atau "
                          "'~$'); tidak dibaca.")
    if info.get("islink"):
        return "symlink", ("Tautan simbolik (symlink); tidak diikuti. Salin file aslinya ke "
                           "folder masuk.")
    kind = info.get("type", "file")
    if kind == "directory":
        return None
    if kind != "file":
        return "special", ("Bukan file biasa (FIFO, soket, atau perangkat); tidak dibuka.")
    return None


def list_inbox(inbox: str) -> tuple[list[InboxFile], list[Skipped]]:
    """Every regular file below the inbox root, and everything else with why it is not read.

    Folders are containers; only one named like a submission file (`….csv/`) is listed as
    skipped, since a desk meant it as a file."""
    fs, root = fsspec.core.url_to_fs(inbox)
    if not fs.exists(root):
        raise FileNotFoundError(f"Folder masuk (inbox) tidak ditemukan: {inbox}")
    root = root.rstrip("/")
    local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
    files, skipped = [], []
    for path, info in sorted(fs.find(root, detail=True, withdirs=True).items()):
        rel = PurePosixPath(path).relative_to(PurePosixPath(root)) if root else PurePosixPath(path)
        if not rel.parts:
            continue
        why = _skip_reason(rel, info)
        if why:
            if not any(part.startswith((".", "~$")) for part in rel.parts[:-1]):
                skipped.append(Skipped(str(rel), *why))  # inside a hidden folder: the folder says
            continue
        if info.get("type", "file") == "directory":
            if rel.suffix.lower() in FORMATS:
                skipped.append(Skipped(str(rel), "folder", "Folder bernama seperti file laporan; "
                                       "kirim file-nya, bukan folder."))
            continue
        stored = _time(info.get("created")) if local else _first_time(info, STORAGE_TIME_KEYS)
        files.append(InboxFile(str(rel), fs.unstrip_protocol(path), int(info.get("size") or 0),
                               _first_time(info, ("mtime", "LastModified", "last_modified",
                                                  "created", "modified")),
                               _fingerprint(info), stored))
    return files, skipped


def identify(source_path: str) -> Identity:
    """kab/kota, kind and week from `<kabkota>/<kabkota>_<kind>_<week>[_suffix].<ext>`."""
    p = PurePosixPath(safe_name(source_path))
    fmt = FORMATS.get(p.suffix.lower())
    m = NAME_RE.match(p.stem)
    folder = p.parts[0] if len(p.parts) > 1 else None
    shown = p.name if len(p.name) <= 120 else p.name[:100] + "…" + p.name[-15:]
    if fmt is None:
        suffix = p.suffix[:20] or "(tanpa ekstensi)"
        return Identity(None, None, None, None,
                        f"Format file '{suffix}' tidak didukung; kirim CSV, XLSX, atau JSON.")
    if not m and (wb := WORKBOOK_RE.match(p.stem)):
        return _workbook(wb["kabkota"], wb["week"].upper(), fmt, folder)
    if not m:
        return Identity(folder, None, None, fmt,
                        f"Nama file '{shown}' tidak sesuai pola "
                        "<kode_kabkota>_<jenis>_<minggu>.<ext>, contoh 6402_logistik_2024-W47.csv.")
    kabkota, kind, week = m["kabkota"], m["kind"].lower(), m["week"].upper()
    if kind not in KINDS:
        return Identity(kabkota, None, week, fmt,
                        f"Jenis laporan '{kind[:30]}' tidak dikenal; gunakan salah satu dari: "
                        + ", ".join(KINDS) + ".")
    try:
        parse_week(week)
    except ValueError as exc:
        return Identity(kabkota, kind, None, fmt, str(exc))
    if len(kabkota) == 2 and kind not in PROVINCE_KINDS:
        return Identity(kabkota, kind, week, fmt,
                        f"Kode {kabkota} adalah kode provinsi; desk provinsi hanya mengirim "
                        + ", ".join(sorted(PROVINCE_KINDS)) + ". Laporan " + kind
                        + " dikirim oleh kab/kota dengan kode 4 digit.")
    if folder != kabkota:
        return Identity(kabkota, kind, week, fmt,
                        f"File untuk kab/kota {kabkota} harus diletakkan di folder {kabkota}/, "
                        f"bukan di {folder or 'folder utama'}.")
    return Identity(kabkota, kind, week, fmt, None)


def _workbook(kabkota: str, week: str, fmt: str, folder: str | None) -> Identity:
    """A workbook named for kab/kota and week: its sheets say the kinds
    (`tasks.ingest.workbook`)."""
    if fmt != "xlsx":
        return Identity(kabkota, None, week, fmt,
                        "Nama file tanpa jenis laporan hanya untuk buku kerja XLSX berisi lembar "
                        "per jenis (mis. 6402_2024-W47.xlsx); file CSV/JSON diberi nama "
                        "<kode_kabkota>_<jenis>_<minggu>, contoh 6402_logistik_2024-W47.csv.")
    try:
        parse_week(week)
    except ValueError as exc:
        return Identity(kabkota, None, None, fmt, str(exc))
    if folder != kabkota:
        return Identity(kabkota, None, week, fmt,
                        f"File untuk kab/kota {kabkota} harus diletakkan di folder {kabkota}/, "
                        f"bukan di {folder or 'folder utama'}.")
    return Identity(kabkota, None, week, fmt, None, workbook=True)


class SourceUnreadable(Exception):
    """The inbox file could not be read (vanished, permission, I/O error): the file's problem,
    not the run's; it is listed as skipped and tried again next run."""


def archive(item: InboxFile, archive_dir: Path, max_bytes: int | None = None) -> ArchivedFile:
    """Stream the file into the archive under its sha256, hashing as it goes (bounded memory).

    Written to a temporary name and renamed, so the archive never holds a partial file under a
    real hash; an existing archived copy (same bytes) is kept as it is. Past `max_bytes` (what
    was actually read, not what the listing claimed) nothing more is written and the partial copy
    is removed: the file is hashed to the end and ends in a "too large" verdict, unarchived.
    """
    archive_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    tmp = archive_dir / f".incoming-{os.getpid()}-{hashlib.sha256(item.raw_path).hexdigest()[:16]}"
    too_large = max_bytes is not None and item.size > max_bytes
    read = 0
    try:
        with tmp.open("wb") as dst:
            try:
                src = fsspec.open(item.url, "rb").open()
            except OSError as exc:
                raise SourceUnreadable(f"{type(exc).__name__}: {exc.strerror or exc}") from exc
            with src:
                while True:
                    try:
                        chunk = src.read(CHUNK)
                    except OSError as exc:
                        raise SourceUnreadable(f"{type(exc).__name__}: {exc.strerror or exc}"
                                               ) from exc
                    if not chunk:
                        break
                    digest.update(chunk)
                    read += len(chunk)
                    too_large = too_large or (max_bytes is not None and read > max_bytes)
                    if not too_large:
                        dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)  # no half-written file left behind (e.g. disk full)
        raise
    sha = digest.hexdigest()
    identity = identify(item.source_path)
    if too_large:
        tmp.unlink()
        return ArchivedFile(InboxFile(item.source_path, item.url, read, item.mtime,
                                      item.fingerprint, item.stored_at), sha, None, identity)
    suffix = PurePosixPath(item.display_path).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else ""  # never a path part
    target = archive_dir / sha[:2] / f"{sha}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        tmp.unlink()
    else:
        os.replace(tmp, target)
    return ArchivedFile(InboxFile(item.source_path, item.url, read, item.mtime,
                                  item.fingerprint, item.stored_at), sha, target, identity)

"""Pull: list the inbox (any fsspec URL), identify each file, archive its raw bytes by hash.

The archive is written before anything reads the content, so even a file that later crashes the
parser or is rejected is kept byte for byte under its sha256.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import fsspec

from tasks.contract import KINDS
from tasks.weeks import parse_week

FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".json": "json"}
NAME_RE = re.compile(
    r"^(?P<kabkota>\d{4})_(?P<kind>[a-z]+)_(?P<week>\d{4}-W\d{2})(?:_[\w-]+)?$", re.IGNORECASE
)
CHUNK = 1 << 20


@dataclass(frozen=True)
class InboxFile:
    """A file as listed in the inbox, before it is read."""

    source_path: str  # path relative to the inbox root, POSIX style (e.g. 6402/6402_…csv)
    url: str  # full fsspec path, for reading
    size: int
    mtime: datetime | None


@dataclass(frozen=True)
class Identity:
    """What the path and name say the file is; `problem` (Indonesian) when they say nothing sane."""

    kabkota_code: str | None
    kind: str | None
    week: str | None
    file_format: str | None
    problem: str | None


@dataclass(frozen=True)
class ArchivedFile:
    source: InboxFile
    sha256: str
    archive_path: Path
    identity: Identity


def _mtime(info: dict) -> datetime | None:
    for key in ("mtime", "LastModified", "last_modified", "created", "modified"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC)
    return None


def list_inbox(inbox: str) -> list[InboxFile]:
    """Every regular file below the inbox root, skipping hidden and Office lock files."""
    fs, root = fsspec.core.url_to_fs(inbox)
    if not fs.exists(root):
        raise FileNotFoundError(f"Folder masuk (inbox) tidak ditemukan: {inbox}")
    root = root.rstrip("/")
    out = []
    for path, info in sorted(fs.find(root, detail=True).items()):
        rel = PurePosixPath(path).relative_to(PurePosixPath(root)) if root else PurePosixPath(path)
        if any(part.startswith((".", "~$")) for part in rel.parts):
            continue
        if info.get("type", "file") != "file":
            continue
        out.append(InboxFile(str(rel), fs.unstrip_protocol(path), int(info.get("size") or 0),
                             _mtime(info)))
    return out


def identify(source_path: str) -> Identity:
    """kab/kota, kind and week from `<kabkota>/<kabkota>_<kind>_<week>[_suffix].<ext>`."""
    p = PurePosixPath(source_path)
    fmt = FORMATS.get(p.suffix.lower())
    m = NAME_RE.match(p.stem)
    folder = p.parts[0] if len(p.parts) > 1 else None
    if fmt is None:
        return Identity(None, None, None, None,
                        f"Format file '{p.suffix or '(tanpa ekstensi)'}' tidak didukung; "
                        "kirim CSV, XLSX, atau JSON.")
    if not m:
        return Identity(folder, None, None, fmt,
                        f"Nama file '{p.name}' tidak sesuai pola "
                        "<kode_kabkota>_<jenis>_<minggu>.<ext>, contoh 6402_logistik_2024-W47.csv.")
    kabkota, kind, week = m["kabkota"], m["kind"].lower(), m["week"].upper()
    if kind not in KINDS:
        return Identity(kabkota, None, week, fmt,
                        f"Jenis laporan '{kind}' tidak dikenal; gunakan salah satu dari: "
                        + ", ".join(KINDS) + ".")
    try:
        parse_week(week)
    except ValueError as exc:
        return Identity(kabkota, kind, None, fmt, str(exc))
    if folder != kabkota:
        return Identity(kabkota, kind, week, fmt,
                        f"File untuk kab/kota {kabkota} harus diletakkan di folder {kabkota}/, "
                        f"bukan di {folder or 'folder utama'}.")
    return Identity(kabkota, kind, week, fmt, None)


def archive(item: InboxFile, archive_dir: Path) -> ArchivedFile:
    """Stream the file into the archive under its sha256, hashing as it goes (bounded memory).

    Written to a temporary name and renamed, so the archive never holds a partial file under a
    real hash; an existing archived copy (same bytes) is kept as it is.
    """
    archive_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    tmp = archive_dir / f".incoming-{os.getpid()}-{abs(hash(item.url))}"
    try:
        with fsspec.open(item.url, "rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)  # no half-written file left behind (e.g. disk full)
        raise
    sha = digest.hexdigest()
    suffix = PurePosixPath(item.source_path).suffix.lower()
    target = archive_dir / sha[:2] / f"{sha}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        tmp.unlink()
    else:
        os.replace(tmp, target)
    return ArchivedFile(item, sha, target, identify(item.source_path))

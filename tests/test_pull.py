"""Pull: identifying a file from its path, listing the inbox, archiving bytes under sha256."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime

import fsspec
import pytest

from tasks.ingest.pull import archive, identify, list_inbox

# ---------------------------------------------------------------------------------------------
# identify


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("6402/6402_logistik_2024-W47.csv", ("6402", "logistik", "2024-W47", "csv")),
        ("6402/6402_logistik_2024-W47_revisi.csv", ("6402", "logistik", "2024-W47", "csv")),
        ("6402/6402_logistik_2024-W47_revisi-2.xlsx", ("6402", "logistik", "2024-W47", "xlsx")),
        ("6471/6471_insiden_2024-W40.json", ("6471", "insiden", "2024-W40", "json")),
        ("6474/6474_ringkasan_2024-W48.txt", ("6474", "ringkasan", "2024-W48", "csv")),
        # case does not matter in the kind, the week letter or the extension
        ("6401/6401_Keamanan_2024-w46.XLSX", ("6401", "keamanan", "2024-W46", "xlsx")),
        ("6409/6409_netralitas_2024-W45.Json", ("6409", "netralitas", "2024-W45", "json")),
    ],
)
def test_identify_good_names(path, expected):
    ident = identify(path)
    assert ident.problem is None
    assert (ident.kabkota_code, ident.kind, ident.week, ident.file_format) == expected


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("6402/6402_logistik_2024-W47.pdf", ["Format file '.pdf' tidak didukung", "CSV, XLSX"]),
        ("6402/6402_logistik_2024-W47.xls", ["Format file '.xls' tidak didukung"]),
        ("6402/6402_logistik_2024-W47", ["(tanpa ekstensi)", "tidak didukung"]),
        ("6402/laporan logistik.csv", ["Nama file 'laporan logistik.csv' tidak sesuai pola",
                                       "6402_logistik_2024-W47.csv"]),
        ("6402/6402_logistik_2024-47.csv", ["tidak sesuai pola"]),
        ("6402/6402_logistik_W47.csv", ["tidak sesuai pola"]),
        ("6402/6402_cuaca_2024-W47.csv", ["Jenis laporan 'cuaca' tidak dikenal", "logistik",
                                          "netralitas"]),
        ("6401/6402_logistik_2024-W47.csv", ["kab/kota 6402", "folder 6402/", "bukan di 6401"]),
        ("6402_logistik_2024-W47.csv", ["folder 6402/", "folder utama"]),
        ("lain/6402/6402_logistik_2024-W47.csv", ["folder 6402/", "bukan di lain"]),
    ],
)
def test_identify_problems_are_explained_in_indonesian(path, words):
    ident = identify(path)
    assert ident.problem
    for w in words:
        assert w in ident.problem


@pytest.mark.parametrize("week", ["2024-W54", "2024-W53", "2024-W00"])
def test_identify_impossible_week_is_explained_in_indonesian(week):
    """A week label of the right shape that does not exist (2024 has 52 ISO weeks).

    The problem text goes back to the regency desk as the rejection reason, so it must be
    Indonesian and name the label, like every other identification problem.
    """
    ident = identify(f"6402/6402_logistik_{week}.csv")
    assert ident.problem is not None
    assert ident.week is None
    assert week in ident.problem, ident.problem
    assert "minggu" in ident.problem.lower(), ident.problem


def test_identify_keeps_what_it_could_read_for_a_wrong_folder():
    ident = identify("6401/6402_logistik_2024-W47.csv")
    assert (ident.kabkota_code, ident.kind, ident.week) == ("6402", "logistik", "2024-W47")


# ---------------------------------------------------------------------------------------------
# list_inbox


def _write(path, data: bytes, mtime: float | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_list_inbox_skips_hidden_and_office_lock_files(tmp_path):
    inbox = tmp_path / "inbox"
    t = datetime(2024, 11, 22, 2, 0, tzinfo=UTC).timestamp()
    _write(inbox / "6402" / "6402_logistik_2024-W47.csv", b"a,b\n1,2\n", t)
    _write(inbox / "6402" / "6402_insiden_2024-W47.json", b"[]", t + 60)
    _write(inbox / "6402" / "~$6402_logistik_2024-W47.xlsx", b"lock")
    _write(inbox / "6402" / ".6402_logistik_2024-W47.csv.swp", b"swap")
    _write(inbox / ".git" / "config", b"[core]")
    _write(inbox / "6471" / ".tmp" / "6471_logistik_2024-W47.csv", b"x")
    _write(inbox / "6471" / "6471_ringkasan_2024-W47.csv", b"kode_kabkota\n6471\n", t)
    (inbox / "6474").mkdir()  # an empty folder is not a file

    files, skipped = list_inbox(str(inbox))
    assert [f.source_path for f in files] == [
        "6402/6402_insiden_2024-W47.json",
        "6402/6402_logistik_2024-W47.csv",
        "6471/6471_ringkasan_2024-W47.csv",
    ]
    # listed for the data team, never read; a hidden folder is listed once, not its contents
    assert [(s.source_path, s.object_type) for s in skipped] == [
        (".git", "hidden"),
        ("6402/.6402_logistik_2024-W47.csv.swp", "hidden"),
        ("6402/~$6402_logistik_2024-W47.xlsx", "hidden"),
        ("6471/.tmp", "hidden"),
    ]
    by_path = {f.source_path: f for f in files}
    logistik = by_path["6402/6402_logistik_2024-W47.csv"]
    assert logistik.size == len(b"a,b\n1,2\n")
    assert logistik.mtime == datetime(2024, 11, 22, 2, 0, tzinfo=UTC)
    assert logistik.mtime.tzinfo is not None
    assert by_path["6402/6402_insiden_2024-W47.json"].mtime == datetime(
        2024, 11, 22, 2, 1, tzinfo=UTC)
    with fsspec.open(logistik.url, "rb") as f:
        assert f.read() == b"a,b\n1,2\n"


def test_list_inbox_missing_folder_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="tidak ditemukan"):
        list_inbox(str(tmp_path / "nope"))


# ---------------------------------------------------------------------------------------------
# archive


def test_archive_stores_a_byte_identical_copy_under_its_sha256(tmp_path):
    inbox, store = tmp_path / "inbox", tmp_path / "archive"
    data = os.urandom(3 * (1 << 20) + 17)  # several read chunks, odd length
    _write(inbox / "6402" / "6402_logistik_2024-W47.XLSX", data)
    (item,), _ = list_inbox(str(inbox))

    got = archive(item, store)

    sha = hashlib.sha256(data).hexdigest()
    assert got.sha256 == sha
    assert got.archive_path == store / sha[:2] / f"{sha}.xlsx"
    assert got.archive_path.read_bytes() == data
    assert got.source == item
    assert got.identity == identify("6402/6402_logistik_2024-W47.XLSX")
    # nothing else (no temporary file) is left behind
    assert sorted(p.relative_to(store) for p in store.rglob("*") if p.is_file()) == [
        got.archive_path.relative_to(store)]


def test_archive_same_bytes_twice_keeps_one_copy(tmp_path):
    inbox, store = tmp_path / "inbox", tmp_path / "archive"
    _write(inbox / "6402" / "6402_logistik_2024-W47.csv", b"same bytes\n")
    _write(inbox / "6402" / "6402_logistik_2024-W47_salinan.csv", b"same bytes\n")
    first, second = (archive(i, store) for i in list_inbox(str(inbox))[0])
    assert first.sha256 == second.sha256
    assert first.archive_path == second.archive_path
    assert first.archive_path.read_bytes() == b"same bytes\n"
    assert len([p for p in store.rglob("*") if p.is_file()]) == 1


def test_archive_keeps_a_file_that_cannot_even_be_identified(tmp_path):
    inbox, store = tmp_path / "inbox", tmp_path / "archive"
    data = b"PK\x03\x04 not really a document"
    _write(inbox / "6402" / "catatan.docx", data)
    (item,), _ = list_inbox(str(inbox))
    got = archive(item, store)
    assert got.identity.problem
    assert got.archive_path.read_bytes() == data
    assert got.archive_path.name == hashlib.sha256(data).hexdigest() + ".docx"


@pytest.fixture
def memory_inbox():
    fs = fsspec.filesystem("memory")
    root = f"/pilkada-test-{uuid.uuid4().hex}"
    yield fs, root
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_list_and_archive_work_for_a_memory_fsspec_inbox(memory_inbox, tmp_path):
    fs, root = memory_inbox
    data = b"kode_kabkota;status_umum\r\n6402;aman_terkendali\r\n"
    fs.pipe(f"{root}/6402/6402_ringkasan_2024-W47.csv", data)
    fs.pipe(f"{root}/6402/~$6402_ringkasan_2024-W47.xlsx", b"lock")
    fs.pipe(f"{root}/6402/.DS_Store", b"mac")

    files, skipped = list_inbox(f"memory://{root}")
    assert [f.source_path for f in files] == ["6402/6402_ringkasan_2024-W47.csv"]
    assert len(skipped) == 2
    (item,) = files
    assert item.size == len(data)
    assert item.url.startswith("memory://")
    assert item.mtime is not None and item.mtime.tzinfo is not None

    got = archive(item, tmp_path / "archive")
    sha = hashlib.sha256(data).hexdigest()
    assert got.sha256 == sha
    assert got.archive_path.read_bytes() == data
    assert got.archive_path.suffix == ".csv"
    assert got.identity.problem is None
    assert (got.identity.kabkota_code, got.identity.kind) == ("6402", "ringkasan")

"""The corpus of bad and awkward submissions (tests/corpus/): every file's exact verdict.

`tests/corpus/inbox/` holds real files, one per case, laid out as a desk would send them;
`tests/corpus/expected.json` maps each file (path relative to the inbox) to

- `status`: the ledger status it must get (`audit.submission_status`), or `skipped` for a
  file the inbox listing must ignore (no ledger row at all);
- `reason_contains`: substrings the (Indonesian) reason must contain;
- `rules`: rule ids that must appear in `audit.row_issue` for the file;
- `rows` (optional): row numbers (as the desk sees them) that must carry a finding;
- `late` (optional): the expected `is_late`;
- `cells` (optional): `[row, column, value]` triples the typed row in `core.<kind>` must hold
  (proves an awkward format was read right, not merely accepted); dates as ISO text;
- `mtime`: when the file was received. Git does not keep modification times, so the test
  copies the corpus to a temporary inbox and sets every file's mtime from the manifest;
- `isolated` / `env` (optional): ingested alone, in its own warehouse, with these settings
  (size and row limits), instead of with the rest of the corpus;
- `case`: what the file is about.

The whole corpus (except isolated cases) is ingested once, in one run, as a real inbox would be;
then each case is checked on its own, so a failure names the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from tasks.warehouse.database import connect
from tests.pipeline import ingest, site

# the tests here run the ingest flow (tests/pipeline.py) on the session's Prefect server
pytestmark = pytest.mark.usefixtures("prefect_harness")

CORPUS = Path(__file__).parent / "corpus"
INBOX = CORPUS / "inbox"
MANIFEST: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
STATUSES = {"accepted", "accepted_with_flags", "rejected", "duplicate", "superseded", "skipped"}
SHARED = sorted(p for p, e in MANIFEST.items() if not e.get("isolated"))
ISOLATED = sorted(p for p, e in MANIFEST.items() if e.get("isolated"))


# ---------------------------------------------------------------------------------------------
# helpers


def corpus_files() -> set[str]:
    return {p.relative_to(INBOX).as_posix() for p in INBOX.rglob("*") if p.is_file()}


def copy_inbox(paths: list[str], inbox: Path) -> None:
    """Copy corpus files into `inbox`, each with the mtime the manifest gives it."""
    for rel in paths:
        target = inbox / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(INBOX / rel, target)
        stamp = datetime.fromisoformat(MANIFEST[rel]["mtime"]).timestamp()
        os.utime(target, (stamp, stamp))


def query(con, q: str, params: list | None = None) -> list[dict]:
    cur = con.execute(q, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def snapshot(con) -> dict:
    """Everything the checks need, read once (the connection closes with the fixture)."""
    ledger = {r["source_path"]: r for r in query(
        con, "SELECT s.*, f.archive_path FROM audit.submission_status s "
             "JOIN raw.file f USING (file_id) ORDER BY file_id")}
    issues: dict[int, list[dict]] = {}
    for i in query(con, "SELECT * FROM audit.row_issue ORDER BY file_id, row_number NULLS FIRST"):
        issues.setdefault(i["file_id"], []).append(i)
    cells: dict[str, dict[tuple[int, str], object]] = {}
    for rel, exp in MANIFEST.items():
        row = ledger.get(rel)
        if "cells" not in exp or row is None or row["kind"] is None:
            continue
        typed = query(con, f"SELECT * FROM core.{row['kind']} WHERE file_id = ?", [row["file_id"]])
        cells[rel] = {(r["row_number"], c): v for r in typed for c, v in r.items()}
    duplicate_of = dict(con.execute("SELECT file_id, duplicate_of FROM audit.submission "
                                    "WHERE verdict = 'duplicate'").fetchall())
    return {"ledger": ledger, "issues": issues, "cells": cells, "duplicate_of": duplicate_of}


def ingest_corpus(paths: list[str], base: Path, env: dict[str, str] | None = None,
                  later: list[str] | None = None) -> dict:
    """A fresh warehouse under `base`, the given corpus files as its inbox, one ingest run
    (and a second run after `later` files are added, when given)."""
    with pytest.MonkeyPatch.context() as mp:
        # the manifest's mtimes are the arrival times (`site` sets PILKADA_ARRIVAL=mtime)
        settings = site(base, mp, **{k.removeprefix("PILKADA_").lower(): v
                                     for k, v in (env or {}).items()})
        copy_inbox(paths, base / "inbox")
        results = ingest(settings)
        if later is not None:
            copy_inbox(later, base / "inbox")
            results += ingest(settings)
        with connect(settings.warehouse) as con:
            state = snapshot(con)
    state["results"] = results
    state["settings"] = settings
    return state


def check_case(rel: str, state: dict) -> None:
    exp = MANIFEST[rel]
    ledger = state["ledger"]
    if exp["status"] == "skipped":
        assert rel not in ledger, f"{rel} should never reach the ledger: {ledger.get(rel)}"
        return
    assert rel in ledger, f"{rel}: no ledger row ({exp['case']})"
    row = ledger[rel]
    context = f"{rel} ({exp['case']}): {row['status']} / {row['reason']!r}"
    assert row["status"] == exp["status"], context
    assert row["status"] == "accepted" or row["reason"].strip(), context
    for text in exp["reason_contains"]:
        assert text in row["reason"], f"{context}: reason lacks {text!r}"
    found = state["issues"].get(row["file_id"], [])
    rules = {i["rule"] for i in found}
    for rule in exp["rules"]:
        assert rule in rules, f"{context}: rule {rule!r} not in row_issue {sorted(rules)}"
    for n in exp.get("rows", []):
        assert n in {i["row_number"] for i in found}, \
            f"{context}: no finding on row {n}: {[(i['row_number'], i['rule']) for i in found]}"
    assert all(i["sha256"] == row["sha256"] for i in found), context
    if "late" in exp:
        assert row["is_late"] is exp["late"], context
    assert row["received_at"] == datetime.fromisoformat(exp["mtime"]), context
    for n, column, value in exp.get("cells", []):
        typed = state["cells"].get(rel, {})
        assert (n, column) in typed, f"{context}: no typed row {n} in core.{row['kind']}"
        actual = typed[(n, column)]
        if value is None:
            assert actual is None, f"{context}: row {n} {column} = {actual!r}, expected empty"
        else:
            assert str(actual) == str(value), f"{context}: row {n} {column} = {actual!r}"

    original = (INBOX / rel).read_bytes()
    assert row["sha256"] == hashlib.sha256(original).hexdigest(), context
    if "batas_ukuran" in exp["rules"]:  # over the size limit: hashed, never copied
        assert row["archive_path"] == "", context
        return
    archived = Path(row["archive_path"])
    assert archived.is_relative_to(state["settings"].archive), context
    if row["status"] == "rejected":
        # every rejected file is kept byte for byte, under its hash
        assert archived.is_file(), context
        data = archived.read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], context
        assert data == original, context


# ---------------------------------------------------------------------------------------------
# the manifest itself


def test_manifest_covers_the_corpus():
    assert len(MANIFEST) >= 30
    assert set(MANIFEST) == corpus_files(), "every corpus file needs exactly one manifest entry"
    for rel, exp in MANIFEST.items():
        assert exp["status"] in STATUSES, rel
        assert exp["case"].strip(), rel
        assert isinstance(exp["reason_contains"], list) and isinstance(exp["rules"], list), rel
        assert datetime.fromisoformat(exp["mtime"]).tzinfo is not None, rel
        if exp["status"] not in ("accepted", "skipped"):
            assert exp["reason_contains"] or exp.get("isolated"), \
                f"{rel}: say what the reason must contain"
    assert len({e["case"] for e in MANIFEST.values()}) == len(MANIFEST), "one case per file"


def test_corpus_is_small():
    assert sum((INBOX / rel).stat().st_size for rel in MANIFEST) < 2 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# the shared run


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> dict:
    return ingest_corpus(SHARED, tmp_path_factory.mktemp("corpus"))


def test_every_file_gets_exactly_one_ledger_row(corpus_run):
    expected = {rel for rel in SHARED if MANIFEST[rel]["status"] != "skipped"}
    assert set(corpus_run["ledger"]) == expected
    assert len(corpus_run["results"]) == len(expected)


@pytest.mark.parametrize("rel", SHARED)
def test_corpus_case(rel, corpus_run):
    check_case(rel, corpus_run)


def test_duplicate_points_at_the_first_copy(corpus_run):
    ledger = corpus_run["ledger"]
    dup = ledger["6474/6474_insiden_2024-W48_kirimulang.json"]
    first = ledger["6474/6474_insiden_2024-W48.json"]
    assert dup["status"] == "duplicate"
    assert dup["sha256"] == first["sha256"]
    assert dup["archive_path"] == first["archive_path"]  # one archived copy per content
    assert dup["version"] is None and first["version"] == 1
    # audit.submission.duplicate_of names the copy that counts, also when both arrive in one run
    assert corpus_run["duplicate_of"][dup["file_id"]] == first["file_id"]


def test_revision_is_version_two_and_current(corpus_run):
    ledger = corpus_run["ledger"]
    old = ledger["6474/6474_logistik_2024-W47.csv"]
    new = ledger["6474/6474_logistik_2024-W47_revisi.csv"]
    assert (old["version"], new["version"]) == (1, 2)
    assert old["rows_total"] == new["rows_total"] == 120


def test_accepted_slots_do_not_collide_by_accident(corpus_run):
    """Only the deliberate revision supersedes anything: every other accepted file is the
    current one of its kab/kota, kind and week."""
    slots: dict[tuple, list[str]] = {}
    for r in corpus_run["ledger"].values():
        if r["status"] in ("accepted", "accepted_with_flags", "superseded"):
            slots.setdefault((r["kabkota_code"], r["kind"], r["week"]), []).append(
                r["source_path"])
    shared = {k: v for k, v in slots.items() if len(v) > 1}
    assert shared == {("6474", "logistik", "2024-W47"): [
        "6474/6474_logistik_2024-W47.csv", "6474/6474_logistik_2024-W47_revisi.csv"]}


def test_rerun_over_the_corpus_adds_nothing(corpus_run):
    """Ingesting the same inbox again (same warehouse) changes nothing."""
    settings = corpus_run["settings"]
    with connect(settings.warehouse) as con:
        before = con.execute("SELECT count(*) FROM raw.file").fetchall()
    assert ingest(settings) == []
    with connect(settings.warehouse) as con:
        assert con.execute("SELECT count(*) FROM raw.file").fetchall() == before


# ---------------------------------------------------------------------------------------------
# isolated cases: own warehouse, own settings


@pytest.mark.parametrize("rel", ISOLATED)
def test_isolated_corpus_case(rel, tmp_path):
    state = ingest_corpus([rel], tmp_path, MANIFEST[rel].get("env"))
    check_case(rel, state)


@pytest.mark.parametrize("rel", [p for p in ISOLATED if not MANIFEST[p].get("env")])
def test_one_unreadable_file_does_not_stop_the_run(rel, tmp_path):
    """A file the parser chokes on is rejected on its own; the other files of the run (here an
    ordinary one from another desk) are still judged and loaded."""
    good = "6474/6474_keamanan_2024-W40.csv"
    state = ingest_corpus([rel, good], tmp_path)
    check_case(good, state)
    check_case(rel, state)


def test_file_moved_out_of_the_wrong_folder_in_a_later_run_is_judged(tmp_path):
    """Run 1 rejects the file for its folder; the desk reads the feedback and moves it (same
    bytes) into its own folder. Run 2 must judge it on its content: it was never counted, so it
    cannot be a duplicate."""
    wrong, right = "6472/6474_netralitas_2024-W48.csv", "6474/6474_netralitas_2024-W48.csv"
    state = ingest_corpus([wrong], tmp_path, later=[right])
    check_case(wrong, state)
    check_case(right, state)


def test_every_corpus_file_gets_feedback(corpus_run):
    """A note for every ledger row (whatever its name, status or format) and a findings table
    exactly for the files with findings, all under the outbox's feedback folder: what the run
    wrote anywhere in the outbox."""
    settings = corpus_run["settings"]
    ledger = corpus_run["ledger"]
    written = [p for p in settings.outbox.rglob("*")
               if p.name.endswith((".umpan-balik.txt", ".temuan.csv"))]
    root = (settings.outbox / "feedback").resolve()
    assert all(p.resolve().is_relative_to(root) for p in written)
    notes = {int(p.name.split(".")[-3]) for p in written if p.name.endswith(".umpan-balik.txt")}
    tables = {int(p.name.split(".")[-3]) for p in written if p.name.endswith(".temuan.csv")}
    assert notes == {r["file_id"] for r in ledger.values()}
    assert tables == set(corpus_run["issues"])

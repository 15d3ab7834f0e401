"""Issue 16 parts 5 and 6: a run reads by week in the UI, says its counts and rejects in its logs,
leaves artifacts that start with what needs doing, and keeps GX's results as Data Docs.

The session's Prefect test server and one ingest of three sample weeks (2024-W44 has a rejected
file, 2024-W45 flagged rows, 2024-W47 a late one) plus a hidden file in the inbox; what the run left
is read back through the Prefect client, the outbox and the GX store."""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path

import duckdb
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler

from flows.bulletin import weekly_bulletin
from flows.ingest import ingest_submissions
from samples.kaltim import generate
from tasks.contract.submission import KINDS
from tasks.ingest.data_docs import project_dir, site_dir
from tasks.ingest.summary import bulletin_summary, file_link, md
from tests.pipeline import site

WEEKS = ["2024-W44", "2024-W45", "2024-W47"]  # a rejected file, flagged rows, a late file
SUITES = sorted(KINDS)  # the sample sends every kind, follow-ups included, in these weeks


@pytest.fixture(scope="module")
def run(tmp_path_factory, prefect_harness):
    """The sample weeks ingested once on the session's Prefect test server; the run's id, task
    runs, logs and artifacts read back through the client, and the warehouse's rejected and late
    files."""
    root = tmp_path_factory.mktemp("observability")
    mp = pytest.MonkeyPatch()
    settings = site(root, mp)
    generate(root / "inbox", WEEKS)
    (root / "inbox" / ".catatan-rahasia.csv").write_text("bukan kiriman\n", encoding="utf-8")
    state = ingest_submissions(return_state=True)
    bulletin = weekly_bulletin(week=WEEKS[-1], return_state=True)
    APILogHandler().flush()  # logs are sent in batches: all of them before reading back
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[flow_run_id])))
        logs = client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200)
        artifacts = {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))}
        notes = [a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[bulletin.state_details.flow_run_id])))
            if a.key == "weekly-bulletin"]  # the session's server has other files' runs too
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        rejected = con.execute("SELECT file_name, reason FROM audit.submission_status "
                               "WHERE status = 'rejected' ORDER BY 1").fetchall()
        late = [n for (n,) in con.execute("SELECT file_name FROM audit.submission_status "
                                          "WHERE is_late AND status <> 'rejected'").fetchall()]
        flagged = con.execute("SELECT kabkota_name, status FROM mart.kabkota_weekly WHERE week = ? "
                              "AND status IN ('Kritis', 'Waspada')", [WEEKS[-1]]).fetchall()
    yield {"root": root, "settings": settings, "state": state, "runs": runs, "logs": logs,
           "artifacts": artifacts, "rejected": rejected, "late": late,
           "bulletin": bulletin.result(), "notes": notes, "flagged": flagged}
    mp.undo()


def test_task_runs_are_named_for_their_week(run):
    names = {r.name for r in run["runs"]}
    for week in WEEKS:
        assert {f"validate-{week}", f"load-{week}", f"feedback-{week}"} <= names, names


def test_logs_carry_the_counts_and_each_rejected_files_reason(run):
    messages = [log.message for log in run["logs"]]
    assert run["rejected"], "the sample has a rejected file"
    for name, reason in run["rejected"]:
        assert any(name in m and reason in m for m in messages), (name, messages)
    for week in WEEKS:
        assert any(m.startswith(f"Validasi {week}:") and "ditolak" in m for m in messages)
        # how many rows carry a finding, and of them how many count nowhere (issue 21)
        assert any(m.startswith(f"Muat {week}:") and "baris dimuat" in m
                   and re.search(r"\(\d+ baris ditandai; \d+ di antaranya tidak dihitung", m)
                   for m in messages)
        assert any(m.startswith(f"Umpan balik {week}:") and "catatan ditulis" in m
                   for m in messages)
    assert any(m.startswith("Tarik:") and "1 bukan kiriman" in m for m in messages)


def test_the_projects_own_loggers_reach_the_runs_logs(run):
    """`tasks.ingest.judge` warns about the hidden file; the warning is in the run, under its
    name."""
    routed = [log for log in run["logs"] if log.name == "tasks.ingest.judge"]
    assert any(".catatan-rahasia.csv" in log.message and log.task_run_id for log in routed)


def test_ingest_summary_lists_rejects_and_late_files_before_the_counts(run):
    summary = run["artifacts"]["ingest-summary"]
    text = summary.data
    assert summary.type == "markdown"
    rejected, late = text.index("## Ditolak"), text.index("## Terlambat")
    counts, skipped = text.index("## Jumlah per jenis"), text.index("## Bukan kiriman")
    assert rejected < late < counts < skipped
    for name, _ in run["rejected"]:
        assert rejected < text.index(md(name)) < late
    assert run["late"] and all(late < text.index(md(n)) < counts for n in run["late"])
    assert md(".catatan-rahasia.csv") in text[skipped:]
    ledger = run["artifacts"]["ingest-ledger"]
    rows = json.loads(ledger.data)
    assert ledger.type == "table" and rows[0]["status"] == "rejected"


def test_data_docs_are_built_for_the_run_and_linked_from_the_summary(run):
    index = site_dir(run["settings"].outbox) / "index.html"
    html = index.read_text(encoding="utf-8")
    for suite in SUITES:
        assert f"expectations/{suite}.html" in html
        assert (index.parent / "expectations" / f"{suite}.html").is_file()
    pages = list((index.parent / "validations").rglob("*.html"))
    assert {p.stem for p in pages} >= {f"{w}-{k}-1" for w in WEEKS for k in SUITES}
    assert file_link(index) in run["artifacts"]["ingest-summary"].data


def test_kept_results_are_bounded_to_a_summary(run):
    """The per-row lists that made the findings are not stored; the first values are."""
    stored = list((project_dir(run["settings"].warehouse) / "uncommitted"
                   / "validations").rglob("*.json"))
    assert len(stored) == len(WEEKS) * len(SUITES)
    results = [r["result"] for p in stored
               for r in json.loads(p.read_text(encoding="utf-8"))["results"]]
    assert not any("unexpected_index_list" in r or "unexpected_list" in r for r in results)
    sampled = [r for r in results if r.get("unexpected_count") and "partial_unexpected_list" in r]
    assert sampled and all(len(r["partial_unexpected_list"]) == min(20, r["unexpected_count"])
                           for r in sampled)


def test_kept_results_and_data_docs_never_show_a_refused_nip(run):
    """W45's 6472 netralitas file puts an ASN's NIP in `ref_subjek`: the warehouse withholds it,
    and so do the kept results and Data Docs (neutrality results are counts only)."""
    nip = "198503122010011002"
    places = [project_dir(run["settings"].warehouse), site_dir(run["settings"].outbox)]
    texts = [p.read_text(encoding="utf-8") for place in places for p in place.rglob("*")
             if p.suffix in (".json", ".html")]
    assert any("netralitas" in t and "bukan_nip" in t for t in texts)  # the rule is documented
    assert not [t for t in texts if nip in t]


def test_bulletin_note_names_kritis_and_waspada_and_links_the_html(run):
    [note] = run["notes"]
    html = run["bulletin"]["html"]
    assert file_link(html) in note.data and "EML" in note.data
    assert run["flagged"], "the sample's W47 has kab/kota that need attention"
    for name, status in run["flagged"]:
        section = note.data.index(f"## {status}")
        assert note.data.index(md(name), section) > section


def test_bulletin_note_counts_deliveries_and_escapes_names():
    ctx = {"lang": "id", "counts": {"Siap": 0, "Waspada": 0, "Kritis": 1},
           "kabkota": [{"kabkota_name": "Kab. [X](http://x)", "status": "Kritis",
                        "alasan": "logistik < 50%"}]}
    text = bulletin_summary(ctx, {"html": "/srv/o/b.html"},
                            {"deliveries": [{"status": "sent"}, {"status": "sent"},
                                            {"status": "failed_permanent"}]}, "Buletin")
    assert "Kab. \\[X\\](http://x)" in text and "[X](" not in text
    assert "failed\\_permanent 1, sent 2" in text
    assert "## Waspada (0)\n\n- tidak ada" in text


def test_data_docs_work_with_the_default_relative_paths(tmp_path, monkeypatch):
    """The shipped defaults are relative (`data/warehouse.duckdb`, `data/outbox`); GX accepts
    only absolute roots, so `make demo` once logged "root_directory must be an absolute path"."""
    from tasks.ingest.data_docs import publish

    monkeypatch.chdir(tmp_path)
    index = publish([], "relatif", Path("data/warehouse.duckdb"), Path("data/outbox"))
    assert index == tmp_path / "data" / "outbox" / "gx" / "index.html"
    assert index.is_file()


def test_a_suite_is_stored_and_rendered_again_only_when_it_changed(tmp_path, monkeypatch):
    """Each run's Data Docs build renders its results; a suite's page is rebuilt when its
    document changed (or its page is gone), not on every run."""
    from great_expectations.core import ExpectationSuiteValidationResult

    from tasks.ingest import data_docs, validate
    from tasks.ingest.validate import KeptResult, suite_document

    def kept() -> list[KeptResult]:
        result = ExpectationSuiteValidationResult(
            success=True, results=[], suite_name="keamanan",
            statistics={"evaluated_expectations": 0, "successful_expectations": 0,
                        "unsuccessful_expectations": 0, "success_percent": None})
        return [KeptResult(kind="keamanan", week="2024-W47", files=1, rows=0, result=result)]

    warehouse, outbox = tmp_path / "warehouse.duckdb", tmp_path / "outbox"
    page = site_dir(outbox) / "expectations" / "keamanan.html"

    def published(run_id: str) -> int:
        before = page.stat().st_mtime_ns if page.exists() else None
        time.sleep(0.01)
        index = data_docs.publish(kept(), run_id, warehouse, outbox)
        assert run_id in index.read_text(encoding="utf-8")  # each run's results are listed
        return before != page.stat().st_mtime_ns

    assert published("pertama")
    assert not published("kedua")
    page.unlink()
    assert published("ketiga")
    changed = suite_document("keamanan")
    changed["expectations"][0]["meta"]["message"] += " (diubah)"
    for module in (data_docs, validate):  # a fresh document per call, as from the file
        monkeypatch.setattr(module, "suite_document", lambda kind: copy.deepcopy(changed))
    assert published("keempat")
    stored = project_dir(warehouse) / "expectations" / "keamanan.json"
    assert "(diubah)" in stored.read_text(encoding="utf-8")
    assert not published("kelima")


def test_the_index_lists_the_run_and_the_newest_results_and_old_pages_stay(tmp_path, monkeypatch):
    """The index reads back every result it lists, so it lists this run's results (all of them,
    however many) and the INDEX_RECENT newest earlier ones: its cost follows the run, not the
    campaign's history. Older results keep their stored JSON and their pages."""
    from great_expectations.core import ExpectationSuiteValidationResult

    from tasks.ingest import data_docs
    from tasks.ingest.validate import KeptResult

    monkeypatch.setattr(data_docs, "INDEX_RECENT", 2)
    warehouse, outbox = tmp_path / "warehouse.duckdb", tmp_path / "outbox"

    def run(run_id: str, n: int) -> tuple[str, int]:
        kept = [KeptResult(kind="keamanan", week=f"2024-W{40 + i}", files=1, rows=0,
                           result=ExpectationSuiteValidationResult(
                               success=True, results=[], suite_name="keamanan",
                               statistics={"evaluated_expectations": 0,
                                           "successful_expectations": 0,
                                           "unsuccessful_expectations": 0,
                                           "success_percent": None}))
                for i in range(n)]
        index = data_docs.publish(kept, run_id, warehouse, outbox).read_text(encoding="utf-8")
        time.sleep(0.01)  # runs apart in time: the index sorts by run time
        return index, len(re.findall(r"_table_row_link_path': 'validations/", index))

    for n in range(1, 4):
        run(f"lama-{n}", 1)
    index, listed = run("besar", 5)  # every one of its own, and the two newest before it
    assert listed == 7 and "lama-3" in index and "lama-2" in index and "lama-1" not in index
    index, listed = run("kecil", 1)
    assert listed == 3 and "besar" in index and "lama-" not in index
    stored = project_dir(warehouse) / "uncommitted"
    for root, kind in ((site_dir(outbox), "html"), (stored, "json")):
        kept = {p.relative_to(root).parts[2] for p in (root / "validations").rglob(f"*.{kind}")}
        assert {"lama-1", "lama-2", "lama-3", "besar", "kecil"} <= kept, (root, kept)


def test_data_docs_that_fail_beside_the_last_load_leave_the_ingest_whole(
        tmp_path, prefect_harness, monkeypatch):
    """Data Docs are built while the last week loads (flows.ingest._data_docs_meanwhile): when
    they fail, every week is still loaded and published, the run completes, and its log and
    summary say the docs could not be made."""
    from tasks.ingest import data_docs

    def fails(*args: object) -> Path:
        raise OSError("disk penuh (uji)")

    monkeypatch.setattr(data_docs, "publish", fails)
    settings = site(tmp_path, monkeypatch)
    generate(tmp_path / "inbox", WEEKS[-2:])
    state = ingest_submissions(return_state=True)
    assert state.is_completed(), state
    APILogHandler().flush()
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        logs = [log.message for log in client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200)]
        [summary] = [a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))) if a.key == "ingest-summary"]
    assert any("Data Docs GX tidak dapat dibuat: OSError: disk penuh (uji)" in m for m in logs)
    assert "Data Docs GX tidak dapat dibuat" in summary.data
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        weeks = {w for (w,) in con.execute("SELECT DISTINCT week FROM audit.submission_status "
                                           "WHERE status <> 'rejected'").fetchall()}
    assert weeks == set(WEEKS[-2:])
    assert not (site_dir(settings.outbox) / "index.html").exists()

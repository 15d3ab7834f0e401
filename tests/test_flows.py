"""Both flows for real: Prefect test harness, a DuckDB file in a temp dir, the sample inbox."""

from __future__ import annotations

import csv
import email
import io
import re
from email import policy
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from flows.bulletin import weekly_bulletin
from flows.cli import app
from flows.ingest import ingest_submissions
from reports.i18n import STATUS_SYMBOLS
from samples.kaltim import generate
from tasks.config import load_settings
from tasks.contract.regions import regions
from tasks.ingest.idle import nothing_to_ingest
from tasks.weeks import week_range
from tests.pipeline import site

pytestmark = pytest.mark.flow
WEEK = "2024-W47"
TABLES = ["raw.file", "audit.submission", "audit.row_issue", "core.ringkasan", "core.logistik",
          "core.keamanan", "core.insiden", "core.netralitas"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, prefect_harness):
    """Sample inbox → ingest → bulletin once for the module; tests read what it left behind."""
    root = tmp_path_factory.mktemp("pipeline")
    mp = pytest.MonkeyPatch()
    settings = site(root, mp)
    files = generate(root / "inbox", week_range("2024-W40", "2024-W48"))
    first = ingest_submissions()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    second = ingest_submissions()
    idle = nothing_to_ingest(load_settings())  # the flow's own end state: nothing left to do
    result = weekly_bulletin(week=WEEK)
    yield {"root": root, "settings": settings, "files": files, "first": first, "second": second,
           "before": before, "bulletin": result, "idle": idle}
    mp.undo()


def _con(p) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(p["settings"].warehouse), read_only=True)


def test_every_sample_file_has_its_expected_verdict(pipeline):
    with _con(pipeline) as con:
        ledger = dict(con.execute(
            "SELECT source_path, status FROM audit.submission_status").fetchall())
    expected = {str(f.path.relative_to(pipeline["root"] / "inbox")): f.expected_status
                for f in pipeline["files"]}
    assert ledger == expected
    assert pipeline["first"]["files"] == len(expected)


def test_bad_rows_and_files_carry_reasons(pipeline):
    with _con(pipeline) as con:
        rows = con.execute("SELECT status, reason FROM audit.submission_status").fetchall()
        issues = con.execute(
            "SELECT f.file_name, i.row_number, i.\"column\", i.rule, i.message "
            "FROM audit.row_issue i JOIN raw.file f USING (file_id)").fetchall()
    assert all(reason for status, reason in rows if status != "accepted")
    rules = {(name, rule) for name, _, _, rule, _ in issues}
    assert ("6401_logistik_2024-W45.csv", "urutan_tahap") in rules
    assert ("6401_logistik_2024-W45.csv", "kode_desa_valid") in rules
    assert ("6472_netralitas_2024-W45.csv", "bukan_nip") in rules
    assert ("6407_insiden_2024-W46.csv", "korban_berarti_tinggi") in rules
    assert ("6409_keamanan_2024-W44.csv", "kolom_wajib") in rules
    row_msgs = [m for *_, m in issues if m.startswith("Baris ")]
    assert row_msgs and all(", kolom " in m for m in row_msgs)


def test_second_ingest_changes_nothing(pipeline):
    assert pipeline["second"] == {"files": 0}
    with _con(pipeline) as con:
        after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    assert after == pipeline["before"]


def test_an_ingest_that_found_nothing_leaves_the_command_idle(pipeline):
    """What `pilkada ingest` then decides without starting a flow (tasks/ingest/idle.py)."""
    assert pipeline["second"] == {"files": 0}
    assert pipeline["idle"] is not None
    assert f"{len(pipeline['files']):_} berkas".replace("_", ".") in pipeline["idle"]


def test_resubmission_supersedes_and_keeps_history(pipeline):
    with _con(pipeline) as con:
        rows = con.execute(
            "SELECT file_name, status, version FROM audit.submission_status "
            "WHERE kabkota_code = '6402' AND kind = 'keamanan' AND week = '2024-W46' "
            "ORDER BY version").fetchall()
        kept = con.execute(
            "SELECT count(DISTINCT file_id) FROM core.keamanan k JOIN raw.file f USING (file_id) "
            "WHERE f.kabkota_code = '6402' AND f.week = '2024-W46'").fetchone()[0]
    assert rows == [("6402_keamanan_2024-W46.csv", "superseded", 1),
                    ("6402_keamanan_2024-W46_revisi.csv", "accepted", 2)]
    assert kept == 2


def test_bulletin_names_every_kabkota_with_a_status(pipeline):
    html = Path(pipeline["bulletin"]["html"]).read_text(encoding="utf-8")
    with _con(pipeline) as con:
        statuses = con.execute(
            "SELECT kabkota_name, short_name, status FROM mart.kabkota_weekly WHERE week = ?",
            [WEEK]).fetchall()
    names = regions()["kabkota"]["kabkota_name"].to_list()
    assert len(statuses) == 10 and {n for n, _, _ in statuses} == set(names)
    for name, short, status in statuses:
        # those needing action by full name with their badge in the decision block, the Siap
        # ones by short name on the Siap line
        if status == "Siap":
            assert re.search(rf"✔ Siap</span> [^<]*\b{re.escape(short)}\b", html), short
        else:
            badge = f"{STATUS_SYMBOLS[status]} {status}"
            assert re.search(rf"{re.escape(name)}</strong> <span[^>]*>{badge}</span>", html), name
    for section in ("Logistik", "Keamanan", "Netralitas"):
        assert section in html
    assert sum(pipeline["bulletin"]["counts"].values()) == 10
    assert pipeline["bulletin"]["counts"] == {
        s: sum(1 for *_, x in statuses if x == s) for s in ("Siap", "Waspada", "Kritis")}


def test_bulletin_figures_come_from_the_data(pipeline):
    """Mahakam Ulu lags: the mart says Kritis with a logistics reason the bulletin repeats."""
    html = Path(pipeline["bulletin"]["html"]).read_text(encoding="utf-8")
    with _con(pipeline) as con:
        status, reason = con.execute(
            "SELECT status, alasan FROM mart.kabkota_weekly WHERE week = ? AND kabkota_code = "
            "'6411'", [WEEK]).fetchone()
    assert status == "Kritis"
    assert "logistik di" in reason
    first = reason.split("; ")[0]
    assert first[0].upper() + first[1:] in html  # the decision block opens with it


def test_regency_markup_arrives_escaped(pipeline):
    """Samarinda's W47 narrative carries markup: the PDF (where every narrative is printed)
    shows it as text, and the email (which quotes narratives only for kab/kota needing action)
    never carries it as markup."""
    html = Path(pipeline["bulletin"]["html"]).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror" not in html
    pdf = PdfReader(pipeline["bulletin"]["pdf"])
    printed = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "<script>alert(1)</script>" in printed  # escaped: drawn as the desk typed it


def test_eml_is_a_complete_message(pipeline):
    msg = email.message_from_bytes(Path(pipeline["bulletin"]["eml"]).read_bytes(),
                                   policy=policy.default)
    assert WEEK in msg["Subject"]
    types = [p.get_content_type() for p in msg.walk()]
    assert "text/plain" in types and "text/html" in types and "image/png" in types


def test_query_cli_lists_the_ledger_and_refuses_writes(pipeline, monkeypatch):
    site(pipeline["root"], monkeypatch)  # the module's site, as the data team's shell has it
    runner = CliRunner()
    res = runner.invoke(app, ["query", "select * from audit.submission_status", "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == len(pipeline["files"])
    assert {"source_path", "sha256", "status", "reason"} <= set(rows[0])
    res = runner.invoke(app, ["query", "delete from raw.file"])
    assert res.exit_code == 1
    assert "hanya-baca" in res.stderr
    res = runner.invoke(app, ["status", "--week", WEEK])
    assert res.exit_code == 0 and "belum_ada" in res.stdout  # 6411 sent no keamanan in W47

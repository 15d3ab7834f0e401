"""`pilkada backfill` and `pilkada status` on real flows (Prefect test harness, temp warehouse)."""

from __future__ import annotations

import re

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from typer.testing import CliRunner

from flows.cli import app
from flows.ingest import ingest_submissions
from samples.kaltim import generate
from tests.pipeline import site

pytestmark = pytest.mark.flow
WEEKS = ["2024-W45", "2024-W46", "2024-W47"]
SAMPLE = ["2024-W44", *WEEKS]  # W44 has a rejected file (docs/sample-data.md)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, prefect_harness):
    """Sample weeks 2024-W44..W47 ingested once into a temporary warehouse."""
    root = tmp_path_factory.mktemp("backfill")
    mp = pytest.MonkeyPatch()
    site(root, mp)
    generate(root / "inbox", SAMPLE)
    state = ingest_submissions(return_state=True)
    yield {"root": root, "counts": state.result(), "run": state.state_details.flow_run_id}
    mp.undo()


def _text(result) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def _html(outbox, week):
    return outbox / "bulletin" / week / f"buletin-{week}-id.html"


def test_backfill_renders_one_bulletin_per_week(ingested):
    result = CliRunner().invoke(app, ["backfill", "--from", WEEKS[0], "--to", WEEKS[-1]])
    assert result.exit_code == 0, result.output
    outbox = ingested["root"] / "outbox"
    for week in WEEKS:
        assert _html(outbox, week).is_file()
    assert sorted(p.name for p in (outbox / "bulletin").iterdir()) == WEEKS
    assert "3 minggu: 3 berhasil, 0 gagal." in _text(result)

    with get_client(sync_client=True) as client:
        notes = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["weekly-bulletin"])))
        ledger = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["ingest-ledger"]),
            flow_run_id=ArtifactFilterFlowRunId(any_=[ingested["run"]])))
    assert {w for w in WEEKS for n in notes if str(_html(outbox, w)) in n.data} == set(WEEKS)
    assert ledger and all(n.type == "markdown" for n in notes)


def test_a_week_without_data_fails_the_backfill_but_not_the_other_weeks(ingested, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("PILKADA_OUTBOX", str(tmp_path / "outbox"))
    result = CliRunner().invoke(app, ["backfill", "--from", "2024-W43", "--to", "2024-W44"])
    assert result.exit_code == 1
    assert _html(tmp_path / "outbox", "2024-W44").is_file()
    assert not (tmp_path / "outbox" / "bulletin" / "2024-W43").exists()
    text = _text(result)
    assert "2 minggu: 1 berhasil, 1 gagal." in text
    assert "gagal untuk 2024-W43" in text and "--from 2024-W43 --to 2024-W43" in text


@pytest.mark.parametrize("args", [["--from", "2024-W47", "--to", "2024-W45"],
                                  ["--from", "2024-W99", "--to", "2024-W45"],
                                  ["--from", "minggu-lalu", "--to", "2024-W45"]])
def test_a_bad_range_exits_2(ingested, args, tmp_path, monkeypatch):
    monkeypatch.setenv("PILKADA_OUTBOX", str(tmp_path / "outbox"))
    result = CliRunner().invoke(app, ["backfill", *args])
    assert result.exit_code == 2
    assert "Gagal" in result.output
    assert not (tmp_path / "outbox").exists()


def test_backfill_without_a_warehouse_exits_1_and_creates_none(settings_env):
    result = CliRunner().invoke(app, ["backfill", "--from", WEEKS[0], "--to", WEEKS[0]])
    assert result.exit_code == 1
    assert "belum ada" in _text(result) and "pilkada ingest" in _text(result)
    assert not settings_env.warehouse.exists()


def test_status_without_a_warehouse_exits_1_with_what_to_do(settings_env):
    result = CliRunner().invoke(app, ["status", "--week", "2024-W47"])
    assert result.exit_code == 1
    assert "belum ada" in _text(result) and "pilkada ingest" in _text(result)
    assert not settings_env.warehouse.exists()


@pytest.mark.parametrize(("week", "expected"), [
    ("2024-W47", [48, 1, 1, 0]),  # Mahakam Ulu: logistik late, keamanan never sent
    ("2024-W44", [49, 0, 1, 1]),  # PPU's keamanan rejected (no personel_linmas column)
    ("2024-W30", [0, 0, 50, 0]),  # nothing at all
])
def test_status_shows_submitted_late_missing_and_rejected(ingested, week, expected):
    result = CliRunner().invoke(app, ["status", "--week", week])
    assert result.exit_code == 0, result.output
    text = _text(result)
    assert f"Status kiriman minggu {week}" in text and "6411" in text
    m = re.search(rf"Minggu {week}: (\d+) tepat waktu, (\d+) terlambat, (\d+) belum ada "
                  r"\(dari 50 kiriman wajib\); (\d+) file ditolak", text)
    assert m and [int(x) for x in m.groups()] == expected


def test_status_with_a_bad_week_exits_2(ingested):
    assert CliRunner().invoke(app, ["status", "--week", "2024-47"]).exit_code == 2

"""A mailbox that cannot be reached never stops the folder's intake: the run ingests the folder,
then fails naming the mailbox, and the next run reads it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.ingest import ingest_submissions
from flows.prefect_server import free_port
from samples.kaltim import generate
from tasks.warehouse.database import connect

pytestmark = pytest.mark.flow


def test_mailbox_down_folder_still_ingested(settings_env, monkeypatch, tmp_path,
                                            prefect_harness):
    sample = tmp_path / "sample"
    generate(sample, ["2024-W47"])
    folder = Path(settings_env.inbox) / "6401"
    folder.mkdir()
    shutil.copyfile(sample / "6401" / "6401_ringkasan_2024-W47.csv",
                    folder / "6401_ringkasan_2024-W47.csv")
    for name, value in {"PILKADA_IMAP_HOST": "127.0.0.1", "PILKADA_IMAP_PORT": str(free_port()),
                        "PILKADA_IMAP_USER": "desk", "PILKADA_IMAP_PASSWORD": "x",
                        "PILKADA_IMAP_TLS": "none"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConnectionRefusedError):
        ingest_submissions()
    with connect(settings_env.warehouse) as con:
        assert con.execute("SELECT kind, status FROM audit.submission_status").fetchall() == [
            ("ringkasan", "accepted")]

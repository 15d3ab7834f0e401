"""The docs stay true: every documented query runs, every header alias is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from samples.kaltim import generate
from tasks.contract.submission import ALIASES
from tasks.ingest.judge import ingest_inbox
from tasks.warehouse.database import connect, publish_snapshot
from tasks.warehouse.query import run_query
from tests import REPO as ROOT

QUERIES = re.findall(r"```sql\n(.*?)```", (ROOT / "docs" / "queries.md").read_text(), re.S)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    mp = pytest.MonkeyPatch()
    mp.setenv("PILKADA_WAREHOUSE", str(root / "w.duckdb"))
    mp.setenv("PILKADA_INBOX", str(root / "inbox"))
    from tasks.config import load_settings
    from tasks.warehouse.database import migrate
    from tasks.warehouse.reference import load_reference

    generate(root / "inbox", ["2024-W45", "2024-W46", "2024-W47"])
    settings = load_settings()
    with connect(settings.warehouse) as con:
        migrate(con)
        load_reference(con)
        ingest_inbox(con, settings)
    publish_snapshot(settings.warehouse)
    mp.undo()
    return settings.warehouse


def test_docs_have_queries():
    assert len(QUERIES) >= 10


@pytest.mark.parametrize("query", QUERIES, ids=[f"q{i + 1}" for i in range(len(QUERIES))])
def test_documented_query_runs_read_only_and_returns_rows(snapshot, query):
    cols, rows = run_query(snapshot, query)
    assert cols and rows


def test_every_alias_is_documented_for_the_desks():
    doc = (ROOT / "docs" / "submission-format.md").read_text(encoding="utf-8")
    missing = [a for a in ALIASES if f"`{a}`" not in doc]
    assert missing == []

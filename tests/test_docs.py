"""The docs stay true: every documented query runs, every header alias is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from samples.kaltim import generate
from tasks.contract.submission import ALIASES
from tasks.warehouse.query import run_query
from tests import REPO as ROOT
from tests.pipeline import ingest, site

QUERIES = re.findall(r"```sql\n(.*?)```", (ROOT / "docs" / "queries.md").read_text(), re.S)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory, prefect_harness) -> Path:
    root = tmp_path_factory.mktemp("docs")
    mp = pytest.MonkeyPatch()
    settings = site(root, mp)
    generate(root / "inbox", ["2024-W45", "2024-W46", "2024-W47"])
    ingest(settings)  # which publishes the snapshot
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

"""Property-based: whatever bytes, encodings, shapes and values arrive, parsing ends in a table
or a reason (ParseError), never a crash or a hang. Example counts are bounded for CI."""

from __future__ import annotations

import csv
import io
import json

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.contract.submission import COLUMNS, KINDS
from tasks.ingest.parse import ParseError, read_table, type_columns

BOUNDED = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])
kinds = st.sampled_from(KINDS)
cell = st.one_of(
    st.text(max_size=30),
    st.integers(-10**30, 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "1.234", "1,5", "=1+1", "2024-11-20", "20/11/2024", "45600",
                     "6402.0", "NaN", "\x00", "\ufeff", "'", '"', "\r\n"]),
)


def _ok(frame: pl.DataFrame, kind: str) -> None:
    assert "_row" in frame.columns
    typed, issues = type_columns(frame, kind)
    assert typed.height == frame.height
    assert [c.name for c in COLUMNS[kind]] == typed.columns[:-1]
    for issue in issues:
        assert issue.message and issue.column in typed.columns


@BOUNDED
@given(data=st.binary(max_size=4096), kind=kinds,
       fmt=st.sampled_from(["csv", "json", "xlsx"]))
def test_arbitrary_bytes_end_in_a_table_or_a_reason(data, kind, fmt):
    try:
        frame = read_table(data, fmt, kind)
    except ParseError as exc:
        assert str(exc)
        return
    _ok(frame, kind)


@BOUNDED
@given(kind=kinds, header=st.lists(st.text(max_size=20), max_size=12),
       rows=st.lists(st.lists(cell, max_size=14), max_size=20),
       delimiter=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_arbitrary_csv_shapes_and_encodings(kind, header, rows, delimiter, encoding):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(header + [c.name for c in COLUMNS[kind]][: len(header) % 4])
    w.writerows(rows)
    try:
        data = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = buf.getvalue().encode("utf-8")
    try:
        frame = read_table(data, "csv", kind)
    except ParseError as exc:
        assert str(exc)
        return
    _ok(frame, kind)


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)


@BOUNDED
@given(kind=kinds, doc=json_value)
def test_arbitrary_json_documents(kind, doc):
    data = json.dumps(doc).encode()
    try:
        frame = read_table(data, "json", kind)
    except ParseError as exc:
        assert str(exc)
        return
    _ok(frame, kind)


@BOUNDED
@given(kind=kinds, values=st.lists(st.dictionaries(
    st.sampled_from([c.name for k in KINDS for c in COLUMNS[k]]), cell, max_size=16),
    min_size=1, max_size=15))
def test_arbitrary_values_in_contract_columns(kind, values):
    data = json.dumps(values).encode()
    _ok(read_table(data, "json", kind), kind)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kind=kinds, values=st.lists(st.fixed_dictionaries(
    {}, optional={c: cell for c in {c.name for k in KINDS for c in COLUMNS[k]}}),
    max_size=8), fmt=st.sampled_from(["csv", "json"]))
def test_any_submission_gets_a_verdict_with_a_reason(warehouse, settings_env, kind, values,
                                                      fmt, prefect_harness):
    """Through the whole ingest (parse, GX validation, load): a ledger row, never a crash."""
    from pathlib import Path

    from tests.pipeline import ingest

    folder = Path(settings_env.inbox) / "6474"
    folder.mkdir(exist_ok=True)
    path = folder / f"6474_{kind}_2024-W47.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(values), encoding="utf-8")
    else:
        names = [c.name for c in COLUMNS[kind]]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=names, extrasaction="ignore")
        w.writeheader()
        w.writerows(values)
        path.write_text(buf.getvalue(), encoding="utf-8")
    before = warehouse.execute("SELECT count(*) FROM raw.file").fetchall()[0][0]
    ingest(settings_env)
    rows = warehouse.execute(
        "SELECT status, reason FROM audit.submission_status ORDER BY file_id DESC LIMIT 1"
    ).fetchall()
    after = warehouse.execute("SELECT count(*) FROM raw.file").fetchall()[0][0]
    if after == before:  # identical bytes as an earlier example: nothing new to judge
        return
    [(status, reason)] = rows
    # New bytes, the newest file: judged now, so neither a duplicate nor (yet) superseded.
    assert status in {"accepted", "accepted_with_flags", "rejected"}, (status, reason)
    if status == "accepted_with_flags":
        assert reason.startswith("Diterima dengan catatan: "), reason
    if status == "rejected":
        assert reason.strip() and not reason.startswith("Diterima"), reason

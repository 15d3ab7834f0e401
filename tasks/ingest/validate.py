"""Validate: run the Great Expectations suites in `expectations/` over one batch per kind.

The suites check plain columns plus derived ones that `sql/validate/<kind>.sql` adds (reference
lookups, cross-week comparisons): GX cannot join, so the SQL prepares facts and GX judges them.
All files of one kind are validated together (the source file is a column), and GX is imported
only here, lazily, because importing it costs seconds.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from string import Formatter
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from tasks.contract.finding import EFFECTS, Finding
from tasks.contract.submission import ENUMS, KINDS
from tasks.resources import EXPECTATIONS_DIR, SQL_DIR
from tasks.warehouse.database import sql

if TYPE_CHECKING:  # pyarrow costs ~0.5 s to import; an idle command needs none of it
    import pyarrow as pa

FILE = "_file_id"
ROW = "_row"

# Unexpected values a result shows per expectation (GX's `partial_unexpected_list`, the sample in
# Data Docs). The row findings come from the complete index lists, which are never kept.
PARTIAL_UNEXPECTED = 20
# What makes a COMPLETE result as large as the batch: dropped from the copy that is kept, which
# is then GX's SUMMARY shape (a national week's logistik batch: 250,000 failing rows at worst).
_UNBOUNDED = ("unexpected_list", "unexpected_index_list", "unexpected_index_query",
              "unexpected_rows")


def exclusions(findings: list[Finding]) -> tuple[set[int], dict[int, list[str]]]:
    """Rows whose identity a flag removed, and per other row the columns removed from it.

    Notes (`catatan`) and whole-file findings remove nothing; a `row` effect wins over
    `values` on the same row."""
    rows: set[int] = set()
    cells: dict[int, set[str]] = {}
    for f in findings:
        if f.row is None or f.severity != "flag":
            continue
        if f.effect == "row":
            rows.add(f.row)
        elif f.effect == "values":
            cells.setdefault(f.row, set()).update(f.excluded_columns)
    return rows, {r: sorted(c) for r, c in cells.items() if r not in rows}


@dataclass(frozen=True)
class KeptResult:
    """One GX run over a batch of files, cut to SUMMARY size, for the run's Data Docs."""

    kind: str
    week: str
    files: int
    rows: int
    result: Any  # great_expectations ExpectationSuiteValidationResult


_kept: ContextVar[list[KeptResult] | None] = ContextVar("pilkada_gx_results", default=None)


@contextmanager
def keeping_results() -> Iterator[list[KeptResult]]:
    """Collect a bounded copy of every suite result validated inside the block.

    A context variable rather than a return value, so the steps between the flow and GX
    (`tasks.ingest.judge.judge`, its per-file retry) keep their signatures; outside the block
    nothing is kept and nothing is cut."""
    kept: list[KeptResult] = []
    token = _kept.set(kept)
    try:
        yield kept
    finally:
        _kept.reset(token)


# Sample values a kept result never shows: ASN neutrality is counts only outside the warehouse
# (case detail, as in the annexes), and a refused column (a NIP or name in `ref_subjek`) is the
# value the warehouse itself withholds (`tasks.contract.personal.withhold`).
_VALUES = ("partial_unexpected_list", "partial_unexpected_counts")
_COUNTS_ONLY = frozenset({"netralitas"})


def _keep(kind: str, pdf: Any, result: Any) -> None:
    """Keep `result` (already read for findings) without its per-row lists, and without the
    sample values of what must not leave the warehouse."""
    from tasks.contract.personal import REFUSED

    kept = _kept.get()
    if kept is None:
        return
    refused = REFUSED.get(kind, {})
    for r in result.results:
        values = r.result or {}
        for key in _UNBOUNDED:
            values.pop(key, None)
        kwargs = r.expectation_config.kwargs
        columns = {kwargs.get(k) for k in ("column", "column_A", "column_B")}
        columns |= set(kwargs.get("column_list") or [])
        if kind in _COUNTS_ONLY or columns & set(refused):
            for key in _VALUES:
                values.pop(key, None)
    week = str(pdf["_week"].iloc[0]) if "_week" in pdf.columns else ""
    kept.append(KeptResult(kind, week, int(pdf[FILE].nunique()), len(pdf), result))


def suite_document(kind: str) -> dict[str, Any]:
    """The kind's suite as GX reads it. An enumerated column's allowed values live only in the
    contract (`tasks.contract.submission.ENUMS`): the JSON names the enumeration (`"value_set":
    {"enum": "instansi"}`) and its message says `{pilihan}`, both filled in here, so adding an
    agency or a category is one edit."""
    doc = json.loads((EXPECTATIONS_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    for e in doc["expectations"]:
        if e["meta"].get("effect") not in EFFECTS:  # a typo would silently count a bad value
            raise ValueError(f"expectations/{kind}.json: rule {e['meta'].get('rule')} has effect "
                             f"{e['meta'].get('effect')!r}, not one of {', '.join(EFFECTS)}")
        values = e["kwargs"].get("value_set")
        if isinstance(values, dict):
            allowed = sorted(ENUMS[values["enum"]])
            e["kwargs"]["value_set"] = allowed
            e["meta"]["message"] = e["meta"]["message"].replace("{pilihan}", ", ".join(allowed))
    return doc


@cache
def policy() -> dict[str, Any]:
    return json.loads((EXPECTATIONS_DIR / "policy.json").read_text(encoding="utf-8"))


# GX's ephemeral context and batch definitions are shared per process and not thread-safe: two
# batches validated at once in threads (the in-process task runner) can swap dataframes. Suites
# run one at a time per process; parsing and the SQL checks of other batches go on meanwhile.
_GX_LOCK = threading.Lock()


@cache
def _gx_context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


@cache
def _batch_definition(kind: str) -> Any:
    source = _gx_context().data_sources.add_or_update_pandas(f"pilkada_{kind}")
    asset = source.add_dataframe_asset(name=kind)
    return asset.add_batch_definition_whole_dataframe(kind)


def warm_up() -> None:
    """Create GX's context and every kind's batch definition, and replace GX's configuration
    property (`_building_once`), now: for a resident process that forks the steps which
    validate (flows/warm_start.py), so that each child starts with them done."""
    _memoise_configurations()
    for kind in KINDS:
        _batch_definition(kind)


def load_suite(kind: str, rules: frozenset[str] | None = None) -> Any:
    """The kind's suite; with `rules`, only the expectations of those rules (`meta.rule`)."""
    import great_expectations as gx

    doc = suite_document(kind)
    expectations = [e for e in doc["expectations"] if rules is None or e["meta"]["rule"] in rules]
    return gx.ExpectationSuite(name=doc["name"], expectations=expectations, meta=doc.get("meta"))


# A suite runs in two passes: every expectation with GX's BASIC result (success, counts and up to
# `PARTIAL_UNEXPECTED` sample values: what Data Docs show), then only the failing ones again with
# COMPLETE, whose list of every failing row's position is what findings need. COMPLETE's extra
# metrics cost ~2x BASIC on every expectation, and on most batches nearly all pass
# (bench/README.md, 2026-12-04).
_BASIC = {"result_format": "BASIC", "partial_unexpected_count": PARTIAL_UNEXPECTED}
_COMPLETE = {"result_format": "COMPLETE", "return_unexpected_index_query": False,
             "partial_unexpected_count": PARTIAL_UNEXPECTED}


# GX 1.x builds an expectation's whole configuration again (a pydantic dump of every field) each
# time it reads one keyword of it: ~60 builds per expectation and validation, half of GX's time
# on a Kaltim week (bench/README.md, fourth session). Within one of our validations each
# expectation object's configuration is built once: GX creates those objects for the validation
# and only reads their configurations. Outside `_building_once` GX behaves as shipped.
_configurations: ContextVar[dict[int, tuple[Any, Any]] | None] = ContextVar(
    "pilkada_gx_configurations", default=None)


@cache
def _memoise_configurations() -> None:
    from great_expectations.expectations.expectation import Expectation

    build = Expectation.configuration.fget

    def configuration(self: Any) -> Any:
        memo = _configurations.get()
        if memo is None:
            return build(self)
        built = memo.get(id(self))
        if built is None or built[0] is not self:  # the object is held, so its id is not reused
            built = memo[id(self)] = (self, build(self))
        return built[1]

    configuration.__doc__ = build.__doc__
    Expectation.configuration = property(configuration)


@contextmanager
def _building_once() -> Iterator[None]:
    """Each expectation's configuration built once inside the block (see above)."""
    _memoise_configurations()
    token = _configurations.set({})
    try:
        yield
    finally:
        _configurations.reset(token)


def _validated(kind: str, batch: Any) -> Any:
    """The suite's result on `batch`, with COMPLETE detail for every failing expectation."""
    with _building_once():
        result = batch.validate(load_suite(kind), result_format=_BASIC)
    failing = {i: (r.expectation_config.meta or {}).get("rule")
               for i, r in enumerate(result.results) if not r.success}
    if not failing:
        return result
    with _building_once():
        complete = batch.validate(load_suite(kind, frozenset(failing.values())),
                                  result_format=_COMPLETE)
    detail = {_key(r): r for r in complete.results}
    for i in failing:
        result.results[i] = detail[_key(result.results[i])]
    return result


def _key(r: Any) -> tuple[str, str, str]:
    """An expectation result's identity within its suite: rule, type and arguments."""
    config = r.expectation_config
    return ((config.meta or {}).get("rule", ""), config.type,
            json.dumps(config.kwargs, sort_keys=True, default=str))


def _fmt(value: Any) -> str:
    if value is None or value != value:  # NaN and NaT are not equal to themselves
        return "(kosong)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M") if getattr(value, "hour", 0) else \
            value.strftime("%Y-%m-%d")
    return str(value)


class _Values(dict):
    """Template values: `{nilai}` is the checked column, `{nilai_<col>}` any column of the row."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _template_columns(template: str, checked: str | None) -> list[str]:
    """The columns a message template shows, so only those are fetched for failing rows."""
    named = {f[1][len("nilai_"):] for f in Formatter().parse(template)
             if f[1] and f[1].startswith("nilai_")}
    return sorted(named | ({checked} if checked else set()))


def _checked_column(kwargs: dict[str, Any]) -> str | None:
    return kwargs.get("column") or kwargs.get("column_B")


def run_suite(kind: str, frame: pl.DataFrame) -> list[Finding]:
    """Validate a prepared batch with the kind's suite; one Finding per failing row and rule.

    GX returns the position of every failing row (COMPLETE result format, asked only for the
    expectations that failed: `_validated`; asking it for index *columns* instead costs a Python
    call per failing row inside GX); file, row and message values are then fetched column-wise
    for just those rows, so a file where every row fails stays cheap. The results also hold the
    first `PARTIAL_UNEXPECTED` values per rule, which is all a kept result (`keeping_results`)
    retains for Data Docs.
    """
    if frame.height == 0:
        return []
    file_ids, row_numbers = frame[FILE].to_list(), frame[ROW].to_list()
    # Converted under the lock: batches waiting for GX in other threads do not each hold a
    # pandas copy of their rows (the largest object of a national week's judging).
    with _GX_LOCK:
        pdf = frame.to_pandas()  # a RangeIndex: GX reports failing rows by position
        batch = _batch_definition(kind).get_batch(batch_parameters={"dataframe": pdf})
        result = _validated(kind, batch)
    findings: list[Finding] = []
    for r in result.results:
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"suite {kind}: {r.expectation_config.type} gagal dijalankan: "
                               f"{r.exception_info.get('exception_message')}")
        if r.success:
            continue
        meta = r.expectation_config.meta or {}
        checked = _checked_column(r.expectation_config.kwargs)
        rows = [int(i) for i in r.result.get("unexpected_index_list") or []]
        cols = _template_columns(meta["message"], checked)
        values = {c: pdf[c].iloc[rows].tolist() for c in cols if c in pdf.columns}
        for n, (file_id, row) in enumerate((file_ids[i], row_numbers[i]) for i in rows):
            shown = _Values({f"nilai_{c}": _fmt(v[n]) for c, v in values.items()})
            shown["nilai"] = _fmt(values[checked][n]) if checked in values else ""
            findings.append(Finding(file_id, row, meta.get("column", checked), meta["rule"],
                                    meta["severity"], meta["message"].format_map(shown),
                                    meta["effect"], tuple(meta.get("columns", ()))))
    _keep(kind, pdf, result)
    return findings


def prepare(con: duckdb.DuckDBPyConnection, kind: str, batch: pl.DataFrame) -> pl.DataFrame:
    """Add the derived columns of `sql/validate/<kind>.sql` (reference and cross-week facts)."""
    con.register("batch", batch.to_arrow())
    try:
        prepared = con.sql(sql(f"validate/{kind}.sql")).pl()
    finally:
        con.unregister("batch")
    if prepared.height != batch.height:  # a join in the SQL fanned out: findings would be wrong
        raise RuntimeError(f"sql/validate/{kind}.sql returned {prepared.height} rows for "
                           f"{batch.height}; each row must come back exactly once")
    return prepared


# Rows a file must have but lacks (cannot be row findings: the row is absent), per kind: the
# columns `sql/validate/completeness_<kind>.sql` reads, and the finding's rule and prefix.
_COMPLETENESS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "logistik": (("kode_desa", "barang"), "lengkap", "Tidak lengkap: "),
    "keamanan": (("kode_kecamatan",), "lengkap", "Tidak lengkap: "),
    "tindak_lanjut": (("id_tindak_lanjut",), "tindak_lanjut_hilang", "Hilang: "),
}


def completeness(con: duckdb.DuckDBPyConnection, kind: str, batch: pl.DataFrame,
                 empty: pl.DataFrame | None = None) -> list[Finding]:
    """Whole-file findings for what a file lacks: villages, kecamatan, or a follow-up still open
    in the sender's previous report. `empty` lists files without any row (`FILE`,
    `_expected_kabkota`, `_week`): a header-only follow-up report still owes its open items."""
    if kind not in _COMPLETENESS:
        return []
    files = batch.select(FILE, "_expected_kabkota", "_week").unique()
    if empty is not None:
        files = pl.concat([files, empty.select(files.columns)], how="vertical_relaxed")
    if files.height == 0:
        return []
    columns, rule, prefix = _COMPLETENESS[kind]
    con.register("batch", batch.select(FILE, "_expected_kabkota", *columns).to_arrow())
    con.register("files", files.to_arrow())
    try:
        rows = con.execute(sql(f"validate/completeness_{kind}.sql")).fetchall()
    finally:
        con.unregister("batch")
        con.unregister("files")
    return [Finding(fid, None, col, rule, "flag", f"{prefix}{detail}", "nothing")
            for fid, col, detail in rows]


def validate_kind(con: duckdb.DuckDBPyConnection, kind: str, batch: pl.DataFrame) -> list[Finding]:
    """All findings for a batch of one kind: GX suite over prepared rows, plus completeness."""
    if batch.height == 0:
        return []
    return run_suite(kind, prepare(con, kind, batch)) + completeness(con, kind, batch)


# A warehouse relation named in a validation query (comments removed first).
_RELATION = re.compile(r"\b((?:ref|core|mart)\.[a-z_]+)\b")


@cache
def relations(kind: str) -> tuple[str, ...]:
    """The warehouse relations `sql/validate/<kind>.sql` and its completeness query read, found
    in the SQL itself, so a new join needs no second list to keep in step."""
    text = "\n".join(sql(f"validate/{name}.sql") for name in (kind, f"completeness_{kind}")
                     if (SQL_DIR / "validate" / f"{name}.sql").is_file())
    return tuple(sorted(set(_RELATION.findall(re.sub(r"--[^\n]*", "", text)))))


@cache
def _input_query(relation: str) -> str:
    path = SQL_DIR / "validate" / "inputs" / f"{relation}.sql"
    return sql(f"validate/inputs/{relation}.sql") if path.is_file() else f"SELECT * FROM {relation}"


def validation_inputs(con: duckdb.DuckDBPyConnection, kind: str, weeks: list[str],
                      kabkota: list[str], reuse: dict[tuple, pa.Table] | None = None,
                      ) -> dict[str, pa.Table]:
    """What the kind's checks read from the warehouse for one batch, as Arrow tables: reference
    tables whole, or as `sql/validate/inputs/<relation>.sql` selects them: history for the
    batch's `weeks` (only the weeks a rule compares with), the national-size tables for the
    batch's `kabkota` alone (the codes its files' names give; the checks compare a row only
    with its own kab/kota's rows). Read by the flow, the one process with the warehouse open, so
    a validation task on any machine needs no connection to it (`given`), and gets
    ~1 MB of reference per logistik batch instead of the whole country's 40 MB.

    `reuse` (kept by the caller across a week's batches): a table whose query depends on neither
    is read once and shared."""
    out: dict[str, pa.Table] = {}
    values = {"weeks": weeks, "kabkota": sorted(set(kabkota))}
    for relation in relations(kind):
        query = _input_query(relation)
        params = {k: v for k, v in values.items() if f"${k}" in query}
        key = (relation, *((k, tuple(v)) for k, v in params.items()))
        if reuse is not None and key in reuse:
            out[relation] = reuse[key]
            continue
        out[relation] = con.sql(query, params=params or None).to_arrow_table()
        if reuse is not None:
            reuse[key] = out[relation]
    return out


@contextmanager
def given(con: duckdb.DuckDBPyConnection, inputs: dict[str, pa.Table]) -> Iterator[None]:
    """`inputs` under their warehouse names (`ref.desa`, `core.logistik_current`, …) in `con`,
    an in-memory DuckDB, for the length of the block: the validation SQL runs unchanged, without
    the warehouse. Taken away afterwards, so that the next batch judged on the same connection
    sees only its own (a relation it lacks is an error, never another batch's rows)."""
    shown: list[str] = []
    try:
        for n, (relation, table) in enumerate(inputs.items()):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {relation.split('.')[0]}")
            con.register(f"_input_{n}", table)
            shown.append(relation)
            con.execute(f"CREATE VIEW {relation} AS SELECT * FROM _input_{n}")
        yield
    finally:
        for n, relation in enumerate(shown):
            con.execute(f"DROP VIEW IF EXISTS {relation}")
            con.unregister(f"_input_{n}")

"""National scale: reference data for any province or all of Indonesia, the scope setting, the
column-wise generator, and a small smoke run of the benchmark (no timing asserted)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks.config import load_settings
from tasks.contract.regions import (
    KALTIM,
    NATIONAL_DPT,
    NATIONAL_TPS,
    check_scope,
    desa_requirements,
    regions,
    scope_name,
    tps_master,
)
from tasks.warehouse.database import connect, migrate
from tasks.warehouse.reference import ScopeMismatch, ensure_reference


def test_all_of_indonesia_matches_the_shipped_national_table():
    reg = regions("all")
    shipped = pl.read_csv(Path("reference/national/kabkota.csv"), infer_schema_length=0)
    assert reg["kabkota"].height == shipped.height == 514
    assert reg["kecamatan"].height == 7285
    assert reg["desa"].height == 83762
    n_desa = reg["desa"].group_by("kabkota_code").len()
    joined = shipped.join(n_desa, on="kabkota_code").filter(
        pl.col("n_desa_kelurahan").cast(pl.Int64) != pl.col("len"))
    assert joined.is_empty(), joined


def test_derived_figures_add_up_to_the_national_totals_and_keep_kaltims_official_ones():
    kab = regions("all")["kabkota"]
    assert kab["tps_2024"].sum() == NATIONAL_TPS
    assert kab["dpt_2024"].sum() == NATIONAL_DPT
    ours = kab.filter(pl.col("provinsi_code") == KALTIM)
    assert not ours["figures_derived"].any()
    assert ours.drop("figures_derived").equals(regions(KALTIM)["kabkota"].drop("figures_derived"))
    derived = kab.filter(pl.col("figures_derived"))
    assert derived.height == 504
    # every village has at least one TPS, and the TPS master reproduces the kab/kota figures
    assert (derived["tps_2024"] >= derived["n_desa_kelurahan"]).all()
    tps = tps_master("all")
    assert tps.height == NATIONAL_TPS and tps["dpt"].sum() == NATIONAL_DPT
    assert tps["desa_code"].n_unique() == 83762
    assert desa_requirements("all").height == 83762 * 8


def test_one_province_is_the_national_table_filtered():
    kaltara = regions("65")
    assert set(kaltara["kabkota"]["provinsi_code"]) == {"65"}
    assert kaltara["desa"]["desa_code"].str.starts_with("65").all()
    national = regions("all")["kabkota"].filter(pl.col("provinsi_code") == "65")
    assert kaltara["kabkota"].equals(national)
    assert scope_name("65") == "Kalimantan Utara" and scope_name("all") == "Indonesia"


@pytest.mark.parametrize("bad", ["99", "6", "kaltim", ""])
def test_an_unknown_province_is_refused_with_the_valid_choices(bad):
    # the CLI runs this check on PILKADA_PROVINCE before any command acts (tests/test_config.py)
    with pytest.raises(ValueError, match=r"PILKADA_PROVINCE.*gunakan 'all'"):
        check_scope(bad)


def test_a_warehouse_with_submissions_keeps_its_scope(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        migrate(con)
        assert ensure_reference(con, "65")
        assert not ensure_reference(con, "65")  # already loaded: nothing to do
        assert ensure_reference(con, KALTIM)  # empty warehouse: the scope may change
        assert con.execute("SELECT scope, scope_name FROM ref.scope").fetchall() == [
            (KALTIM, "Kalimantan Timur")]
        con.execute("INSERT INTO audit.submission (file_id, verdict, run_id) "
                    "VALUES (1, 'rejected', 'r')")
        with pytest.raises(ScopeMismatch, match="PILKADA_WAREHOUSE lain"):
            ensure_reference(con, "all")
        assert con.execute("SELECT count(*) FROM ref.kabkota").fetchone()[0] == 10


def test_generated_week_follows_the_contract_and_the_reference(tmp_path):
    from samples.national import generate

    files = generate(tmp_path, ["2024-W46", "2024-W47"], scope="65")
    assert len(files) == 2 * 5 * regions("65")["kabkota"].height
    assert Counter(f.path.suffix for f in files)[".csv"] < len(files)  # some XLSX and JSON
    need = desa_requirements("65")
    for week in ("2024-W46", "2024-W47"):
        rows = pl.concat([pl.read_csv(f.path, infer_schema_length=0) for f in files
                          if f.kind == "logistik" and f.week == week and f.path.suffix == ".csv"])
        assert rows.height > 0
        ids = rows.select("kode_desa", "barang").unique()
        assert ids.height == rows.height
        assert ids.join(need, left_on=["kode_desa", "barang"], right_on=["desa_code", "barang"],
                        how="anti").is_empty()
        ints = rows.select(pl.col("diterima_kabkota", "diterima_ppk", "diterima_pps",
                                  "diterima_tps").cast(pl.Int64))
        assert (ints["diterima_kabkota"] >= ints["diterima_ppk"]).all()
        assert (ints["diterima_pps"] >= ints["diterima_tps"]).all()
    # the same seed gives the same bytes, and a later week changes no earlier file
    again = generate(tmp_path / "again", ["2024-W46"], scope="65")
    first = {f.path.name: f.path.read_bytes() for f in files if f.week == "2024-W46"}
    assert {f.path.name: f.path.read_bytes() for f in again} == first


@pytest.mark.slow
def test_benchmark_smoke_run_agrees_with_the_plain_duckdb_baseline(tmp_path, capsys):
    """A province with defects (positions 5 and 7): the benchmark exits if the pipeline's or
    the baseline's verdicts differ from the generator's; no figure is asserted."""
    from bench.national_bench import bench_scope

    figures = bench_scope("73", "2024-W47", tmp_path, bulletin=False)
    printed = capsys.readouterr().out
    assert "ratio pipeline / baseline" in printed
    assert figures["rows"] > 20_000
    with duckdb.connect(str(tmp_path / "pipeline.duckdb"), read_only=True) as con:
        verdicts = dict(con.execute("SELECT status, count(*) FROM audit.submission_status "
                                    "GROUP BY 1").fetchall())
    assert verdicts["accepted_with_flags"] >= 1 and verdicts["rejected"] >= 1


@pytest.mark.slow
def test_a_bulletin_for_a_large_area_lists_the_worst_and_says_how_many(tmp_path, prefect_harness):
    """Sulawesi Selatan has 24 kab/kota: the bulletin lists 20, worst first, keeps every total,
    and tells the reader in both parts; the incidents list is cut the same way."""
    from reports.render import render_bulletin
    from samples.national import generate
    from tasks.publish.bulletin_data import LISTED, bulletin_context
    from tests.pipeline import ingest

    generate(tmp_path / "inbox", ["2024-W47"], scope="73")
    settings = load_settings().__class__(**{
        **load_settings().__dict__, "warehouse": tmp_path / "w.duckdb",
        "archive": tmp_path / "archive", "outbox": tmp_path / "outbox",
        "inbox": str(tmp_path / "inbox"), "province": "73"})
    ingest(settings)  # the flow loads the reference of the province it is set for
    with connect(settings.warehouse) as con:
        ctx = bulletin_context(con, "2024-W47")
        levels = [r[0] for r in con.execute(
            "SELECT status_level FROM mart.kabkota_weekly WHERE week = '2024-W47'").fetchall()]
    assert ctx["province_name"] == "Sulawesi Selatan"
    assert ctx["kabkota_total"] == 24 and len(ctx["kabkota"]) == LISTED == 20
    assert sum(ctx["counts"].values()) == 24
    listed = [k["status_level"] for k in ctx["kabkota"]]
    assert listed == sorted(levels, reverse=True)[:LISTED]
    assert {p["kabkota_code"] for p in ctx["provenance"]} <= {
        k["kabkota_code"] for k in ctx["kabkota"]}
    text = render_bulletin(ctx).text
    assert "memuat 20 dari 24 kab/kota" in text


def test_a_template_for_a_desk_outside_kaltim_lists_its_own_villages(tmp_path):
    from reports.workbook_template import build_template
    from tasks.ingest.parse import read_table

    path = build_template("7301", "2024-W47", tmp_path)
    rows = read_table(path.read_bytes(), "xlsx", "logistik")
    need = desa_requirements("73").filter(pl.col("kabkota_code") == "7301")
    assert rows.height == need.height
    assert set(rows["kode_desa"]) == set(need["desa_code"])

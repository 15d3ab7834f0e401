"""Reporting weeks (ISO, WITA) and the derived reference data (TPS master, requirements)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import polars as pl
import pytest

from tasks.config import WITA
from tasks.contract.regions import (
    BALLOT_ITEMS,
    ballots_needed,
    desa_requirements,
    regions,
    tps_master,
)
from tasks.contract.submission import ENUMS
from tasks.weeks import (
    deadline,
    h_minus,
    last_completed_week,
    parse_week,
    previous_week,
    week_end,
    week_of,
    week_range,
    week_start,
)

# ---------------------------------------------------------------------------------------------
# weeks


def test_parse_week_accepts_the_documented_label():
    assert parse_week("2024-W47") == (2024, 47)
    assert parse_week("2020-W53") == (2020, 53)  # 2020 really has an ISO week 53


@pytest.mark.parametrize(
    "label", ["2024-47", "2024-w47", "24-W47", "2024-W4", "2024-W047", "", " 2024-W47", "W47"]
)
def test_parse_week_rejects_malformed_labels_in_indonesian(label):
    with pytest.raises(ValueError) as err:
        parse_week(label)
    message = str(err.value)
    assert "tidak dikenal" in message
    assert "2024-W47" in message  # the example of the right format
    assert f"'{label}'" in message


@pytest.mark.parametrize("label", ["2024-W00", "2024-W53", "2024-W54", "2023-W99"])
def test_parse_week_rejects_weeks_that_do_not_exist(label):
    with pytest.raises(ValueError):
        parse_week(label)


def test_week_bounds_are_monday_to_sunday():
    assert week_start("2024-W47") == date(2024, 11, 18)
    assert week_end("2024-W47") == date(2024, 11, 24)
    assert week_start("2025-W01") == date(2024, 12, 30)  # ISO week 1 can start in December
    assert week_of(date(2024, 12, 31)) == "2025-W01"
    assert week_of(date(2024, 11, 24)) == "2024-W47"
    assert week_of(date(2024, 11, 25)) == "2024-W48"


def test_week_range_is_inclusive_and_crosses_years():
    assert week_range("2024-W40", "2024-W48") == [f"2024-W{w}" for w in range(40, 49)]
    assert week_range("2024-W52", "2025-W02") == ["2024-W52", "2025-W01", "2025-W02"]
    assert week_range("2024-W47", "2024-W47") == ["2024-W47"]
    assert week_range("2020-W52", "2021-W01") == ["2020-W52", "2020-W53", "2021-W01"]


def test_week_range_rejects_reversed_bounds_and_bad_labels():
    with pytest.raises(ValueError, match="sebelum"):
        week_range("2024-W48", "2024-W40")
    with pytest.raises(ValueError):
        week_range("2024-W40", "2024-48")


def test_previous_week():
    assert previous_week("2024-W47") == "2024-W46"
    assert previous_week("2025-W01") == "2024-W52"


def test_h_minus_counts_days_from_the_weeks_sunday_to_voting_day():
    assert h_minus("2024-W47") == 3  # Sunday 24 Nov 2024 -> Wednesday 27 Nov 2024
    assert h_minus("2024-W46") == 10
    assert h_minus("2024-W48") == -4  # the week of voting day itself ends after it


def test_deadline_is_saturday_noon_wita(settings_env):
    due = deadline("2024-W47", settings_env.deadline_weekday, settings_env.deadline_time)
    assert due == datetime(2024, 11, 23, 12, 0, tzinfo=WITA)
    assert due.weekday() == 5  # Saturday
    assert due.utcoffset() == timedelta(hours=8)
    assert due.astimezone(UTC) == datetime(2024, 11, 23, 4, 0, tzinfo=UTC)


def test_deadline_is_configurable():
    assert deadline("2024-W47", 4, time(17, 30)) == datetime(2024, 11, 22, 17, 30, tzinfo=WITA)


def test_last_completed_week_is_judged_in_wita():
    # Monday 00:30 WITA is still Sunday in UTC: the week that just ended is W47 all the same.
    assert last_completed_week(datetime(2024, 11, 24, 16, 30, tzinfo=UTC)) == "2024-W47"
    assert last_completed_week(datetime(2024, 11, 25, 7, 0, tzinfo=WITA)) == "2024-W47"
    assert last_completed_week(datetime(2024, 11, 24, 23, 0, tzinfo=WITA)) == "2024-W46"


# ---------------------------------------------------------------------------------------------
# reference: regions and the derived TPS master

TOTAL_TPS = 6_268
TOTAL_DPT = 2_821_202
N_DESA = 1_038
ITEM_PER_TPS = {  # independent copy of the planning table (docs/data-dictionary.md)
    "kotak_suara": 2,
    "bilik_suara": 4,
    "tinta": 2,
    "segel": 20,
    "alat_coblos": 4,
    "formulir_c": 2,
}


def test_regions_have_the_published_counts():
    reg = regions()
    assert reg["kabkota"].height == 10
    assert reg["desa"].height == N_DESA
    assert reg["kabkota"]["tps_2024"].sum() == TOTAL_TPS
    assert reg["kabkota"]["dpt_2024"].sum() == TOTAL_DPT
    # codes stay strings with their leading digits
    assert reg["desa"]["desa_code"].dtype == pl.String
    assert reg["desa"]["desa_code"].str.len_chars().unique().to_list() == [10]


def test_tps_master_totals_equal_the_official_figures():
    tps = tps_master()
    assert tps.height == TOTAL_TPS
    assert tps["dpt"].sum() == TOTAL_DPT
    assert tps["tps_code"].n_unique() == TOTAL_TPS
    assert tps["dpt"].min() >= 0
    per_kab = tps.group_by("kabkota_code").agg(n=pl.len(), dpt=pl.col("dpt").sum())
    official = regions()["kabkota"].select("kabkota_code", "tps_2024", "dpt_2024")
    joined = official.join(per_kab, on="kabkota_code", how="left")
    assert joined.filter(pl.col("n") != pl.col("tps_2024")).height == 0
    assert joined.filter(pl.col("dpt") != pl.col("dpt_2024")).height == 0


def test_every_desa_has_at_least_one_tps_and_codes_nest():
    tps = tps_master()
    desa = regions()["desa"]
    counts = Counter(tps["desa_code"].to_list())
    assert set(counts) == set(desa["desa_code"].to_list())
    assert min(counts.values()) >= 1
    # tps_code = desa_code + a three-digit number; kecamatan and kab/kota agree with the desa
    assert tps.filter(pl.col("tps_code").str.slice(0, 10) != pl.col("desa_code")).height == 0
    assert tps["tps_code"].str.len_chars().unique().to_list() == [13]
    checked = tps.join(desa.select("desa_code", "kecamatan_code", "kabkota_code"),
                       on="desa_code", suffix="_ref")
    assert checked.height == TOTAL_TPS
    assert (checked["kecamatan_code"] == checked["kecamatan_code_ref"]).all()
    assert (checked["kabkota_code"] == checked["kabkota_code_ref"]).all()


def test_tps_master_is_deterministic():
    first = tps_master.__wrapped__()  # bypass the cache: derive it again from scratch
    second = tps_master.__wrapped__()
    assert first.equals(second)
    assert first.equals(tps_master())


# ---------------------------------------------------------------------------------------------
# reference: requirements per desa × barang


def test_desa_requirements_has_every_desa_times_every_item():
    req = desa_requirements()
    assert req.height == N_DESA * 8
    assert set(req["barang"].unique().to_list()) == set(ENUMS["barang"])
    per_desa = req.group_by("desa_code").agg(n=pl.col("barang").n_unique(), rows=pl.len())
    assert per_desa.height == N_DESA
    assert per_desa["n"].unique().to_list() == [8]
    assert per_desa["rows"].unique().to_list() == [8]


def test_ballot_need_is_dpt_plus_reserve_rounded_up_per_tps():
    tps = tps_master()
    # ceil(2.5 % of dpt) in integer arithmetic, per TPS, then summed over the desa
    expected = {}
    for desa, dpt in zip(tps["desa_code"].to_list(), tps["dpt"].to_list(), strict=True):
        expected[desa] = expected.get(desa, 0) + dpt + (dpt * 25 + 999) // 1000
    req = desa_requirements()
    for item in BALLOT_ITEMS:
        got = dict(req.filter(pl.col("barang") == item)
                   .select("desa_code", "jumlah_kebutuhan").iter_rows())
        assert got == expected, item
    # rounding is per TPS, not per desa: at least one desa shows the difference
    per_desa_dpt = dict(req.filter(pl.col("barang") == "ss_gubernur")
                        .select("desa_code", "dpt").iter_rows())
    assert sum(per_desa_dpt.values()) == TOTAL_DPT
    assert any(expected[d] != dpt + (dpt * 25 + 999) // 1000 for d, dpt in per_desa_dpt.items())


@pytest.mark.parametrize(("dpt", "need"), [(0, 0), (1, 2), (40, 41), (41, 43), (400, 410),
                                           (401, 412), (600, 615)])
def test_ballots_needed(dpt, need):
    assert ballots_needed(dpt) == need


def test_other_items_are_per_tps():
    tps_per_desa = Counter(tps_master()["desa_code"].to_list())
    req = desa_requirements().filter(~pl.col("barang").is_in(list(BALLOT_ITEMS)))
    assert req.height == N_DESA * 6
    for desa, item, n_tps, need in req.select("desa_code", "barang", "n_tps",
                                              "jumlah_kebutuhan").iter_rows():
        assert n_tps == tps_per_desa[desa]
        assert need == n_tps * ITEM_PER_TPS[item], (desa, item)


def test_desa_requirements_is_deterministic():
    assert desa_requirements.__wrapped__().equals(desa_requirements())

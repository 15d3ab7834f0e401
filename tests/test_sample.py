"""The sample generator: deterministic, believable where the metrics look, defects as documented
in docs/sample-data.md (the pipeline's own tests check the verdicts against `expected_status`)."""

from __future__ import annotations

import io
import json
import re
import shutil
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest

from samples import kaltim as sample_mod
from samples.kaltim import DEFAULT_WEEKS, SampleFile, generate
from tasks.config import WITA
from tasks.contract.regions import desa_requirements, tps_master
from tasks.contract.submission import (
    COLUMNS,
    ENUM_COLUMNS,
    ENUMS,
    STATUS_INSIDEN_RANK,
    STATUS_TINDAK_LANJUT_RANK,
    TAHAP_RANK,
    TINDAK_LANJUT_OPEN,
)
from tasks.weeks import deadline, week_end, week_of, week_range, week_start
from tests.pipeline import ingest

WEEKS = week_range(*DEFAULT_WEEKS)
KABKOTA = ("6401", "6402", "6403", "6407", "6408", "6409", "6411", "6471", "6472", "6474")

# file name -> (defect, expected_status), for every file that is not a plain clean CSV
DEFECTS = {
    "6411_logistik_2024-W47.csv": ("late", "accepted"),
    "6402_keamanan_2024-W46.csv": ("resubmission", "superseded"),
    "6402_keamanan_2024-W46_revisi.csv": ("resubmission", "accepted"),
    "6401_logistik_2024-W45.csv": ("bad_rows", "accepted_with_flags"),
    "6407_insiden_2024-W46.csv": ("bad_rows", "accepted_with_flags"),
    "6472_netralitas_2024-W45.csv": ("bad_rows", "accepted_with_flags"),
    "6403_ringkasan_2024-W47.csv": ("semicolon_csv", "accepted"),
    "6408_logistik_2024-W47.xlsx": ("xlsx", "accepted"),
    "6474_netralitas_2024-W47.json": ("json", "accepted"),
    "6409_keamanan_2024-W44.csv": ("missing_column", "rejected"),
    "6401_insiden_2024-W43.csv": ("wrong_kabkota", "rejected"),
    "6472_ringkasan_2024-W47.csv": ("markup", "accepted"),
    "6472_tindak_lanjut_2024-W46.csv": ("dropped_open", "accepted_with_flags"),
    "6474_tindak_lanjut_2024-W47.csv": ("bad_rows", "accepted_with_flags"),
    **{f"6403_keamanan_{w}.csv": ("semicolon_csv", "accepted") for w in WEEKS},
}
# Who sends a follow-up report (tindak_lanjut) in which week: the desks with follow-ups to
# report, and the provincial desk under the province's code "64".
FOLLOW_UP_REPORTS = {
    *(("6402", w) for w in week_range("2024-W44", "2024-W47")),
    *(("6411", w) for w in week_range("2024-W44", "2024-W48")),
    *(("6472", w) for w in week_range("2024-W45", "2024-W47")),
    *(("6474", w) for w in week_range("2024-W46", "2024-W48")),
    *(("64", w) for w in week_range("2024-W45", "2024-W48")),
}
# Files whose rows are deliberately wrong, kept out of the "clean data" checks.
DIRTY = {n for n, (_, status) in DEFECTS.items() if status != "accepted"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> list[SampleFile]:
    return generate(tmp_path_factory.mktemp("inbox"), WEEKS)


def _raw(f: SampleFile) -> pl.DataFrame:
    """All cells as text, whatever the format."""
    if f.path.suffix == ".xlsx":
        df = pl.read_excel(f.path, sheet_name=f.kind)
        return df.with_columns(
            pl.col(pl.Float64).cast(pl.Int64), pl.col(pl.Date).dt.strftime("%Y-%m-%d")
        ).cast(pl.String)
    if f.path.suffix == ".json":
        doc = json.loads(f.path.read_bytes())
        return pl.from_dicts([{k: None if v is None else str(v) for k, v in o.items()}
                              for o in doc], schema=dict.fromkeys(doc[0], pl.String))
    data = f.path.read_bytes()
    text = data.decode("cp1252" if f.defect == "semicolon_csv" else "utf-8")
    sep = ";" if text.split("\n", 1)[0].count(";") else ","
    return pl.read_csv(io.BytesIO(text.encode()), separator=sep, infer_schema_length=0)


def _typed(f: SampleFile) -> pl.DataFrame:
    """Integers as numbers (Indonesian dot thousands removed), the rest as text."""
    df = _raw(f)
    ints = [c.name for c in COLUMNS[f.kind] if c.type == "int" and c.name in df.columns]
    return df.with_columns(
        pl.col(ints).str.replace_all(".", "", literal=True).cast(pl.Int64),
        kab=pl.lit(f.kabkota), week=pl.lit(f.week), name=pl.lit(f.path.name),
    )


def _clean(sample: list[SampleFile], kind: str) -> pl.DataFrame:
    frames = [_typed(f) for f in sample if f.kind == kind and f.path.name not in DIRTY]
    return pl.concat(frames, how="diagonal_relaxed")


def test_same_seed_same_bytes_and_other_weeks_do_not_matter(tmp_path: Path) -> None:
    weeks = ["2024-W46", "2024-W47"]
    a = generate(tmp_path / "a", weeks)
    b = generate(tmp_path / "b", weeks)
    c = generate(tmp_path / "c", weeks, seed=7)
    only = generate(tmp_path / "d", ["2024-W47"])
    assert [f.path.name for f in a] == [f.path.name for f in b]
    for fa, fb in zip(a, b, strict=True):
        assert fa.path.read_bytes() == fb.path.read_bytes(), fa.path.name
        assert fa.path.stat().st_mtime == fb.path.stat().st_mtime
    other = {f.path.name: f.path.read_bytes() for f in c}
    assert sum(other[f.path.name] != f.path.read_bytes() for f in a) > len(a) // 2
    for f in only:
        twin = tmp_path / "a" / f.kabkota / f.path.name
        assert f.path.read_bytes() == twin.read_bytes(), f.path.name


def test_other_province_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Kalimantan Timur"):
        generate(tmp_path, WEEKS, province="63")


def test_layout_and_count(sample: list[SampleFile]) -> None:
    # 10 kab/kota x 5 kinds x 9 weeks, minus Mahakam Ulu's missing keamanan, plus one revision,
    # plus the follow-up reports
    assert len(sample) == 10 * 5 * 9 - 1 + 1 + len(FOLLOW_UP_REPORTS)
    names = re.compile(
        r"^(\d{4}|\d{2})_([a-z_]+)_(\d{4}-W\d{2})(_revisi)?\.(csv|xlsx|json)$")
    for f in sample:
        m = names.match(f.path.name)
        assert m and f.path.is_file() and f.path.parent.name == f.kabkota
        assert (m[1], m[2], m[3]) == (f.kabkota, f.kind, f.week)
    sent = {(f.kabkota, f.kind, f.week) for f in sample}
    assert ("6411", "keamanan", "2024-W47") not in sent
    assert len(sent) == 10 * 5 * 9 - 1 + len(FOLLOW_UP_REPORTS)
    assert {(f.kabkota, f.week) for f in sample if f.kind == "tindak_lanjut"} == FOLLOW_UP_REPORTS


def test_every_defect_is_present_with_its_verdict(sample: list[SampleFile]) -> None:
    got = {f.path.name: (f.defect, f.expected_status) for f in sample
           if f.defect or f.expected_status != "accepted"}
    assert got == DEFECTS


def test_defect_contents(sample: list[SampleFile]) -> None:
    by_name = {f.path.name: f for f in sample}

    first, revised = (_typed(by_name[f"6402_keamanan_2024-W46{s}.csv"]) for s in ("", "_revisi"))
    classes = pl.col("tps_kurang_rawan") + pl.col("tps_rawan") + pl.col("tps_sangat_rawan")
    assert first.filter(classes != pl.col("jumlah_tps")).height == 1
    assert revised.filter(classes != pl.col("jumlah_tps")).height == 0

    log = _typed(by_name["6401_logistik_2024-W45.csv"])
    known = set(desa_requirements()["desa_code"])
    assert log.filter(pl.col("diterima_tps") > pl.col("diterima_pps")).height == 1
    assert log.filter(~pl.col("kode_desa").is_in(known)).height == 1
    assert log.filter(pl.col("rusak") < 0).height == 1

    ins = _typed(by_name["6407_insiden_2024-W46.csv"])
    casualties = (pl.col("korban_meninggal") + pl.col("korban_luka")) > 0
    assert ins.filter(casualties & (pl.col("tingkat") == "rendah")).height == 1
    assert ins.height >= 3  # one bad row must not make most of the file invalid

    asn = _typed(by_name["6472_netralitas_2024-W45.csv"])
    assert asn.filter(pl.col("ref_subjek") == "198503122010011002").height == 1
    assert asn.height >= 3

    wrong = _typed(by_name["6401_insiden_2024-W43.csv"])
    assert wrong.height > 0 and (wrong["kode_kabkota"] == "6402").all()
    assert wrong["kode_kecamatan"].str.starts_with("6402").all()

    assert "personel_linmas" not in _raw(by_name["6409_keamanan_2024-W44.csv"]).columns

    berau = by_name["6403_ringkasan_2024-W47.csv"].path.read_bytes()
    assert b";" in berau.split(b"\r\n")[0] and b"\x96" in berau  # cp1252 en dash
    with pytest.raises(UnicodeDecodeError):
        berau.decode("utf-8")
    for f in sample:
        if f.kabkota == "6403" and f.kind == "keamanan":
            assert f.path.read_bytes().startswith(b"kode_kabkota;kode_kecamatan;")
            assert b"\r\n" in f.path.read_bytes()

    narasi = _raw(by_name["6472_ringkasan_2024-W47.csv"])["narasi"][0]
    assert "<script>alert(1)</script> <img src=x onerror=alert(2)> & aman" in narasi

    xlsx = _raw(by_name["6408_logistik_2024-W47.xlsx"])
    assert xlsx.columns == [c.name for c in COLUMNS["logistik"]]
    assert xlsx["kode_desa"].str.len_chars().eq(10).all()

    doc = json.loads(by_name["6474_netralitas_2024-W47.json"].path.read_bytes())
    assert doc and all(list(o) == [c.name for c in COLUMNS["netralitas"]] for o in doc)


def test_mtimes_are_before_the_deadline_except_the_late_file(sample: list[SampleFile]) -> None:
    for f in sample:
        received = datetime.fromtimestamp(f.path.stat().st_mtime, WITA)
        due = deadline(f.week, 5, time(12, 0))
        if f.defect == "late":
            assert received == datetime.combine(week_end(f.week) + timedelta(days=1),
                                                time(9, 0), WITA)
        else:
            assert week_start(f.week) + timedelta(days=3) <= received.date(), f.path.name
            assert received < due, f.path.name
    first, revised = (next(f for f in sample if f.path.name == f"6402_keamanan_2024-W46{s}.csv")
                      for s in ("", "_revisi"))
    assert revised.path.stat().st_mtime > first.path.stat().st_mtime


def test_dates_fall_in_the_week_and_not_after_sending(sample: list[SampleFile]) -> None:
    for f in sample:
        df = _raw(f)
        sent = datetime.fromtimestamp(f.path.stat().st_mtime, WITA)
        if "per_tanggal" in df.columns:
            for d in df["per_tanggal"].unique():
                assert week_of(date.fromisoformat(d)) == f.week and d <= sent.date().isoformat()
        if f.kind == "insiden" and df.height:
            assert df["waktu_kejadian"].max() < sent.strftime("%Y-%m-%d %H:%M")


def test_enumerated_columns_hold_contract_values(sample: list[SampleFile]) -> None:
    for kind, enum_of in ENUM_COLUMNS.items():
        df = _clean(sample, kind)
        for column, enum in enum_of.items():
            values = set(df[column].drop_nulls())
            assert values <= set(ENUMS[enum]), (kind, column, values - set(ENUMS[enum]))


def test_generator_tables_follow_the_contract_enumerations() -> None:
    """The generator's weights and texts are keyed by enum values: a renamed value must fail."""
    assert set(sample_mod._KATEGORI_WEIGHT) == set(ENUMS["kategori_insiden"])
    assert set(sample_mod._INSIDEN_TEXT) == set(ENUMS["kategori_insiden"])
    assert set(sample_mod._PEGAWAI_WEIGHT) == set(ENUMS["jenis_pegawai"])
    assert set(sample_mod._ASAL_WEIGHT) == set(ENUMS["asal_kasus"])
    assert set(sample_mod._PELANGGARAN_WEIGHT) == set(ENUMS["jenis_pelanggaran"])
    assert set(sample_mod._SANKSI_WEIGHT) == set(ENUMS["sanksi"])
    assert set(sample_mod._LAG_NOTES) <= set(ENUMS["moda_angkut"])
    assert set(sample_mod.BALLOTS) <= set(ENUMS["barang"])


def test_logistik_is_complete_ordered_and_cumulative(sample: list[SampleFile]) -> None:
    df = _clean(sample, "logistik")
    req = desa_requirements().select(
        kab="kabkota_code", kode_desa="desa_code", barang="barang", need="jumlah_kebutuhan",
        tps="n_tps")
    for (kab, week), part in df.group_by("kab", "week"):
        expected = req.filter(pl.col("kab") == kab)
        assert part.height == expected.height, (kab, week)
        joined = part.join(expected, on=["kab", "kode_desa", "barang"], how="inner")
        assert joined.height == expected.height
        assert (joined["jumlah_kebutuhan"] == joined["need"]).all()
        assert (joined["jumlah_tps"] == joined["tps"]).all()
    chain = ["jumlah_kebutuhan", "diterima_kabkota", "diterima_ppk", "diterima_pps",
             "diterima_tps"]
    for hi, lo in pairwise(chain):
        assert df.filter(pl.col(hi) < pl.col(lo)).height == 0, (hi, lo)
    assert df.filter((pl.col("rusak") < 0) | (pl.col("rusak") > pl.col("diterima_kabkota"))
                     ).height == 0
    assert df.filter(pl.col("tps_lengkap") > pl.col("jumlah_tps")).height == 0
    per_desa = df.group_by("week", "kode_desa").agg(
        pl.col("tps_lengkap").n_unique().alias("n"), pl.col("diterima_tps").sum().alias("tps"),
        pl.col("tps_lengkap").first().alias("lengkap"))
    assert (per_desa["n"] == 1).all()
    assert per_desa.filter((pl.col("tps") == 0) & (pl.col("lengkap") > 0)).height == 0
    assert df.group_by("kode_desa").agg(pl.col("moda_angkut").n_unique())["moda_angkut"].max() == 1

    falls = df.sort("week").with_columns(
        pl.col(chain[1:]).diff().over("kode_desa", "barang").name.suffix("_diff"))
    for column in chain[1:]:
        assert falls.filter(pl.col(f"{column}_diff") < 0).height == 0, column


def test_logistik_tells_the_season_story(sample: list[SampleFile]) -> None:
    df = _clean(sample, "logistik")
    stages = ("kabkota", "ppk", "pps", "tps")
    share = df.group_by("kab", "week", "barang").agg(  # mean of items, as docs/metrics.md
        [(pl.col(f"diterima_{s}").sum() / pl.col("jumlah_kebutuhan").sum()).alias(s)
         for s in stages]).group_by("kab", "week").agg(pl.col(stages).mean())

    def at(kab: str, week: str, stage: str) -> float:
        return share.filter((pl.col("kab") == kab) & (pl.col("week") == week))[stage][0]

    for kab in KABKOTA:
        assert at(kab, "2024-W40", "ppk") == 0 and at(kab, "2024-W48", "tps") == 1
        assert at(kab, "2024-W41", "kabkota") < at(kab, "2024-W44", "kabkota") < 1
        assert at(kab, "2024-W47", "tps") == 0
    for kab in ("6401", "6402", "6472"):
        assert at(kab, "2024-W46", "kabkota") > 0.9 and at(kab, "2024-W47", "ppk") > 0.9
    for laggard in ("6407", "6411"):
        assert at(laggard, "2024-W47", "ppk") < 0.5 < at("6402", "2024-W47", "ppk")
    moda = df.group_by("kab").agg(pl.col("moda_angkut").unique())
    modes = {r["kab"]: set(r["moda_angkut"]) for r in moda.iter_rows(named=True)}
    assert {"sungai", "udara"} <= modes["6411"] and "sungai" in modes["6407"]
    assert "laut" in modes["6403"] and "laut" in modes["6474"]
    assert modes["6472"] == {"darat"}
    assert df["catatan"].null_count() > 0.8 * df.height


def test_keamanan_classes_tps_and_deployment(sample: list[SampleFile]) -> None:
    df = _clean(sample, "keamanan")
    classes = pl.col("tps_kurang_rawan") + pl.col("tps_rawan") + pl.col("tps_sangat_rawan")
    assert df.filter(classes != pl.col("jumlah_tps")).height == 0
    tps = tps_master().group_by(kode_kecamatan="kecamatan_code").agg(n=pl.len().cast(pl.Int64))
    joined = df.join(tps, on="kode_kecamatan")
    assert joined.height == df.height and (joined["jumlah_tps"] == joined["n"]).all()
    rawan = df.filter(pl.col("week") == "2024-W48").select(
        pl.col("tps_rawan", "tps_sangat_rawan").sum() / pl.col("jumlah_tps").sum())
    assert 0.10 <= rawan["tps_rawan"][0] <= 0.25 and 0.01 <= rawan["tps_sangat_rawan"][0] <= 0.04

    totals = df.group_by("week").agg(pl.col("personel_polri", "personel_tni",
                                            "personel_linmas").sum()).sort("week")
    w48 = totals.filter(pl.col("week") == "2024-W48").row(0, named=True)
    assert (w48["personel_polri"], w48["personel_tni"], w48["personel_linmas"]) == (
        5947, 2289, 13162)
    assert totals["personel_polri"].is_sorted()
    early = totals.filter(pl.col("week") < "2024-W44")["personel_linmas"]
    assert early.sum() == 0
    kubar = df.filter((pl.col("kab") == "6407") & (pl.col("week") == "2024-W47"))
    assert 1.5 < kubar["personel_linmas"].sum() / kubar["jumlah_tps"].sum() < 1.7


def test_insiden_rows(sample: list[SampleFile]) -> None:
    df = _clean(sample, "insiden")
    assert df["id_insiden"].str.contains(r"^INS-\d{4}-\d{4}$").all()
    assert (df["id_insiden"].str.slice(4, 4) == df["kab"]).all()
    assert df.filter(pl.col("kode_kecamatan").str.slice(0, 4) != pl.col("kab")).height == 0
    assert df.group_by("name", "id_insiden").len()["len"].max() == 1
    hurt = (pl.col("korban_meninggal") + pl.col("korban_luka")) > 0
    assert df.filter(hurt & (pl.col("tingkat") != "tinggi")).height == 0
    assert df.filter(pl.col("tingkat") == "tinggi").height < 0.15 * df.height
    ranks = df.sort("week").with_columns(
        rank=pl.col("status").replace_strict(STATUS_INSIDEN_RANK, return_dtype=pl.Int64))
    steps = ranks.with_columns(step=pl.col("rank").diff().over("id_insiden"))
    assert steps.filter(pl.col("step") <= 0).height == 0  # forward, one change a week at most
    again = ranks.group_by("id_insiden").agg(pl.col("waktu_kejadian", "kategori").n_unique())
    assert (again["waktu_kejadian"] == 1).all() and (again["kategori"] == 1).all()
    busy = df.group_by("kab").len()
    assert busy.filter(pl.col("kab") == "6402")["len"][0] > busy.filter(
        pl.col("kab") == "6411")["len"][0]
    empty = [f for f in sample if f.kind == "insiden" and _raw(f).height == 0]
    assert empty and all(f.path.read_text().count("\n") == 1 for f in empty)


def test_netralitas_rows(sample: list[SampleFile]) -> None:
    df = _clean(sample, "netralitas")
    assert df["id_kasus"].str.contains(r"^ASN-\d{4}-\d{3}$").all()
    assert df["ref_subjek"].str.contains(r"^SBJ-\d{4}-[0-9A-F]{4}$").all()
    sanctioned = pl.col("tahap") == "sanksi_dijatuhkan"
    assert df.filter(sanctioned != pl.col("sanksi").is_not_null()).height == 0
    assert df.filter(pl.col("tanggal_tahap") < pl.col("tanggal_lapor")).height == 0
    in_week = df.with_columns(
        pl.col("tanggal_tahap").str.to_date().dt.strftime("%G-W%V").alias("tahap_week"))
    assert (in_week["tahap_week"] == in_week["week"]).all()
    first = df.group_by("kab", "id_kasus").agg(pl.col("week").min(),
                                               pl.col("tanggal_lapor").first())
    for kab, _, seen, reported in first.iter_rows():
        lapor_week = week_of(date.fromisoformat(reported))
        assert lapor_week <= seen
        if lapor_week in WEEKS and f"{kab}_netralitas_{lapor_week}.csv" not in DIRTY:
            assert lapor_week == seen  # a case appears first in the week it was reported
    ranks = df.sort("week").with_columns(
        rank=pl.col("tahap").replace_strict(TAHAP_RANK, return_dtype=pl.Int64))
    assert ranks.with_columns(step=pl.col("rank").diff().over("id_kasus")).filter(
        pl.col("step") <= 0).height == 0
    assert {"pns", "pppk"} <= set(df["jenis_pegawai"])
    new_per_week = df.filter(pl.col("tanggal_lapor").str.to_date().dt.strftime("%G-W%V")
                             == pl.col("week")).group_by("kab", "week").len()
    assert new_per_week["len"].max() <= 3


def test_ringkasan_rows(sample: list[SampleFile]) -> None:
    df = _clean(sample, "ringkasan")
    assert df.group_by("name").len()["len"].max() == 1
    assert df["narasi"].str.len_chars().max() <= 2000
    assert df["unit_pelapor"].str.starts_with("Kesbangpol ").all()
    status = {(r["kab"], r["week"]): r["status_umum"] for r in df.iter_rows(named=True)}
    assert status[("6411", "2024-W47")] == "kritis"
    assert list(status.values()).count("kritis") == 1
    assert list(status.values()).count("aman_terkendali") > len(status) / 2


def _follow_ups(sample: list[SampleFile]) -> pl.DataFrame:
    """Every follow-up row of every report, with its sender (`kab`), week, file and the day
    the report was sent, dates as dates."""
    frames = [_typed(f).with_columns(sent=pl.lit(
        datetime.fromtimestamp(f.path.stat().st_mtime, WITA).date()))
        for f in sample if f.kind == "tindak_lanjut"]
    dates = ("tanggal_keputusan", "tenggat", "tanggal_status")
    return pl.concat(frames, how="diagonal_relaxed").with_columns(
        pl.col(dates).str.to_date()).sort("kab", "id_tindak_lanjut", "week")


def _without_the_typo(df: pl.DataFrame) -> pl.DataFrame:
    """All but Bontang's W47 row with the mistyped tenggat (the rest of that file is sound)."""
    code, _ = sample_mod._TENGGAT_TYPO
    return df.filter((pl.col("id_tindak_lanjut") != code) | (pl.col("week") != "2024-W47"))


def test_tindak_lanjut_rows_are_consistent(sample: list[SampleFile]) -> None:
    df = _follow_ups(sample)
    clean = _without_the_typo(df)
    assert clean["id_tindak_lanjut"].str.contains(r"^TL-(\d{2}|\d{4})-\d{3}$").all()
    assert (clean["id_tindak_lanjut"].str.split("-").list.get(1) == clean["kab"]).all()
    desks = clean.filter(pl.col("kab") != "64")
    assert (desks["kode_kabkota"] == desks["kab"]).all()  # a kab/kota desk reports its own
    province = clean.filter(pl.col("kab") == "64")
    assert set(province["kode_kabkota"]) <= {"64", *KABKOTA}
    assert province["kode_kabkota"].n_unique() > 1  # province-wide and for kab/kota
    for r in clean.iter_rows(named=True):
        decided = r["tanggal_keputusan"]
        if r["forum"] == "desk_pilkada":
            assert decided.weekday() == 0, r  # Desk Pilkada meets on Mondays
        else:
            assert (r["forum"], decided) == ("rakor_forkopimda", date(2024, 11, 13)), r
        assert decided <= r["tenggat"] and decided <= r["tanggal_status"], r
        assert week_of(r["tanggal_status"]) == r["week"] and r["tanggal_status"] <= r["sent"], r

    # the same follow-up in consecutive reports until it is closed, never moving back
    fixed = ["kode_kabkota", "tanggal_keputusan", "forum", "bidang", "isu", "tindakan",
             "instansi", "tenggat"]
    for (_, code), rows in clean.group_by("kab", "id_tindak_lanjut", maintain_order=True):
        weeks, statuses = rows["week"].to_list(), rows["status"].to_list()
        if code != sample_mod._DROPPED_FOLLOW_UP:
            assert weeks == week_range(weeks[0], weeks[-1]), (code, weeks)
        assert rows.select(fixed).n_unique() == 1, code
        ranks = [STATUS_TINDAK_LANJUT_RANK[s] for s in statuses]
        assert ranks == sorted(ranks), (code, statuses)
        assert [s in TINDAK_LANJUT_OPEN for s in statuses] == [True] * (len(weeks) - 1) + [
            False], (code, statuses)  # open until the one report that closes it
        assert rows["tanggal_status"].is_sorted(), code


def test_tindak_lanjut_tells_the_story(sample: list[SampleFile]) -> None:
    df = _follow_ups(sample)
    clean = _without_the_typo(df)
    done = clean.filter(pl.col("status") == "selesai")
    assert done.filter(pl.col("tanggal_status") <= pl.col("tenggat")).height > 0  # on time
    assert done.filter(pl.col("tanggal_status") > pl.col("tenggat")).height > 0  # late
    assert {"terkendala", "dibatalkan"} <= set(clean["status"])
    assert {"desk_pilkada", "rakor_forkopimda"} <= set(clean["forum"])

    # W47: Mahakam Ulu asked for air transport; the TNI's helicopters are overdue
    narasi = _raw(next(f for f in sample if f.path.name == "6411_ringkasan_2024-W47.csv"))
    assert "dukungan angkutan udara" in narasi["narasi"][0]
    w47 = df.filter(pl.col("week") == "2024-W47")
    overdue = w47.filter(pl.col("status").is_in(TINDAK_LANJUT_OPEN)
                         & (pl.col("tenggat") < week_end("2024-W47") + timedelta(days=1)))
    air = overdue.filter((pl.col("kab") == "64") & (pl.col("instansi") == "tni"))
    assert air["kode_kabkota"].to_list() == ["6411"]
    assert "angkutan udara" in air["tindakan"][0]
    assert overdue.filter(pl.col("status") == "terkendala").height > 0
    assert {"polri", "pemda"} <= set(clean["instansi"])  # security and ASN neutrality

    # Kutai Barat, Kritis in W47, has no follow-up at all: neither from its desk nor the province
    assert "6407" not in set(df["kode_kabkota"]) and "6407" not in set(df["kab"])
    by_name = {f.path.name: f for f in sample}
    assert by_name["64_tindak_lanjut_2024-W47.csv"].path.parent.name == "64"


def test_tindak_lanjut_defects(sample: list[SampleFile], tmp_path: Path) -> None:
    df = _follow_ups(sample)
    dropped = df.filter(pl.col("id_tindak_lanjut") == sample_mod._DROPPED_FOLLOW_UP)
    assert dropped.select("week", "status").rows() == [("2024-W45", "baru"),
                                                       ("2024-W47", "selesai")]
    assert df.filter((pl.col("kab") == "6472") & (pl.col("week") == "2024-W46")).height > 0
    code, wrong = sample_mod._TENGGAT_TYPO
    typo = df.filter(pl.col("id_tindak_lanjut") == code).select("week", "tenggat",
                                                                "tanggal_keputusan")
    assert typo.rows() == [("2024-W47", wrong, date(2024, 11, 18)),
                           ("2024-W48", date(2024, 11, 26), date(2024, 11, 18))]
    # the dropped row is only found when the report of the week before is there to compare
    alone = {f.path.name: f for f in generate(tmp_path / "a", ["2024-W46"])}
    pair = {f.path.name: f for f in generate(tmp_path / "b", ["2024-W45", "2024-W46"])}
    name = "6472_tindak_lanjut_2024-W46.csv"
    assert alone[name].expected_status == "accepted"
    assert pair[name].expected_status == "accepted_with_flags"
    assert alone[name].path.read_bytes() == pair[name].path.read_bytes()


def test_tindak_lanjut_through_the_pipeline(sample: list[SampleFile], warehouse,
                                            settings_env, prefect_harness) -> None:
    """Every follow-up report and W47's other reports, ingested for real: the verdicts, the
    findings, and what the marts then say about W47."""
    root = sample[0].path.parents[1]
    chosen = [f for f in sample if f.kind == "tindak_lanjut" or f.week == "2024-W47"]
    for f in chosen:
        target = Path(settings_env.inbox) / f.path.relative_to(root)
        target.parent.mkdir(exist_ok=True)
        shutil.copy2(f.path, target)
    ingest(settings_env)

    ledger = dict(warehouse.execute(
        "SELECT file_name, status FROM audit.submission_status").fetchall())
    assert ledger == {f.path.name: f.expected_status for f in chosen}
    rules = set(warehouse.execute(
        "SELECT f.file_name, i.rule FROM audit.row_issue i JOIN raw.file f USING (file_id) "
        "WHERE f.kind = 'tindak_lanjut'").fetchall())
    assert rules == {("6472_tindak_lanjut_2024-W46.csv", "tindak_lanjut_hilang"),
                     ("6474_tindak_lanjut_2024-W47.csv", "tenggat_setelah_keputusan")}

    def rows(query: str) -> list[tuple]:
        return warehouse.execute(query).fetchall()

    assert rows("SELECT id_tindak_lanjut FROM mart.tindak_lanjut WHERE week = '2024-W46' "
                "AND hilang_dari_laporan") == [(sample_mod._DROPPED_FOLLOW_UP,)]
    w47 = "FROM mart.tindak_lanjut WHERE week = '2024-W47'"
    assert ("TL-64-002", "6411", "tni") in rows(
        f"SELECT id_tindak_lanjut, kode_kabkota, instansi {w47} AND terlambat")
    assert rows(f"SELECT count(*) {w47} AND terbuka AND status = 'terkendala'")[0][0] > 0
    assert rows(f"SELECT count(*) {w47} AND selesai_minggu_ini AND NOT selesai_terlambat"
                )[0][0] > 0
    late = "FROM mart.tindak_lanjut WHERE selesai_minggu_ini AND selesai_terlambat"
    assert rows(f"SELECT count(*) {late}")[0][0] > 0
    kritis = rows("SELECT kabkota_code, tindak_lanjut_terbuka FROM mart.kabkota_weekly "
                  "WHERE week = '2024-W47' AND status = 'Kritis' ORDER BY 1")
    assert kritis[0] == ("6407", 0) and len(kritis) == 2 and kritis[1][1] > 0
    none = rows("SELECT k.kabkota_code FROM mart.kabkota_weekly k WHERE k.week = '2024-W47' "
                "AND k.status = 'Kritis' AND NOT EXISTS (SELECT 1 FROM mart.tindak_lanjut t "
                "WHERE t.week = k.week AND t.kode_kabkota = k.kabkota_code)")
    assert none == [("6407",)]  # the one Kritis kab/kota nobody has acted on yet

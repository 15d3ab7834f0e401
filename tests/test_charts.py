"""Bulletin charts (issue 17): drawn at twice the pixels for email and print, small PNGs, a
headline that states the finding, target ticks and value labels on the logistics chart, TPS
risk classes in colours that never mean a status, and the status map wired in as `peta`."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from reports import i18n
from reports.charts import (
    Chart,
    logistics_by_kabkota,
    logistics_gap,
    tps_classes_by_kabkota,
)
from reports.render import Formatter, _bulletin_view, _with_charts, build_message, render_bulletin
from reports.theme import INK, STAGE_COLORS, STATUS_COLORS, TPS_CLASS_COLORS, luminance
from tests.render_context import make_ctx

FMT = Formatter("id")
STAGES = i18n.labels(i18n.STAGES_SHORT, "id")


@pytest.fixture(scope="module")
def drawn() -> dict[str, Chart]:
    return _with_charts(_bulletin_view(make_ctx()))["charts"]


def _image(chart: Chart) -> Image.Image:
    return Image.open(io.BytesIO(chart.png))


def test_every_chart_is_twice_its_css_size_and_small(drawn: dict[str, Chart]) -> None:
    assert set(drawn) == {"logistik", "tps", "peta"}
    for chart in drawn.values():
        img = _image(chart)
        img.verify()
        assert img.size == (2 * chart.width, 2 * chart.height)
        assert chart.width == 560
        assert img.mode == "P"  # quantized: flat fills need no full colour
        assert len(chart.png) < 80 * 1024


def test_headlines_state_the_finding(drawn: dict[str, Chart]) -> None:
    assert drawn["logistik"].title == (
        "Logistik: 9 dari 10 kab/kota di bawah target PPK H-3, 1 tanpa laporan")
    assert drawn["tps"].title == "Keamanan: 279 TPS sangat rawan, terbanyak di Kukar (130)"
    assert drawn["peta"].title == "1 kab/kota Kritis, 3 Waspada"
    for chart in drawn.values():
        assert chart.alt.startswith(chart.title) or chart.title in chart.alt


def test_logistics_headline_when_targets_are_met_or_not_yet_set() -> None:
    ctx = make_ctx()
    for k in ctx["kabkota"]:
        if k["pct_pps"] is not None:
            k.update(pct_ppk=1.0, pct_pps=0.8)
    assert _with_charts(_bulletin_view(ctx))["charts"]["logistik"].title == (
        "Logistik: semua kab/kota mencapai target H-3, 1 tanpa laporan")
    ctx["logistik"]["stage_targets"] = [
        {"stage": s, "label": s, "expected": 0.0} for s in ("kabkota", "ppk", "pps", "tps")]
    chart = _with_charts(_bulletin_view(ctx))["charts"]["logistik"]
    assert chart.title == "Logistik per tahap, per kab/kota, 1 tanpa laporan"
    assert "Target" not in chart.alt


def test_english_headlines() -> None:
    drawn = _with_charts(_bulletin_view(make_ctx("en")))["charts"]
    assert drawn["logistik"].title == (
        "Supplies: 9 of 10 regencies/cities below the PPK target for D-3, 1 without a report")
    assert drawn["tps"].title == (
        "Security: 279 high-risk polling stations, most in Kukar (130)")
    assert "Mahulu 100.0% / 53.0% / 41.0% / 5.0%" in drawn["logistik"].alt


def test_the_value_shown_is_the_stage_furthest_behind() -> None:
    targets = {"kabkota": 1.0, "ppk": 0.875, "pps": 0.333}
    row = {"pct_kabkota": 0.9985, "pct_ppk": 0.9, "pct_pps": 0.2, "pct_tps": 0.0}
    assert logistics_gap(row, targets) == ("pps", 0.2)
    row = {"pct_kabkota": 0.9985, "pct_ppk": 0.9, "pct_pps": 0.5, "pct_tps": 0.0}
    assert logistics_gap(row, targets) == ("kabkota", 0.9985)  # 99.85 % is still short
    row = {"pct_kabkota": 1.0, "pct_ppk": 0.9, "pct_pps": 0.5, "pct_tps": 0.0}
    assert logistics_gap(row, targets) == ("pps", 0.5)  # none behind: the last stage with one
    assert logistics_gap(row, {}) is None
    # equal gaps: the earliest stage, as mart.kabkota_weekly judges it
    row = {"pct_kabkota": 0.9, "pct_ppk": 0.775, "pct_pps": 0.233, "pct_tps": 0.0}
    assert logistics_gap(row, targets) == ("kabkota", 0.9)
    # 0.875 stored as 0.87499999… meets its target, as the status rules judge it
    row = {"pct_kabkota": 1.0, "pct_ppk": 0.875 - 1e-12, "pct_pps": 0.5, "pct_tps": 0.0}
    assert logistics_gap(row, targets) == ("pps", 0.5)


def _dark_pixels(chart: Chart) -> int:
    img = np.asarray(_image(chart).convert("RGB")).astype(int)
    ink = np.array([int(INK[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(img - ink).sum(axis=2) < 40).sum())


def test_target_ticks_and_value_labels_are_drawn() -> None:
    """Same bars with and without targets: the ticks, the legend entry and the labels right of
    the bars add dark pixels."""
    rows = [r for r in make_ctx()["kabkota"] if r["pct_pps"] is not None][:3]

    def chart(targets: dict[str, float]) -> Chart:
        return logistics_by_kabkota(rows, STAGES, targets, FMT.pct, cid="x", title="t",
                                    alt_title="a", target_label="Target H-3", no_data="-")

    plain, marked = chart({}), chart({"ppk": 1.0, "pps": 0.75})
    assert plain.height == marked.height
    assert _dark_pixels(marked) > _dark_pixels(plain) + 500
    assert "(Target H-3: PPK 100,0%, PPS 75,0%)" in marked.alt


def _hue(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))


def test_tps_classes_never_use_the_status_colours() -> None:
    """Blue, orange and vermillion mean Siap, Waspada, Kritis; a police risk class is no
    status. The classes are a ramp that darkens with risk, readable without hue."""
    status = {_hue(bg) for bg, _ in STATUS_COLORS.values()}
    for colour in TPS_CLASS_COLORS.values():
        r, g, b = _hue(colour)
        for sr, sg, sb in status:
            assert abs(r - sr) + abs(g - sg) + abs(b - sb) > 120, colour
    ramp = [luminance(TPS_CLASS_COLORS[c]) for c in ("kurang_rawan", "rawan", "sangat_rawan")]
    assert ramp == sorted(ramp, reverse=True)
    assert not set(TPS_CLASS_COLORS.values()) & set(STAGE_COLORS.values())


def test_tps_chart_lists_counts_in_its_alt_text() -> None:
    rows = make_ctx()["kabkota"]
    chart = tps_classes_by_kabkota(rows, i18n.labels(i18n.TPS_CLASSES, "id"), FMT.num, cid="x",
                                   title="Judul", alt_title="TPS", no_data="tidak ada data")
    assert chart.alt.startswith("Judul. TPS (Kurang rawan / Rawan / Sangat rawan): Mahulu 56")
    assert "Kukar 1.057 / 260 / 130" in chart.alt


# --------------------------------------------------------------------------------------------
# The status map in the bulletin


@pytest.fixture(scope="module")
def bulletin():
    return render_bulletin(make_ctx())


def test_bulletin_sends_the_map_as_a_cid_part(bulletin) -> None:
    cid = "peta-2024W47@siaga-pilkada"
    assert bulletin.images[cid].startswith(b"\x89PNG\r\n\x1a\n")
    msg = build_message(bulletin, "desk@siaga-pilkada.local", ["a@kaltim.go.id"])
    parts = {p["Content-ID"]: p for p in msg.walk() if p["Content-ID"]}
    part = parts[f"<{cid}>"]
    assert part.get_content_type() == "image/png"
    assert part.get_content_disposition() == "inline"
    assert part.get_content() == bulletin.images[cid]


def test_map_alt_text_lists_every_status(bulletin, drawn: dict[str, Chart]) -> None:
    alt = drawn["peta"].alt
    assert "Kritis: Mahakam Ulu;" in alt
    assert "Waspada: Kutai Barat, Kutai Kartanegara, Kutai Timur;" in alt
    assert ("Siap: Berau, Kota Balikpapan, Kota Bontang, Kota Samarinda, Paser, "
            "Penajam Paser Utara.") in alt
    # incident rows name their kab/kota only: each is drawn at its kab/kota and listed
    assert "MHU-0007 Mahulu (tingkat sedang)" in alt and "KKR-0031 Kukar (tingkat tinggi)" in alt
    img = re.search(r'<img\b[^>]*src="cid:peta-2024W47@siaga-pilkada"[^>]*>', bulletin.html)
    assert img, "the template shows charts.peta"
    assert "Kritis: Mahakam Ulu;" in img.group(0)


def test_incidents_with_a_kabkota_code_are_placed_too() -> None:
    ctx = make_ctx()
    for i in ctx["keamanan"]["insiden"]:
        i.update(kabkota_code="6407", kabkota_name="nama yang tidak dikenal")
    alt = _with_charts(_bulletin_view(ctx))["charts"]["peta"].alt
    assert "Insiden berlokasi (2)" in alt and "MHU-0007 Kubar" in alt


def test_no_map_where_no_boundary_is_shipped() -> None:
    """Another province's kab/kota have no boundary here: no empty frame is sent."""
    ctx = make_ctx()
    for n, k in enumerate(ctx["kabkota"]):
        k["kabkota_code"] = f"63{n:02d}"
    drawn = _with_charts(_bulletin_view(ctx))["charts"]
    assert "peta" not in drawn and {"logistik", "tps"} <= set(drawn)


def test_no_map_when_only_some_kabkota_are_listed() -> None:
    """The national bulletin lists the worst 20 of 514: a map of those alone would mislead."""
    ctx = make_ctx()
    ctx["kabkota_total"] = 514
    assert "peta" not in _with_charts(_bulletin_view(ctx))["charts"]

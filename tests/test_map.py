"""The status map: a valid small PNG at twice the pixels, every Kaltim kab/kota drawn in its
status colour (sampled from the picture, so colours cannot be swapped), an alt text that lists
every kab/kota under its status, incident dots, and a map that degrades instead of failing."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from matplotlib.path import Path as MplPath
from PIL import Image

from reports.charts import Chart
from reports.map import (
    BOUNDARIES,
    NO_DATA_COLOR,
    STATUSES,
    Incident,
    _area,
    _edge_distance,
    _interior_point,
    headline,
    incident_points,
    kabkota_point,
    load_boundaries,
    map_frame,
    status_map,
)
from reports.theme import INK, STATUS_COLORS
from tasks.resources import REFERENCE_DIR

with open(REFERENCE_DIR / "kaltim" / "kabkota.csv", encoding="utf-8", newline="") as _fh:
    KABKOTA = {r["kabkota_code"]: r for r in csv.DictReader(_fh)}
# Neighbours get different statuses, and every status (and no data) is used.
MIXED: dict[str, str | None] = {
    "6401": "Siap", "6402": "Waspada", "6403": "Siap", "6407": "Kritis", "6408": "Kritis",
    "6409": None, "6411": "Waspada", "6471": "Kritis", "6472": "Siap", "6474": "Waspada",
}
WORDS_EN = {"Siap": "Ready", "Waspada": "Watch", "Kritis": "Critical", None: "No data"}
WORDS_ID = {"Siap": "Siap", "Waspada": "Waspada", "Kritis": "Kritis", None: "Tanpa data"}


def _rgb(hex_color: str) -> np.ndarray:
    h = hex_color.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)])


def _image(chart: Chart) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(chart.png)).convert("RGB")).astype(int)


def _alt_groups(alt: str, words: dict[str | None, str]) -> dict[str | None, set[str]]:
    """The alt text's "Word: a, b; Word: c." groups, by status."""
    out = {}
    for status, word in words.items():
        m = re.search(rf"(?:\. |; ){re.escape(word)}: ([^;.]+)", alt)
        out[status] = set(m.group(1).split(", ")) if m else set()
    return out


def _alt_name(code: str) -> str:
    return KABKOTA[code]["kabkota_name"].removeprefix("Kabupaten ")


def _dominant(img: np.ndarray, col: int, row: int, radius: int) -> np.ndarray:
    """The most frequent colour in a square around a pixel: the fill, not its hatch lines or
    the label's strokes drawn over it."""
    window = img[row - radius : row + radius + 1, col - radius : col + radius + 1].reshape(-1, 3)
    colour, _ = Counter(map(tuple, window)).most_common(1)[0]
    return np.array(colour)


@pytest.fixture(scope="module")
def mixed() -> Chart:
    return status_map(MIXED)


def test_png_is_valid_twice_the_css_size_and_small(mixed: Chart) -> None:
    img = Image.open(io.BytesIO(mixed.png))
    img.verify()
    assert img.format == "PNG"
    assert img.size == (2 * mixed.width, 2 * mixed.height)
    assert mixed.width == 560
    assert len(mixed.png) < 150 * 1024
    one = status_map(MIXED, scale=1)
    assert Image.open(io.BytesIO(one.png)).size == (560, one.height)
    assert one.alt == mixed.alt


def test_every_kaltim_kabkota_has_a_geometry_and_a_point_inside_it() -> None:
    features = load_boundaries()
    assert len(KABKOTA) == 10
    assert set(KABKOTA) == set(features)
    for code in KABKOTA:
        lon, lat = kabkota_point(code)
        path = MplPath.make_compound_path(
            *(MplPath(r, closed=True) for rings in features[code].polygons for r in rings))
        assert path.contains_point((lon, lat)), code


def test_boundary_file_travels_with_its_licence_and_its_source() -> None:
    licence = BOUNDARIES.with_suffix(".LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Cahya DSN" in licence
    readme = (REFERENCE_DIR / "README.md").read_text(encoding="utf-8")
    assert "kabkota_boundaries.geojson" in readme and "cahyadsn/wilayah_boundaries" in readme


@pytest.mark.parametrize(("lang", "words"), [("id", WORDS_ID), ("en", WORDS_EN)])
def test_alt_text_lists_every_kabkota_under_its_status(lang: str, words: dict) -> None:
    chart = status_map(MIXED, lang=lang)
    groups = _alt_groups(chart.alt, words)
    for status in words:
        assert groups[status] == {_alt_name(c) for c, s in MIXED.items() if s == status}
    assert chart.alt.startswith("Peta status" if lang == "id" else "Map of")
    assert headline(MIXED, lang) in chart.alt


def test_headline_says_the_finding() -> None:
    assert headline(MIXED) == "3 kab/kota Kritis, 3 Waspada"
    assert headline(MIXED, "en") == "3 regencies/cities Critical, 3 Watch"
    assert headline({"6401": "Kritis", "6402": "Siap"}, "en") == "1 regency/city Critical"
    assert headline(dict.fromkeys(KABKOTA, "Siap")) == "Semua 10 kab/kota Siap"
    assert headline({"6401": "Siap", "6402": None}) == "1 kab/kota Siap, 1 tanpa data"
    assert status_map(MIXED, title="Judul dari pemanggil").alt.startswith(
        "Peta status kab/kota, Judul dari pemanggil.")


def test_each_kabkota_is_filled_with_its_status_colour(mixed: Chart) -> None:
    """Sampled inside each kab/kota, around the point its label goes: the fill must be its
    status's colour and nearer to it than to any other (no swapped colours)."""
    img = _image(mixed)
    frame = map_frame(MIXED, title=headline(MIXED))
    palette = {s: _rgb(STATUS_COLORS[s][0]) for s in STATUSES} | {None: _rgb(NO_DATA_COLOR)}
    features = load_boundaries()
    for code, status in MIXED.items():
        lon, lat = kabkota_point(code)
        col, row = frame.pixel(lon, lat)
        depth = min(_edge_distance(np.array([[lon, lat]]), rings)[0]
                    for rings in features[code].polygons)
        radius = max(2, min(30, int(0.6 * depth * frame.px_per_deg_lon * 2)))
        got = _dominant(img, col, row, radius)
        nearest = min(palette, key=lambda s: np.abs(palette[s] - got).sum())
        assert nearest == status, (code, got)
        assert np.abs(got - palette[status]).max() <= 8, (code, got)


def test_islands_of_a_multipolygon_are_drawn() -> None:
    """Berau's largest island (a separate part of its MultiPolygon) takes Berau's colour."""
    berau = sorted(load_boundaries()["6403"].polygons, key=_area, reverse=True)
    assert len(berau) > 1
    island = berau[1]
    lon, lat = _interior_point(island)
    statuses = dict.fromkeys(KABKOTA, "Kritis") | {"6403": "Siap"}
    chart = status_map(statuses)
    col, row = map_frame(statuses, title=headline(statuses)).pixel(lon, lat)
    got = _dominant(_image(chart), col, row, 1)
    assert np.abs(got - _rgb(STATUS_COLORS["Siap"][0])).max() <= 8


# A point in southern Paser, far from every label.
PASER_SOUTH = (116.2, -2.05)


def test_incident_points_are_drawn_and_listed() -> None:
    statuses = dict.fromkeys(KABKOTA, "Siap")
    paser = max(load_boundaries()["6401"].polygons, key=_area)
    assert MplPath(paser[0]).contains_point(PASER_SOUTH)
    incidents = [
        Incident(*PASER_SOUTH, "INS-0007 Long Ikis", "tinggi"),
        Incident(*kabkota_point("6411"), "INS-0009 Mahakam Ulu", "sedang"),
        Incident(130.0, 5.0, "INS-0010 koordinat salah"),
    ]
    title = headline(statuses)
    col, row = map_frame(statuses, incidents, title=title).pixel(*PASER_SOUTH)
    plain = status_map(statuses)
    with_dots = status_map(statuses, incidents)
    assert map_frame(statuses, title=title).pixel(*PASER_SOUTH) == (col, row)
    blue = _rgb(STATUS_COLORS["Siap"][0])
    assert np.abs(_dominant(_image(plain), col, row, 2) - blue).max() <= 8
    assert np.abs(_dominant(_image(with_dots), col, row, 2) - _rgb(INK)).max() <= 24
    assert "Insiden berlokasi (2), ditandai titik hitam: INS-0007 Long Ikis (tingkat tinggi); "\
        "INS-0009 Mahakam Ulu (tingkat sedang)." in with_dots.alt
    assert "Insiden di luar peta, tidak digambar: 1." in with_dots.alt
    assert "(severity high)" in status_map(statuses, incidents, lang="en").alt


def _write_boundaries(tmp_path: Path, features: list) -> Path:
    path = tmp_path / "batas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_a_kabkota_without_geometry_is_named_and_the_rest_drawn(tmp_path: Path) -> None:
    doc = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    kept = [f for f in doc["features"] if f["properties"]["kabkota_code"] != "6411"]
    broken = next(f for f in kept if f["properties"]["kabkota_code"] == "6474")
    broken["geometry"] = {"type": "MultiPolygon", "coordinates": [[["x", None]]]}
    path = _write_boundaries(tmp_path, kept)
    chart = status_map(MIXED, boundaries=path)
    assert chart.alt.endswith(
        "Tidak dapat digambar (batas wilayah tidak tersedia): Kota Bontang, Mahakam Ulu.")
    assert _alt_groups(chart.alt, WORDS_ID)["Waspada"] == {"Kota Bontang", "Kutai Kartanegara",
                                                          "Mahakam Ulu"}
    assert kabkota_point("6411", path) is None
    img = _image(chart)
    frame = map_frame(MIXED, title=headline(MIXED), boundaries=path)
    col, row = frame.pixel(*kabkota_point("6402"))
    assert np.abs(_dominant(img, col, row, 30) - _rgb(STATUS_COLORS["Waspada"][0])).max() <= 8


@pytest.mark.parametrize("content", [None, "{not json", '{"type": "FeatureCollection"}'])
def test_a_missing_or_unreadable_boundary_file_never_raises(tmp_path: Path,
                                                           content: str | None) -> None:
    path = tmp_path / "batas.geojson"
    if content is not None:
        path.write_text(content)
    chart = status_map({"6401": "Siap", "6402": "Kritis", "6301": None}, lang="en",
                       boundaries=path)
    assert Image.open(io.BytesIO(chart.png)).size == (1120, 2 * chart.height)
    assert chart.alt.endswith("Not drawn (no boundary available): 6301, Kutai Kartanegara, "
                              "Paser.")
    assert "Critical: Kutai Kartanegara; Ready: Paser; No data: 6301." in chart.alt


def test_a_hole_stays_empty_whatever_its_winding(tmp_path: Path) -> None:
    square = [[116.0, -2.0], [117.0, -2.0], [117.0, -1.0], [116.0, -1.0], [116.0, -2.0]]
    hole = [[116.3, -1.7], [116.7, -1.7], [116.7, -1.3], [116.3, -1.3], [116.3, -1.7]]  # also ccw
    path = _write_boundaries(tmp_path, [{
        "type": "Feature", "properties": {"kabkota_code": "6401", "nama": "Kabupaten Paser"},
        "geometry": {"type": "Polygon", "coordinates": [square, hole]},
    }])
    chart = status_map({"6401": "Siap"}, boundaries=path)
    frame = map_frame({"6401": "Siap"}, title=headline({"6401": "Siap"}), boundaries=path)
    img = _image(chart)
    white, blue = np.array([255, 255, 255]), _rgb(STATUS_COLORS["Siap"][0])
    assert (_dominant(img, *frame.pixel(116.5, -1.5), 4) == white).all()
    assert np.abs(_dominant(img, *frame.pixel(116.1, -1.9), 4) - blue).max() <= 8


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="status tidak dikenal"):
        status_map({"6401": "Aman"})


def test_maps_drawn_from_several_threads_are_identical(mixed: Chart) -> None:
    """Drawing shares the charts' lock, so concurrent renders cannot mix their settings."""
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(status_map(MIXED).png))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [mixed.png] * 3


def test_incident_points_sit_under_the_label_apart_and_inside() -> None:
    """Incidents known only by their kab/kota: dots in a row under its label, never on it and
    never on each other, inside the kab/kota; a small city keeps them on its own point."""
    features = load_boundaries()
    _, lat = kabkota_point("6411")
    points = incident_points("6411", 7)
    assert len(points) == 7 and len(set(points)) == 7
    assert all(y < lat for _, y in points)
    path = MplPath.make_compound_path(
        *(MplPath(r, closed=True) for rings in features["6411"].polygons for r in rings))
    assert all(path.contains_point(p) for p in points)
    assert incident_points("6474", 1) == [kabkota_point("6474")]
    assert incident_points("9999", 3) == [] and incident_points("6411", 0) == []

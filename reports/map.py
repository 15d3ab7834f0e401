"""A small map of the kab/kota coloured by status, for the bulletin email (PNG by Content-ID).

Drawn like `reports.charts` (matplotlib Figure API, Agg, under the same lock) from the boundary
file shipped in `reference/kaltim/` (source and licence: reference/README.md), read with the
standard library: ten simplified outlines need no GIS stack. Status is never shown by colour
alone: Waspada and Kritis are hatched, every label carries the status symbol the bulletin's badges
use, and the alt text lists every kab/kota under its status, so a reader with images blocked, a
screen reader or a colour-vision deficiency loses nothing. The map is drawn at twice its CSS
size by default because its labels are small and a phone's screen is dense.

A missing or unreadable boundary file, or a kab/kota without a geometry, never stops a bulletin:
what exists is drawn and the alt text names what could not be.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib
import numpy as np
from matplotlib import patheffects
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from reports import i18n
from reports.charts import _DRAW_LOCK, DPI, RC, WIDTH_PX, Chart, png_bytes
from reports.theme import INK, MUTED, STATUS_COLORS
from tasks.resources import REFERENCE_DIR

matplotlib.use("Agg")

log = logging.getLogger(__name__)

BOUNDARIES = REFERENCE_DIR / "kaltim" / "kabkota_boundaries.geojson"
KABKOTA_CSV = REFERENCE_DIR / "kaltim" / "kabkota.csv"
STATUSES = ("Kritis", "Waspada", "Siap")  # worst first, the order of the alt text and legend
# Not a status colour (those mean a status only): a light grey for "no report", new to this
# module because theme.py has none.
NO_DATA_COLOR = "#BFC5CC"
BORDER_COLOR = "#FFFFFF"
# Hatching makes the two alarming statuses readable without hue; denser means worse.
HATCHES: dict[str | None, str] = {"Kritis": "xxx", "Waspada": "///", "Siap": "", None: ""}
HATCH_COLOR = (0.0, 0.0, 0.0, 0.28)
NO_DATA_SYMBOL = "?"
SCALE = 2  # PNG pixels per CSS pixel
PAD_PX = 8
TITLE_LINE_PX = 22
TITLE_CHARS = 38  # a bold title line at 12.5 pt fits 544 px
LEGEND_COLS = 3
LEGEND_ROW_PX = 22
CREDIT_PX = 14
# A 64-colour palette keeps the flat fills exact enough (within a few units) and the PNG a
# third of its full-colour size: about 65 KB instead of 200 KB at twice the pixels.
PNG_COLORS = 64
MARGIN_DEG = 0.06
# Kaltim's extent, used when no geometry could be read so the frame still has a shape.
FALLBACK_EXTENT = (113.84, 119.04, -2.41, 2.57)
# An area below this (square degrees, about 1,200 km²) cannot hold its name: the label goes
# offshore to the east with a leader line (Kaltim's three cities all lie on its east coast).
SMALL_AREA_DEG2 = 0.1
OFFSHORE_GAP_DEG = 0.14
INCIDENT_SIZE = {"tinggi": 8.5, "sedang": 6.5, "rendah": 5.5}  # marker size in points
INCIDENTS_LISTED = 10  # the alt text names at most this many incidents
# Incidents placed by `incident_points` (Kaltim's map has ~100 px per degree at 1×): about
# 20 px under the label, 17 px apart, wider than the largest dot (8.5 pt is 16.5 px at 1×).
INCIDENT_BELOW_DEG = 0.2
INCIDENT_STEP_DEG = 0.17
INCIDENTS_PER_ROW = 5

class Incident(NamedTuple):
    """An incident located at a desa or kecamatan: the caller passes that place's centroid."""

    lon: float
    lat: float
    label: str  # e.g. "INS-0012 Sangasanga"; untrusted text, only drawn into the alt text
    severity: str | None = None  # contract enum `tingkat`: rendah / sedang / tinggi


@dataclass(frozen=True, eq=False)  # hashed by identity: cached per loaded feature
class _Feature:
    code: str
    name: str
    polygons: tuple[tuple[np.ndarray, ...], ...]  # per part: outer ring, then holes (lon, lat)


@dataclass(frozen=True)
class Frame:
    """Where the map sits in the picture, so a lon/lat can be turned into a pixel."""

    extent: tuple[float, float, float, float]  # lon0, lon1, lat0, lat1 shown
    top_px: int  # title band above the map (CSS px)
    map_px: float  # height of the map itself; the legend and credit bands follow
    px_per_deg_lon: float
    px_per_deg_lat: float  # larger by 1/cos(latitude): the cos(lat) correction
    height: int  # of the whole picture (CSS px)

    def pixel(self, lon: float, lat: float, scale: int = SCALE) -> tuple[int, int]:
        """(column, row) of a lon/lat in a PNG drawn at `scale`, row 0 at the top."""
        lon0, _, _, lat1 = self.extent
        x = PAD_PX + (lon - lon0) * self.px_per_deg_lon
        y = self.top_px + (lat1 - lat) * self.px_per_deg_lat
        return int(x * scale), int(y * scale)


# --------------------------------------------------------------------------------------------
# Geometry


def _ring(coords: Any, outer: bool) -> np.ndarray | None:
    """A closed ring as an (n, 2) array, outer rings counter-clockwise and holes clockwise, so
    holes stay empty whatever the winding the file used; None when it is not a usable ring."""
    try:
        ring = np.asarray(coords, dtype=float)
    except (TypeError, ValueError):
        return None
    if ring.ndim != 2 or ring.shape[0] < 3 or ring.shape[1] < 2:
        return None
    ring = ring[:, :2]
    if not np.isfinite(ring).all():
        return None
    if (_signed_area(ring) > 0) != outer:
        ring = ring[::-1]
    return ring


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def _polygons(geometry: Any) -> tuple[tuple[np.ndarray, ...], ...]:
    """Polygon and MultiPolygon (islands) as parts of rings; anything unusable is dropped."""
    if not isinstance(geometry, dict):
        return ()
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    parts = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    out = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, list) or not part:
            continue
        outer = _ring(part[0], outer=True)
        if outer is None:
            continue
        holes = (_ring(h, outer=False) for h in part[1:])
        out.append((outer, *(h for h in holes if h is not None)))
    return tuple(out)


@cache
def load_boundaries(path: Path = BOUNDARIES) -> dict[str, _Feature]:
    """kab/kota code -> outline, read once per path. A missing or unreadable file, or a feature
    without a usable geometry, is logged and left out: the map draws what remains."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        features = doc["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("batas wilayah tidak terbaca (%s): %s", path, exc)
        return {}
    out: dict[str, _Feature] = {}
    for f in features if isinstance(features, list) else []:
        props = f.get("properties") if isinstance(f, dict) else None
        code = str(props.get("kabkota_code", "")) if isinstance(props, dict) else ""
        polygons = _polygons(f.get("geometry")) if code else ()
        if polygons:
            out[code] = _Feature(code, str(props.get("nama") or code), polygons)
        else:
            log.warning("batas wilayah %s: geometri tidak dapat dipakai", code or "?")
    return out


def _path(feature: _Feature) -> MplPath:
    """All parts and holes of one kab/kota as one compound path (one patch, one hatch)."""
    return MplPath.make_compound_path(
        *(MplPath(ring, closed=True) for rings in feature.polygons for ring in rings)
    )


def _area(rings: tuple[np.ndarray, ...]) -> float:
    return abs(_signed_area(rings[0])) - sum(abs(_signed_area(h)) for h in rings[1:])


def _edge_distance(points: np.ndarray, rings: tuple[np.ndarray, ...]) -> np.ndarray:
    """Distance of each point to the nearest edge of any ring (degrees, planar)."""
    a = np.concatenate(rings)
    b = np.concatenate([np.roll(r, -1, axis=0) for r in rings])
    ab = b - a
    ap = points[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-18), 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.sqrt(((points[:, None, :] - nearest) ** 2).sum(-1)).min(axis=1)


def _interior_point(rings: tuple[np.ndarray, ...]) -> tuple[float, float]:
    """A point well inside a polygon (an approximate pole of inaccessibility): a grid over the
    polygon, refined three times around the point farthest from every edge."""
    path = MplPath.make_compound_path(*(MplPath(r, closed=True) for r in rings))
    (x0, y0), (x1, y1) = rings[0].min(axis=0), rings[0].max(axis=0)
    best, best_d = rings[0].mean(axis=0), -1.0
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    for _ in range(4):
        xs, ys = np.meshgrid(np.linspace(cx - w / 2, cx + w / 2, 25),
                             np.linspace(cy - h / 2, cy + h / 2, 25))
        grid = np.column_stack([xs.ravel(), ys.ravel()])
        inside = grid[path.contains_points(grid)]
        if len(inside):
            d = _edge_distance(inside, rings)
            i = int(d.argmax())
            if d[i] > best_d:
                best, best_d = inside[i], float(d[i])
        cx, cy, w, h = best[0], best[1], w / 4, h / 4
    return float(best[0]), float(best[1])


def kabkota_point(code: str, path: Path = BOUNDARIES) -> tuple[float, float] | None:
    """(lon, lat) well inside a kab/kota's largest part, where its label goes, or None when it
    has no geometry. For an incident known only by its kab/kota. The file's `label_lat` and
    `label_lng` are not used: Mahakam Ulu's lies just outside its border."""
    feature = load_boundaries(path).get(code)
    return _label_point(feature) if feature else None


@cache
def _label_point(feature: _Feature) -> tuple[float, float]:
    return _interior_point(max(feature.polygons, key=_area))


def incident_points(code: str, n: int, path: Path = BOUNDARIES) -> list[tuple[float, float]]:
    """`n` (lon, lat) for incidents known only by their kab/kota: rows of dots just under its
    label, so the dots cover neither the label nor each other. A kab/kota too small to hold its
    label (drawn offshore) gets them on its own point. [] when it has no geometry."""
    feature = load_boundaries(path).get(code)
    if feature is None or n <= 0:
        return []
    lon, lat = _label_point(feature)
    small = sum(_area(p) for p in feature.polygons) < SMALL_AREA_DEG2
    below = 0.0 if small else INCIDENT_BELOW_DEG
    points = []
    for j in range(n):
        row, col = divmod(j, INCIDENTS_PER_ROW)
        in_row = min(INCIDENTS_PER_ROW, n - row * INCIDENTS_PER_ROW)
        points.append((lon + (col - (in_row - 1) / 2) * INCIDENT_STEP_DEG,
                       lat - below - row * INCIDENT_STEP_DEG))
    return points


# --------------------------------------------------------------------------------------------
# Words


@cache
def _reference_names() -> dict[str, tuple[str, str]]:
    """code -> (name, short name) from reference/kaltim/kabkota.csv; empty if it is missing."""
    try:
        with open(KABKOTA_CSV, encoding="utf-8", newline="") as fh:
            return {r["kabkota_code"]: (r["kabkota_name"], r["short_name"])
                    for r in csv.DictReader(fh)}
    except (OSError, KeyError) as exc:
        log.warning("nama kab/kota tidak terbaca (%s): %s", KABKOTA_CSV, exc)
        return {}


def _alt_name(name: str) -> str:
    """"Kabupaten Kutai Barat" -> "Kutai Barat"; cities keep "Kota" (Kota Samarinda)."""
    return name.removeprefix("Kabupaten ")


def headline(statuses: Mapping[str, str | None], lang: str = "id",
             fase: str = "persiapan") -> str:
    """The finding in one line, worst first: "2 kab/kota Kritis, 1 Waspada"."""
    m = i18n.labels(i18n.MAP_STRINGS, lang)
    words = i18n.status_words(lang, fase)
    counts = {s: sum(1 for v in statuses.values() if v == s) for s in (*STATUSES, None)}
    alarms = [(counts[s], words[s]) for s in ("Kritis", "Waspada") if counts[s]]
    if alarms:
        n, word = alarms[0]
        first = m["head_one" if n == 1 else "head_many"].format(n=n, status=word)
        return ", ".join([first, *(f"{n} {word}" for n, word in alarms[1:])])
    if counts[None] == 0:
        return m["head_all"].format(n=counts["Siap"], status=words["Siap"])
    siap = m["head_one" if counts["Siap"] == 1 else "head_many"].format(
        n=counts["Siap"], status=words["Siap"])
    return f"{siap}, {m['head_no_data'].format(n=counts[None])}"


def _severity(code: str, lang: str) -> str:
    return i18n.enum_label("tingkat", code, lang).lower()


def _alt(
    title: str,
    statuses: Mapping[str, str | None],
    names: Mapping[str, str],
    missing: Sequence[str],
    drawn_incidents: Sequence[Incident],
    off_map: int,
    lang: str,
    fase: str = "persiapan",
) -> str:
    m = i18n.labels(i18n.MAP_STRINGS, lang)
    words = {**i18n.status_words(lang, fase), None: m["no_data"]}
    groups = []
    for status in (*STATUSES, None):
        members = sorted(names[c] for c, s in statuses.items() if s == status)
        if members:
            groups.append(f"{words[status]}: {', '.join(members)}")
    parts = [f"{m['alt_intro']}, {title}. {'; '.join(groups)}."]
    if drawn_incidents:
        listed = [
            i.label + (f" ({m['severity'].format(s=_severity(i.severity, lang))})"
                       if i.severity else "")
            for i in drawn_incidents[:INCIDENTS_LISTED]
        ]
        if len(drawn_incidents) > INCIDENTS_LISTED:
            listed.append(m["incidents_more"].format(n=len(drawn_incidents) - INCIDENTS_LISTED))
        parts.append(f"{m['incidents_alt'].format(n=len(drawn_incidents))}: {'; '.join(listed)}.")
    if off_map:
        parts.append(m["incidents_off"].format(n=off_map) + ".")
    if missing:
        parts.append(f"{m['not_drawn']}: {', '.join(sorted(names[c] for c in missing))}.")
    return " ".join(parts)


# --------------------------------------------------------------------------------------------
# Drawing


def _extent(codes: Sequence[str], path: Path) -> tuple[float, float, float, float]:
    """lon0, lon1, lat0, lat1 around the drawn kab/kota, with a small margin."""
    features = [f for c in codes if (f := load_boundaries(path).get(c))]
    if features:
        rings = np.concatenate([p[0] for f in features for p in f.polygons])
        (lon0, lat0), (lon1, lat1) = rings.min(axis=0), rings.max(axis=0)
    else:
        lon0, lon1, lat0, lat1 = FALLBACK_EXTENT
    return (float(lon0) - MARGIN_DEG, float(lon1) + MARGIN_DEG,
            float(lat0) - MARGIN_DEG, float(lat1) + MARGIN_DEG)


def map_frame(
    statuses: Mapping[str, str | None],
    incidents: Sequence[Incident] = (),
    *,
    title: str,
    boundaries: Path = BOUNDARIES,
) -> Frame:
    """The picture's layout for the same arguments `status_map` gets (title already chosen):
    the title band, the map scaled to the kab/kota drawn, then the legend and credit bands."""
    extent = _extent(list(statuses), boundaries)
    lon0, lon1, lat0, lat1 = extent
    px_lon = (WIDTH_PX - 2 * PAD_PX) / (lon1 - lon0)
    px_lat = px_lon / math.cos(math.radians((lat0 + lat1) / 2))
    entries = (len(STATUSES) + (None in statuses.values())
               + any(_on_map(i, extent) for i in incidents))
    legend = LEGEND_ROW_PX * math.ceil(entries / LEGEND_COLS) + 6
    top = PAD_PX + TITLE_LINE_PX * len(_title_lines(title)) + 4
    map_px = (lat1 - lat0) * px_lat
    height = math.ceil(top + map_px + legend + CREDIT_PX + PAD_PX)
    return Frame(extent, top, map_px, px_lon, px_lat, height)


def _title_lines(title: str) -> list[str]:
    return textwrap.wrap(title, TITLE_CHARS) or [""]


def _offshore_x(lon: float, lat: float, features: Sequence[_Feature]) -> float:
    """Longitude just east of every coastline near this latitude: open sea for a label."""
    rings = np.concatenate([p[0] for f in features for p in f.polygons])
    near = rings[np.abs(rings[:, 1] - lat) < 0.2]
    return float(near[:, 0].max(initial=lon)) + OFFSHORE_GAP_DEG


def _draw_labels(
    ax: Any, drawn: Sequence[_Feature], statuses: Mapping[str, str | None],
    short: Mapping[str, str],
) -> None:
    for f in drawn:
        status = statuses[f.code]
        symbol = i18n.STATUS_SYMBOLS.get(status or "", NO_DATA_SYMBOL)
        text = f"{symbol} {short[f.code]}"
        lon, lat = _label_point(f)
        fill, ink = STATUS_COLORS[status] if status else (NO_DATA_COLOR, INK)
        if sum(_area(p) for p in f.polygons) < SMALL_AREA_DEG2:
            x = _offshore_x(lon, lat, drawn)
            ax.annotate(
                text, (lon, lat), xytext=(x, lat), ha="left", va="center", fontsize=9.5,
                fontweight="bold", color=INK, parse_math=False, zorder=5,
                arrowprops={"arrowstyle": "-", "color": MUTED, "lw": 0.8,
                            "shrinkA": 2, "shrinkB": 0},
            )
        else:
            ax.text(
                lon, lat, text, ha="center", va="center", fontsize=9.5, fontweight="bold",
                color=ink, parse_math=False, zorder=5,
                path_effects=[patheffects.withStroke(linewidth=3, foreground=fill)],
            )


def _legend(fig: Figure, frame: Frame, statuses: Mapping[str, str | None], n_incidents: int,
            lang: str, fase: str = "persiapan") -> None:
    """Word, symbol, colour and hatch of every status (and the incident dot) under the map,
    where it can never cover a kab/kota."""
    m = i18n.labels(i18n.MAP_STRINGS, lang)
    words = i18n.status_words(lang, fase)
    handles: list[Any] = []
    for status in (*STATUSES, None):
        n = sum(1 for v in statuses.values() if v == status)
        if status is None and not n:
            continue
        word = words[status] if status else m["no_data"]
        symbol = i18n.STATUS_SYMBOLS[status] if status else NO_DATA_SYMBOL
        handles.append(Patch(
            facecolor=STATUS_COLORS[status][0] if status else NO_DATA_COLOR,
            hatch=HATCHES[status], hatchcolor=HATCH_COLOR, edgecolor="none",
            label=f"{symbol} {word} ({n})",
        ))
    if n_incidents:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7,
                              markerfacecolor=INK, markeredgecolor="white",
                              label=f"{m['incidents']} ({n_incidents})"))
    top = 1 - (frame.top_px + frame.map_px + 4) / frame.height
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(PAD_PX / WIDTH_PX, top),
               ncols=LEGEND_COLS, frameon=False, fontsize=9, handlelength=1.4,
               handleheight=1.0, handletextpad=0.5, borderaxespad=0, borderpad=0,
               labelspacing=0.5, columnspacing=1.0)


def _on_map(i: Incident, extent: tuple[float, float, float, float]) -> bool:
    lon0, lon1, lat0, lat1 = extent
    try:
        return lon0 <= float(i.lon) <= lon1 and lat0 <= float(i.lat) <= lat1
    except (TypeError, ValueError):
        return False


def status_map(
    statuses: Mapping[str, str | None],
    incidents: Sequence[Incident] = (),
    *,
    lang: str = "id",
    fase: str = "persiapan",
    title: str | None = None,
    names: Mapping[str, str] | None = None,
    short_names: Mapping[str, str] | None = None,
    cid: str = "peta-status@siaga-pilkada",
    scale: int = SCALE,
    boundaries: Path = BOUNDARIES,
) -> Chart:
    """The status map as a `Chart` (PNG at `scale` × 560 CSS px wide, plus its alt text).

    `statuses` maps each kab/kota code to map (and only those are drawn) to "Siap", "Waspada",
    "Kritis", or None for no report. `incidents` are points the caller located (desa/kecamatan
    centroid, or `kabkota_point` for one known only by its kab/kota). `title` defaults to the
    finding (`headline`). `fase` names the statuses of the campaign's phase (after the vote
    level 0 reads "Kondusif"). `names` (for the alt text) and `short_names` (for the labels) default
    to reference/kaltim/kabkota.csv, then the boundary file, then the code.
    """
    i18n.check_lang(lang)
    unknown = {s for s in statuses.values() if s is not None and s not in STATUSES}
    if unknown:
        raise ValueError(f"status tidak dikenal: {sorted(unknown)}; pilih dari {STATUSES}")
    features = load_boundaries(boundaries)
    ref = _reference_names()
    codes = list(statuses)
    names = {c: _alt_name((names or {}).get(c) or ref.get(c, ("",))[0]
                          or (features[c].name if c in features else c)) for c in codes}
    short = {c: (short_names or {}).get(c) or ref.get(c, ("", ""))[1] or names[c] for c in codes}
    title = title or headline(statuses, lang, fase)
    drawn = [features[c] for c in codes if c in features]
    missing = [c for c in codes if c not in features]
    frame = map_frame(statuses, incidents, title=title, boundaries=boundaries)
    located = [i for i in incidents if _on_map(i, frame.extent)]
    with _DRAW_LOCK, matplotlib.rc_context({**RC, "hatch.linewidth": 0.9}):
        png = _draw(frame, title, drawn, statuses, short, located, lang, scale, fase)
    alt = _alt(title, statuses, names, missing, located, len(incidents) - len(located), lang,
               fase)
    return Chart(cid=cid, png=png, width=WIDTH_PX, height=frame.height, alt=alt, title=title)


def _draw(
    frame: Frame, title: str, drawn: Sequence[_Feature], statuses: Mapping[str, str | None],
    short: Mapping[str, str], incidents: Sequence[Incident], lang: str, scale: int,
    fase: str = "persiapan",
) -> bytes:
    m = i18n.labels(i18n.MAP_STRINGS, lang)
    h = frame.height
    fig = Figure(figsize=(WIDTH_PX / DPI, h / DPI), dpi=DPI)
    fig.text(PAD_PX / WIDTH_PX, 1 - PAD_PX / h, "\n".join(_title_lines(title)), ha="left",
             va="top", fontsize=12.5, fontweight="bold", color=INK, parse_math=False,
             linespacing=1.25)
    lon0, lon1, lat0, lat1 = frame.extent
    ax = fig.add_axes((PAD_PX / WIDTH_PX, 1 - (frame.top_px + frame.map_px) / h,
                       (lon1 - lon0) * frame.px_per_deg_lon / WIDTH_PX, frame.map_px / h))
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_axis_off()
    # One collection per status (a collection has one hatch), added without recomputing the
    # data limits, which are fixed: add_patch would walk every vertex again.
    for status in (*STATUSES, None):
        paths = [PathPatch(_path(f)) for f in drawn if statuses[f.code] == status]
        if paths:
            ax.add_collection(PatchCollection(
                paths, facecolor=STATUS_COLORS[status][0] if status else NO_DATA_COLOR,
                edgecolor=BORDER_COLOR, linewidth=0.9, hatch=HATCHES[status] or None,
                hatchcolor=HATCH_COLOR, zorder=1,
            ), autolim=False)
    if not drawn:
        ax.text(0.5, 0.5, m["no_map"], transform=ax.transAxes, ha="center", va="center",
                fontsize=10, color=MUTED)
    for i in incidents:
        ax.plot(float(i.lon), float(i.lat), marker="o", linestyle="none",
                markersize=INCIDENT_SIZE.get(i.severity or "", 6.5), markerfacecolor=INK,
                markeredgecolor="white", markeredgewidth=1.2, zorder=4)
    _draw_labels(ax, drawn, statuses, short)
    _legend(fig, frame, statuses, len(incidents), lang, fase)
    if drawn:  # the boundaries' licence asks for the notice wherever they are used
        fig.text(1 - PAD_PX / WIDTH_PX, PAD_PX / h, m["credit"], ha="right", va="bottom",
                 fontsize=6.5, color=MUTED, parse_math=False)
    return png_bytes(fig, scale, PNG_COLORS)

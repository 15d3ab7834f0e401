"""Small PNG charts for the bulletin email and its PDF (matplotlib, no pyplot, Agg).

Mail clients block SVG and data URIs, so charts travel as PNG parts referenced by Content-ID.
They are laid out 560 CSS px wide with fonts sized for a phone, which shows them at ~340 CSS px,
and drawn at twice the pixels (`scale=2`) for email and print alike: a phone's screen has two or
three device pixels per CSS px, and 560 px printed 115 mm wide is only ~120 dpi, so a 1× image
looks soft on both. The pixels are quantized to a small palette (flat fills, a few text greys),
which keeps a 2× chart about the size a full-colour 1× one was.

Each chart leads with a headline that states the finding ("Logistik: 3 dari 10 kab/kota di bawah
target PPS H-3"), so a reader who looks at nothing else still gets it; the caller writes the
headline (the words live in reports/i18n.py) and it opens the alt text, which lists every number
behind the bars, so nothing is lost when images are blocked. Value labels sit in a column right
of the bars, where they can be read without an axis. The `Figure` API is used directly so
rendering keeps no global pyplot state between runs.
"""

from __future__ import annotations

import io
import textwrap
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter
from PIL import Image

from reports.theme import INK, MUTED, RULE, STAGE_COLORS, TPS_CLASS_COLORS

matplotlib.use("Agg")

DPI = 140
WIDTH_PX = 560
ROW_PX = 30  # one kab/kota row, bars plus spacing
FRAME_PX = 96  # axis labels and the legend below the bars
TITLE_LINE_PX = 21  # one line of the bold headline
TITLE_CHARS = 42  # a bold headline line at 11.5 pt fits 544 px
SCALE = 2  # PNG pixels per CSS px
# Flat fills plus the greys of antialiased text: 96 colours keep edges clean, and the PNG at 2×
# near the size of the full-colour 1× picture.
PNG_COLORS = 96
# zlib's default level: Pillow's `optimize` (level 9) made Kaltim's three charts 9 % smaller
# (139 KB against 153 KB) at eight times the encoding time (0.21 s against 0.02 s), on the path
# of every bulletin and annex.
PNG_LEVEL = 6
RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 10.5,
    "text.color": INK,
    "axes.edgecolor": MUTED,
    "xtick.color": MUTED,
    "ytick.color": INK,
}
# Nested bars: each later stage is drawn thinner on top of the earlier one, so all four stay
# visible even when a stage reports more than the one before it.
STAGE_BAR_HEIGHT = {"kabkota": 0.84, "ppk": 0.62, "pps": 0.4, "tps": 0.18}
TPS_BAR_HEIGHT = 0.62
LABEL_X = 1.03  # value labels start just right of 100 %, in axes fraction
BELOW = "▼"  # the mark the annex uses for "below target"

Fmt = Callable[[Any], str]
# matplotlib is not thread-safe and rc_context changes process-wide settings; Prefect may run
# tasks in threads, so charts are drawn one at a time.
_DRAW_LOCK = threading.Lock()


@dataclass(frozen=True)
class Chart:
    """A rendered chart plus what the HTML needs to show it accessibly."""

    cid: str
    png: bytes
    width: int  # CSS px to show it at; the PNG has `scale` times as many pixels
    height: int
    alt: str
    title: str = ""  # the headline drawn on top, for a template that wants it as text too


def png_bytes(fig: Figure, scale: int, colors: int = PNG_COLORS) -> bytes:
    """The figure as a palette PNG at `scale` × its CSS size (shared with reports.map)."""
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(DPI * scale)
    canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    buf = io.BytesIO()
    image.quantize(colors, method=Image.Quantize.MEDIANCUT,
                   dither=Image.Dither.NONE).save(buf, format="PNG", compress_level=PNG_LEVEL)
    return buf.getvalue()


def _title_lines(title: str) -> list[str]:
    return textwrap.wrap(title, TITLE_CHARS) or [""]


def _figure(n_rows: int, title: str) -> tuple[Figure, Any, int]:
    lines = _title_lines(title)
    height = FRAME_PX + TITLE_LINE_PX * len(lines) + ROW_PX * max(n_rows, 1)
    fig = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI, layout="constrained",
                 facecolor="white")
    fig.suptitle("\n".join(lines), x=8 / WIDTH_PX, ha="left", fontsize=11.5,
                 fontweight="bold", color=INK, parse_math=False, linespacing=1.2)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color=RULE, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    return fig, ax, height


def _finish(fig: Figure, ax: Any, names: Sequence[str], ncols: int, scale: int,
            handles: Sequence[Any] = ()) -> bytes:
    ax.set_yticks(range(len(names)), labels=list(names), parse_math=False)
    ax.set_ylim(len(names) - 0.5, -0.5)  # first kab/kota on top, as in the tables
    ax.tick_params(axis="y", length=0)
    bars, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles=[*bars, *handles],
        labels=[*labels, *(h.get_label() for h in handles)],
        loc="outside lower center",
        ncols=ncols,
        frameon=False,
        fontsize=9.5,
        handlelength=1.2,
        columnspacing=1.0,
    )
    return png_bytes(fig, scale)


def _value_label(ax: Any, row: int, text: str, bold: bool = False) -> None:
    """A value in the column right of the bars (axes x, data y): always the same place."""
    ax.text(LABEL_X, row, text, transform=ax.get_yaxis_transform(), va="center", ha="left",
            fontsize=9.5, color=INK, fontweight="bold" if bold else "normal",
            parse_math=False, clip_on=False)


def _column_head(ax: Any, text: str) -> None:
    ax.text(LABEL_X, -0.6, text, transform=ax.get_yaxis_transform(), va="bottom", ha="left",
            fontsize=8.5, color=MUTED, parse_math=False, clip_on=False)


def _no_data(ax: Any, row: int, text: str) -> None:
    ax.text(0.01, row, text, va="center", fontsize=9, color=MUTED, parse_math=False)


def below(got: float | None, want: float) -> bool:
    """Compared after rounding to 9 decimals, as the status rules do (docs/metrics.md)."""
    return got is not None and round(got, 9) < round(want, 9)


def logistics_gap(row: dict, targets: Mapping[str, float]) -> tuple[str, float | None] | None:
    """The stage to show for one kab/kota and its share: the stage furthest below its target
    (the gap the status rules judge), else the last stage with a target; None when no stage
    has a target yet (early in the season) or the stage list is empty."""
    if not targets:
        return None
    stage, gap = list(targets)[-1], 0.0
    for s, want in targets.items():  # in stage order: the earliest wins a tie, as in the mart
        got = row[f"pct_{s}"]
        if below(got, want) and round(want - got, 9) > round(gap, 9):
            stage, gap = s, want - got
    return stage, row[f"pct_{stage}"]


def _target_tick(ax: Any, x: float, row: int, stage: str) -> None:
    """A short dark bar across one stage's bar at its target, outlined in white so it shows
    on the darkest stage colour too."""
    half = STAGE_BAR_HEIGHT[stage] / 2 + 0.06
    ax.plot([x, x], [row - half, row + half], color=INK, linewidth=2.2, solid_capstyle="butt",
            zorder=4, clip_on=False,
            path_effects=[patheffects.withStroke(linewidth=3.6, foreground="white")])


def logistics_by_kabkota(
    rows: Sequence[dict],
    stage_labels: dict[str, str],
    targets: Mapping[str, float],
    pct: Fmt,
    cid: str,
    title: str,
    alt_title: str,
    target_label: str,
    no_data: str,
    scale: int = SCALE,
) -> Chart:
    """Nested horizontal bars: share of supplies at each stage, one row per kab/kota, with a
    tick at each stage's target for this H (stages whose target is still 0 get none) and, right
    of the bars, the share of the stage furthest behind (▼ when below its target).

    `targets` maps stage -> expected share (`Logistik.stage_targets`,
    tasks/publish/bulletin_data.py).
    """
    targets = {s: v for s, v in targets.items() if s in stage_labels and v}
    with _DRAW_LOCK, matplotlib.rc_context(RC):
        fig, ax, height = _figure(len(rows), title)
        for stage, label in stage_labels.items():
            values = [min(r[f"pct_{stage}"] or 0.0, 1.0) for r in rows]
            ax.barh(range(len(rows)), values, height=STAGE_BAR_HEIGHT[stage],
                    color=STAGE_COLORS[stage], label=label)
        for i, r in enumerate(rows):
            if all(r[f"pct_{s}"] is None for s in stage_labels):
                _no_data(ax, i, no_data)
                continue
            for stage, want in targets.items():
                _target_tick(ax, want, i, stage)
            shown = logistics_gap(r, targets)
            if shown:
                stage, got = shown
                short = below(got, targets[stage])
                _value_label(ax, i, f"{stage_labels[stage]} {pct(got)}"
                             + (f" {BELOW}" if short else ""), bold=short)
        handles = [Line2D([], [], color=INK, linewidth=2.2, label=target_label)] if targets else []
        png = _finish(fig, ax, [r["short_name"] for r in rows], scale=scale,
                      ncols=len(stage_labels) + len(handles), handles=handles)
    parts = [
        f"{r['short_name']} " + " / ".join(pct(r[f"pct_{s}"]) for s in stage_labels) for r in rows
    ]
    goals = ""
    if targets:
        goals = f" ({target_label}: " + ", ".join(
            f"{stage_labels[s]} {pct(v)}" for s, v in targets.items()) + ")"
    alt = f"{title}. {alt_title}{goals}: " + "; ".join(parts) + "."
    return Chart(cid=cid, png=png, width=WIDTH_PX, height=height, alt=alt, title=title)


def tps_class_counts(row: dict) -> dict[str, int] | None:
    """TPS per police class for one kab/kota; None when the security report is missing."""
    total, rawan, sangat = row["jumlah_tps"], row["tps_rawan"], row["tps_sangat_rawan"]
    if total is None or rawan is None or sangat is None:
        return None
    return {"kurang_rawan": max(total - rawan - sangat, 0), "rawan": rawan, "sangat_rawan": sangat}


def tps_classes_by_kabkota(
    rows: Sequence[dict],
    class_labels: dict[str, str],
    num: Fmt,
    cid: str,
    title: str,
    alt_title: str,
    no_data: str,
    scale: int = SCALE,
) -> Chart:
    """100 % stacked bars of TPS by police risk class, one row per kab/kota, with the number of
    "sangat rawan" TPS (the class that needs personnel first) right of each bar."""
    counts = [tps_class_counts(r) for r in rows]
    with _DRAW_LOCK, matplotlib.rc_context(RC):
        fig, ax, height = _figure(len(rows), title)
        left = [0.0] * len(rows)
        for cls, label in class_labels.items():
            shares = [(c[cls] / sum(c.values()) if c and sum(c.values()) else 0.0) for c in counts]
            ax.barh(range(len(rows)), shares, left=left, height=TPS_BAR_HEIGHT,
                    color=TPS_CLASS_COLORS[cls], label=label)
            left = [a + b for a, b in zip(left, shares, strict=True)]
        _column_head(ax, class_labels["sangat_rawan"])
        for i, c in enumerate(counts):
            if c:
                _value_label(ax, i, num(c["sangat_rawan"]))
            else:
                _no_data(ax, i, no_data)
        png = _finish(fig, ax, [r["short_name"] for r in rows], ncols=3, scale=scale)
    parts = [
        f"{r['short_name']} " + (" / ".join(num(c[k]) for k in class_labels) if c else no_data)
        for r, c in zip(rows, counts, strict=True)
    ]
    alt = (f"{title}. {alt_title} ({' / '.join(class_labels.values())}): "
           + "; ".join(parts) + ".")
    return Chart(cid=cid, png=png, width=WIDTH_PX, height=height, alt=alt, title=title)

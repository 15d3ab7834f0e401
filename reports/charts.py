"""Small PNG charts for the bulletin email (matplotlib, no pyplot, Agg).

Mail clients block SVG and data URIs, so charts travel as PNG parts referenced by Content-ID.
They are drawn 560 px wide with fonts sized for a phone, which shows them at ~340 CSS px; the
numbers behind every chart are also in its alt text and in the tables next to it, so nothing is
lost when images are blocked. The PDF asks for `scale=2`: the same picture at twice the pixels,
because 560 px printed 115 mm wide is only ~120 dpi and looks soft on paper. The `Figure` API
is used directly so rendering keeps no global pyplot state between runs.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from reports.theme import INK, MUTED, RULE, STAGE_COLORS, TPS_CLASS_COLORS

matplotlib.use("Agg")

DPI = 140
WIDTH_PX = 560
ROW_PX = 30  # one kab/kota row, bars plus spacing
FRAME_PX = 96  # legend above, axis labels below
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


def _figure(n_rows: int) -> tuple[Figure, Any, int]:
    height = FRAME_PX + ROW_PX * max(n_rows, 1)
    fig = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color=RULE, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    return fig, ax, height


def _finish(fig: Figure, ax: Any, names: Sequence[str], ncols: int, scale: int) -> bytes:
    ax.set_yticks(range(len(names)), labels=list(names), parse_math=False)
    ax.set_ylim(len(names) - 0.5, -0.5)  # first kab/kota on top, as in the tables
    ax.tick_params(axis="y", length=0)
    fig.legend(
        loc="outside upper center",
        ncols=ncols,
        frameon=False,
        fontsize=10,
        handlelength=1.2,
        columnspacing=1.0,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI * scale, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def _no_data(ax: Any, row: int, text: str) -> None:
    ax.text(0.01, row, text, va="center", fontsize=9, color=MUTED, parse_math=False)


def logistics_by_kabkota(
    rows: Sequence[dict],
    stage_labels: dict[str, str],
    pct: Fmt,
    cid: str,
    alt_title: str,
    no_data: str,
    scale: int = 1,
) -> Chart:
    """Nested horizontal bars: share of supplies at each stage, one row per kab/kota."""
    with _DRAW_LOCK, matplotlib.rc_context(RC):
        fig, ax, height = _figure(len(rows))
        for stage, label in stage_labels.items():
            values = [r[f"pct_{stage}"] or 0.0 for r in rows]
            ax.barh(
                range(len(rows)),
                values,
                height=STAGE_BAR_HEIGHT[stage],
                color=STAGE_COLORS[stage],
                label=label,
            )
        for i, r in enumerate(rows):
            if all(r[f"pct_{s}"] is None for s in stage_labels):
                _no_data(ax, i, no_data)
        png = _finish(fig, ax, [r["short_name"] for r in rows], ncols=len(stage_labels),
                      scale=scale)
    parts = [
        f"{r['short_name']} " + " / ".join(pct(r[f"pct_{s}"]) for s in stage_labels) for r in rows
    ]
    alt = f"{alt_title}: " + "; ".join(parts) + "."
    return Chart(cid=cid, png=png, width=WIDTH_PX, height=height, alt=alt)


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
    alt_title: str,
    no_data: str,
    scale: int = 1,
) -> Chart:
    """100 % stacked bars of TPS by police risk class, one row per kab/kota."""
    counts = [tps_class_counts(r) for r in rows]
    with _DRAW_LOCK, matplotlib.rc_context(RC):
        fig, ax, height = _figure(len(rows))
        left = [0.0] * len(rows)
        for cls, label in class_labels.items():
            shares = [(c[cls] / sum(c.values()) if c and sum(c.values()) else 0.0) for c in counts]
            ax.barh(
                range(len(rows)),
                shares,
                left=left,
                height=0.62,
                color=TPS_CLASS_COLORS[cls],
                label=label,
            )
            left = [a + b for a, b in zip(left, shares, strict=True)]
        for i, c in enumerate(counts):
            if not c:
                _no_data(ax, i, no_data)
        png = _finish(fig, ax, [r["short_name"] for r in rows], ncols=3, scale=scale)
    parts = [
        f"{r['short_name']} " + (" / ".join(num(c[k]) for k in class_labels) if c else no_data)
        for r, c in zip(rows, counts, strict=True)
    ]
    alt = f"{alt_title} ({' / '.join(class_labels.values())}): " + "; ".join(parts) + "."
    return Chart(cid=cid, png=png, width=WIDTH_PX, height=height, alt=alt)

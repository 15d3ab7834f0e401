"""Colours shared by the HTML bulletin and its charts, so a status looks the same everywhere.

The palette is Okabe-Ito (safe for the common colour-vision deficiencies); status is never shown
by colour alone (every badge carries a word and a symbol), and each badge's text colour is chosen
for a contrast of at least 4.5:1 (WCAG AA), checked by `contrast_ratio` in the tests.
"""

from __future__ import annotations

# status -> (background, text colour). White on vermillion (#D55E00) is only 3.9:1, so Kritis
# uses near-black text; blue is dark enough for white text.
STATUS_COLORS: dict[str, tuple[str, str]] = {
    "Siap": ("#0072B2", "#FFFFFF"),
    "Waspada": ("#E69F00", "#111111"),
    "Kritis": ("#D55E00", "#111111"),
}

# Logistics stages, lightest (first stop) to darkest (last stop): a sequential ramp reads as
# "further along" without relying on hue.
STAGE_COLORS: dict[str, str] = {
    "kabkota": "#C6DBEF",
    "ppk": "#6BAED6",
    "pps": "#2171B5",
    "tps": "#08306B",
}

# TPS police risk classes: a purple ramp, light to dark as the risk grows (ColorBrewer Purples,
# ordered by lightness, so it reads without hue). Never the status hues: blue, orange and
# vermillion mean Siap, Waspada and Kritis only, and a police risk class is not a status.
TPS_CLASS_COLORS: dict[str, str] = {
    "kurang_rawan": "#DADAEB",
    "rawan": "#9E9AC8",
    "sangat_rawan": "#54278F",
}

INK = "#1B1F24"  # body text on white: 16:1
MUTED = "#59616B"  # secondary text on white: 6.3:1
RULE = "#DDE1E6"


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4


def luminance(hex_color: str) -> float:
    """Relative luminance as WCAG 2 defines it."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)

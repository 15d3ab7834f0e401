"""Honest numbers (issue 17): a share is truncated, never rounded up to 100 % or down to 0 %
unless it is exactly that, and is printed with one precision wherever it appears."""

from __future__ import annotations

import pytest

from reports.render import Formatter

ID, EN = Formatter("id"), Formatter("en")


@pytest.mark.parametrize(
    ("share", "id_text", "en_text"),
    [
        (0, "0,0%", "0.0%"),
        (0.0, "0,0%", "0.0%"),
        (0.0004, "<0,1%", "<0.1%"),  # something arrived: never "0%"
        (0.001, "0,1%", "0.1%"),
        (0.29, "29,0%", "29.0%"),  # stored as 0.28999…: float noise is not truncated away
        (0.485, "48,5%", "48.5%"),
        (0.9985, "99,8%", "99.8%"),  # the W47 Gudang case: never "100%"
        (0.99949, "99,9%", "99.9%"),
        (0.99999, "99,9%", "99.9%"),
        (1.0, "100,0%", "100.0%"),  # exact: the only way to read 100 %
        (1.0234, "102,3%", "102.3%"),  # a stage reporting more than required
        (None, "—", "—"),
    ],
)
def test_share_boundaries(share: float | None, id_text: str, en_text: str) -> None:
    assert ID.pct(share) == id_text
    assert EN.pct(share) == en_text


def test_thousands_follow_the_locale() -> None:
    assert ID.pct(12.3456) == "1.234,5%"
    assert EN.pct(12.3456) == "1,234.5%"
    assert ID.num(1447) == "1.447" and EN.num(1447) == "1,447"


@pytest.mark.parametrize(
    ("ratio", "digits", "id_text"),
    [(1.995, 2, "1,99"), (2.0, 2, "2,00"), (1.4, 2, "1,40"), (0.61, 2, "0,61"),
     (12.5, 1, "12,5"), (12.46, 1, "12,4"), (None, 2, "—")],
)
def test_ratios_are_truncated_like_the_reasons(ratio: float | None, digits: int,
                                               id_text: str) -> None:
    """1.995 Linmas per TPS fails the norm of 2: it reads "1,99", as the reason does."""
    assert ID.dec(ratio, digits) == id_text


def test_smaller_precision_keeps_the_rules() -> None:
    assert ID.pct(0.9985, 0) == "99%"
    assert ID.pct(0.004, 0) == "<1%"
    assert ID.pct(1.0, 0) == "100%"

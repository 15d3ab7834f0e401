"""The subject names what needs a decision (issue 17): days to voting, then the Kritis and
Waspada kab/kota by short name, worst first, within what a phone shows; after voting day it no
longer speaks of readiness."""

from __future__ import annotations

import pytest

from reports import i18n
from reports.render import SUBJECT_NAMES_CHARS, Formatter, _subject
from tests.render_context import make_ctx


def subject(ctx: dict) -> str:
    fmt = Formatter(ctx["lang"])
    return _subject(ctx, fmt, i18n.strings(fmt.lang))


def _with_statuses(statuses: dict[str, str], h: int = 3, lang: str = "id") -> dict:
    """The sample context with the given short name -> status, counts to match."""
    ctx = make_ctx(lang)
    ctx["h"] = h
    for k in ctx["kabkota"]:
        k["status"] = statuses.get(k["short_name"], "Siap")
    ctx["counts"] = {s: sum(k["status"] == s for k in ctx["kabkota"]) for s in i18n.STATUS_WORDS}
    return ctx


def test_names_the_kabkota_needing_action_worst_first() -> None:
    ctx = _with_statuses({"Kubar": "Kritis", "Mahulu": "Kritis", "Kutim": "Waspada"})
    assert subject(ctx) == (
        "[H-3] 2 Kritis: Mahulu, Kubar · 1 Waspada: Kutim — Buletin Kesiapan Pilkada Kaltim "
        "2024-W47")


def test_english() -> None:
    ctx = _with_statuses({"Mahulu": "Kritis", "Kutim": "Waspada"}, lang="en")
    assert subject(ctx) == (
        "[D-3] 1 Critical: Mahulu · 1 Watch: Kutim — Pilkada Readiness Bulletin Kaltim 2024-W47")


@pytest.mark.parametrize(("lang", "expected"), [
    ("id", "[H-3] Semua kab/kota Siap — Buletin Kesiapan Pilkada Kaltim 2024-W47"),
    ("en", "[D-3] All regencies/cities Ready — Pilkada Readiness Bulletin Kaltim 2024-W47"),
])
def test_all_ready(lang: str, expected: str) -> None:
    assert subject(_with_statuses({}, lang=lang)) == expected


def test_only_waspada() -> None:
    assert subject(_with_statuses({"PPU": "Waspada"})).startswith("[H-3] 1 Waspada: PPU — ")


def test_names_that_do_not_fit_are_counted_and_the_finding_leads() -> None:
    """Ten kab/kota needing action: the first ~60 characters carry the days to voting, the
    Kritis names and the counts; the names that do not fit become "+n"."""
    ctx = _with_statuses({k["short_name"]: "Waspada" for k in make_ctx()["kabkota"]}
                         | {"Samarinda": "Kritis", "Balikpapan": "Kritis"})
    text = subject(ctx)
    finding = text.split(" — ")[0]
    assert finding.startswith("[H-3] 2 Kritis: Balikpapan, Samarinda · 8 Waspada: ")
    assert len(finding) <= SUBJECT_NAMES_CHARS + len(" +8")
    shown = finding.split("8 Waspada: ")[1]
    names, more = shown.rsplit(" +", 1)
    assert len(names.split(", ")) + int(more) == 8


def test_counts_cover_kabkota_beyond_the_listed_ones() -> None:
    """`counts` covers the whole area; names come from the listed rows only."""
    ctx = _with_statuses({"Mahulu": "Kritis"})
    ctx["counts"]["Kritis"] = 3  # two more Kritis kab/kota not among the listed ones
    assert subject(ctx).startswith("[H-3] 3 Kritis: Mahulu +2 — ")


@pytest.mark.parametrize(("lang", "expected"), [
    ("id", "[H+4] 1 Kritis: Kukar — Buletin Pilkada Kaltim 2024-W47"),
    ("en", "[D+4] 1 Critical: Kukar — Pilkada Bulletin Kaltim 2024-W47"),
])
def test_after_voting_day_it_is_not_a_readiness_bulletin(lang: str, expected: str) -> None:
    assert subject(_with_statuses({"Kukar": "Kritis"}, h=-4, lang=lang)) == expected


@pytest.mark.parametrize(("lang", "expected"), [
    ("id", "[H+4] Tidak ada kab/kota Waspada atau Kritis — Buletin Pilkada Kaltim 2024-W47"),
    ("en", "[D+4] No regency/city on Watch or Critical — Pilkada Bulletin Kaltim 2024-W47"),
])
def test_quiet_week_after_voting_day(lang: str, expected: str) -> None:
    text = subject(_with_statuses({}, h=-4, lang=lang))
    assert text == expected
    assert "Kesiapan" not in text and "Readiness" not in text and "Siap" not in text


def test_voting_day() -> None:
    assert subject(_with_statuses({}, h=0)).startswith("[H] Semua kab/kota Siap — ")

"""Reporting weeks: ISO weeks, Monday–Sunday in WITA, labelled like `2024-W47`."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from tasks.config import VOTING_DAY, WITA

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(label: str) -> tuple[int, int]:
    m = WEEK_RE.match(label)
    if not m:
        raise ValueError(f"minggu '{label}' tidak dikenal; gunakan format 2024-W47")
    year, week = int(m[1]), int(m[2])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise ValueError(f"minggu '{label}' tidak ada: tahun {year} tidak punya minggu ke-{week}"
                         ) from exc
    return year, week


def week_start(label: str) -> date:
    year, week = parse_week(label)
    return date.fromisocalendar(year, week, 1)


def week_end(label: str) -> date:
    return week_start(label) + timedelta(days=6)


def week_of(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def check_calendar(calendar: tuple[str, str]) -> tuple[str, str]:
    """PILKADA_CALENDAR's first and last week, refused (ValueError naming the variable) unless
    both exist and the first comes first."""
    first, last = calendar
    try:
        if parse_week(last) < parse_week(first):
            raise ValueError("minggu akhir sebelum minggu awal")
    except ValueError as exc:
        raise ValueError(f"PILKADA_CALENDAR='{first}:{last}': {exc}") from None
    return calendar


def week_range(first: str, last: str) -> list[str]:
    """Every week label from `first` to `last` inclusive."""
    d, end = week_start(first), week_start(last)
    if end < d:
        raise ValueError(f"minggu akhir {last} sebelum minggu awal {first}")
    out = []
    while d <= end:
        out.append(week_of(d))
        d += timedelta(days=7)
    return out


def previous_week(label: str) -> str:
    return add_weeks(label, -1)


def h_minus(label: str) -> int:
    """Days from the week's last day (the bulletin's as-of date) to voting day: H-n has n > 0."""
    return (VOTING_DAY - week_end(label)).days


# When a week's reports are due unless configured (PILKADA_DEADLINE_WEEKDAY/_TIME): Saturday
# 12:00 WITA of that week (architecture §3), so the Monday bulletin has a day and a half of margin.
DEADLINE_WEEKDAY = 5  # 0 = Monday
DEADLINE_TIME = time(12, 0)


def deadline(label: str, weekday: int | None = None, at: time | None = None) -> datetime:
    """When a week's submissions are due, in WITA: Saturday 12:00 of that week unless
    PILKADA_DEADLINE_WEEKDAY / PILKADA_DEADLINE_TIME (`weekday`, `at`) say otherwise."""
    d = week_start(label) + timedelta(days=DEADLINE_WEEKDAY if weekday is None else weekday)
    return datetime.combine(d, DEADLINE_TIME if at is None else at, tzinfo=WITA)


def add_weeks(label: str, n: int) -> str:
    """The week `n` weeks after `label` (before it when `n` < 0)."""
    return week_of(week_start(label) + timedelta(days=7 * n))


def last_completed_week(now: datetime | None = None) -> str:
    """The week that has just ended, as seen in WITA: the default week of a Monday bulletin."""
    now = now or datetime.now(WITA)
    return week_of(now.astimezone(WITA).date() - timedelta(days=7))

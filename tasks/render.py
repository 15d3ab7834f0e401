"""Render the weekly readiness bulletin (DESIGN §6) from the context in reports/CONTEXT.md.

Output is what a province official reads on a phone: an email-safe HTML part (600 px tables,
CSS inlined because many mail apps drop <style>, with only the @media rules for phones and dark
mode kept in a <style> block), PNG charts sent as related parts by Content-ID (mail clients block
data URIs and SVG), and a plain-text part built from the same data for clients and screen readers
that prefer it. Regency free text (narasi, incident summaries, names) is untrusted: the HTML
template is autoescaped and nothing from the context is ever marked safe.
"""

from __future__ import annotations

import email.policy
import email.utils
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from functools import lru_cache

import css_inline
from babel.dates import format_date, format_datetime, format_interval
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports import charts, i18n
from reports.theme import STATUS_COLORS
from tasks.config import REPORTS_DIR, VOTING_DAY, WITA

LOCALES = {"id": "id_ID", "en": "en_GB"}
NO_DATA = "—"
HTML_TEMPLATE = "bulletin.html.j2"
TEXT_TEMPLATE = "bulletin.txt.j2"
LINMAS_NORM = 2  # Linmas per TPS required by law (two per polling station)


@dataclass(frozen=True)
class RenderedBulletin:
    """One bulletin, ready to be put in a message or written to disk."""

    html: str  # email-safe HTML, CSS inlined
    text: str  # plain-text alternative from the same data
    images: dict[str, bytes]  # Content-ID (without <>) -> PNG bytes, referenced as cid:<id>
    subject: str


def as_wita(dt: datetime) -> datetime:
    """The same instant in WITA; a naive datetime is taken to be WITA already.

    Submissions record local WITA times without an offset (DESIGN §3) and DuckDB hands them back
    naive; reading them as UTC would shift every incident by eight hours.
    """
    return dt.replace(tzinfo=WITA) if dt.tzinfo is None else dt.astimezone(WITA)


@dataclass(frozen=True)
class Formatter:
    """Locale-aware formatting for the templates, so no template formats a number by hand.

    Missing values (None) print as an em dash, which the bulletin explains, rather than 0:
    "no report" and "nothing delivered" must not look the same.
    """

    lang: str

    @property
    def locale(self) -> str:
        return LOCALES[self.lang]

    def pct(self, x: float | None, digits: int = 1) -> str:
        if x is None:
            return NO_DATA
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(x, format=pattern, locale=self.locale)

    def pct0(self, x: float | None) -> str:
        return self.pct(x, 0)

    def num(self, n: float | None) -> str:
        return NO_DATA if n is None else format_decimal(n, locale=self.locale)

    def dec(self, x: float | None, digits: int = 1) -> str:
        if x is None:
            return NO_DATA
        return format_decimal(x, format="#,##0." + "0" * digits, locale=self.locale)

    def date(self, d: date | datetime | None) -> str:
        """Long date ("24 November 2024"); a datetime is first put in WITA."""
        if d is None:
            return NO_DATA
        if isinstance(d, datetime):
            d = as_wita(d).date()
        return format_date(d, format="long", locale=self.locale)

    def week_range(self, start: date, end: date) -> str:
        return format_interval(start, end, "yMMMd", locale=self.locale)

    def time(self, dt: datetime) -> str:
        """Clock time in WITA, written 07.00 in Indonesian and 07:00 in English."""
        pattern = "HH.mm" if self.lang == "id" else "HH:mm"
        return format_datetime(as_wita(dt), pattern, locale=self.locale)

    def when(self, dt: datetime | None) -> str:
        """Short date and time in WITA, for incidents and received files."""
        if dt is None:
            return NO_DATA
        day = format_datetime(as_wita(dt), "d MMM", locale=self.locale)
        return f"{day} {self.time(dt)}"

    def status_word(self, status: str) -> str:
        return i18n.STATUS_WORDS[status][i18n.LANGS.index(self.lang)]

    def status(self, status: str) -> str:
        """Symbol and word together, so status never depends on seeing colour."""
        return f"{i18n.STATUS_SYMBOLS[status]} {self.status_word(status)}"

    def h(self, h: int) -> str:
        """Days to voting in the local convention: H-3 / D-3, H / D-day, H+2 / D+2."""
        prefix = "H" if self.lang == "id" else "D"
        if h == 0:
            return prefix if self.lang == "id" else "D-day"
        return f"{prefix}-{h}" if h > 0 else f"{prefix}+{-h}"

    def enum(self, enum: str, code: str | None, fallback: str | None = None) -> str:
        if code is None:
            return fallback or NO_DATA
        return i18n.enum_label(enum, code, self.lang, fallback)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """One Jinja environment: HTML templates autoescaped, text templates not."""
    return Environment(
        loader=FileSystemLoader(REPORTS_DIR),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    """Inline ordinary rules; keep only @media (phone width, dark mode) in a <style> block."""
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def _subject(ctx: dict, fmt: Formatter, t: dict[str, str]) -> str:
    """Short province name first: phones show only the first ~40 characters of a subject."""
    province = i18n.PROVINCE_SHORT.get(ctx["province_name"], ctx["province_name"])
    return f"{t['title']} {province} — {t['week']} {ctx['week']} ({fmt.h(ctx['h'])})"


def _charts(ctx: dict, fmt: Formatter, t: dict[str, str]) -> dict[str, charts.Chart]:
    """The bulletin's charts, keyed by the name the template uses.

    Content-IDs carry the week so that two bulletins in one mail thread do not share images.
    """
    week = ctx["week"].replace("-", "")
    rows = ctx["kabkota"]
    return {
        "logistik": charts.logistics_by_kabkota(
            rows,
            i18n.labels(i18n.STAGES_SHORT, fmt.lang),
            fmt.pct0,
            cid=f"logistik-{week}@siaga-pilkada",
            alt_title=t["chart_log_alt"],
            no_data=t["no_data_word"],
        ),
        "tps": charts.tps_classes_by_kabkota(
            rows,
            i18n.labels(i18n.TPS_CLASSES, fmt.lang),
            fmt.num,
            cid=f"tps-{week}@siaga-pilkada",
            alt_title=t["chart_tps_alt"],
            no_data=t["no_data_word"],
        ),
    }


def render_bulletin(ctx: dict) -> RenderedBulletin:
    """Render the HTML and text parts, the chart images and the subject for one week."""
    fmt = Formatter(i18n.check_lang(ctx.get("lang", "id")))
    t = i18n.strings(fmt.lang)
    rendered_charts = _charts(ctx, fmt, t)
    subject = _subject(ctx, fmt, t)
    view = {
        **ctx,
        "lang": fmt.lang,
        "f": fmt,
        "t": t,
        "subject": subject,
        "charts": rendered_charts,
        "stages": i18n.labels(i18n.STAGES, fmt.lang),
        "stages_short": i18n.labels(i18n.STAGES_SHORT, fmt.lang),
        "tps_classes": i18n.labels(i18n.TPS_CLASSES, fmt.lang),
        "kinds": i18n.labels(i18n.KINDS, fmt.lang),
        "short_names": {k["kabkota_name"]: k["short_name"] for k in ctx["kabkota"]},
        "palette": STATUS_COLORS,
        "voting_day": VOTING_DAY,
        "linmas_norm": LINMAS_NORM,
    }
    env = _environment()
    html = _inliner().inline(env.get_template(HTML_TEMPLATE).render(view))
    text = env.get_template(TEXT_TEMPLATE).render(view)
    images = {c.cid: c.png for c in rendered_charts.values()}
    return RenderedBulletin(html=html, text=text, images=images, subject=subject)


def build_message(
    b: RenderedBulletin,
    sender: str,
    recipients: list[str],
    message_id_domain: str = "siaga-pilkada.local",
) -> EmailMessage:
    """A MIME message: text/plain alternative to multipart/related(text/html + inline PNGs).

    `add_related` on the HTML part turns it into the multipart/related that clients expect for
    cid: images; each image also gets a filename so clients that list parts show a sane name.
    """
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = b.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = email.utils.format_datetime(datetime.now(WITA))
    msg["Message-ID"] = email.utils.make_msgid(domain=message_id_domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to the desk
    msg.set_content(b.text, subtype="plain", charset="utf-8")
    msg.add_alternative(b.html, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]
    for cid, png in b.images.items():
        html_part.add_related(
            png,
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            disposition="inline",
            filename=f"{cid.split('@')[0]}.png",
        )
    return msg

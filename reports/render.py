"""Render the weekly readiness bulletin and each kab/kota desk's annex (architecture §6) from the
contexts typed in tasks/publish/bulletin_data.py (`BulletinContext`, `AnnexContext`).

Output is what a province official reads on a phone: an email-safe HTML part (600 px tables,
CSS inlined because many mail apps drop <style>, with only the @media rules for phones and dark
mode kept in a <style> block), PNG charts sent as related parts by Content-ID (mail clients block
data URIs and SVG), and a plain-text part built from the same data for clients and screen readers
that prefer it. A PDF for printing (A4, WeasyPrint) is rendered from the same context and the
same section templates, so paper and screen cannot disagree. Regency free text (narasi, incident
summaries, names) is untrusted: the HTML templates are autoescaped and nothing from the context
is ever marked safe.
"""

from __future__ import annotations

import base64
import email.policy
import email.utils
import io
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from email.message import EmailMessage
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import css_inline
import weasyprint
from babel.dates import format_date, format_datetime, format_interval
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint.urls import URLFetcher, URLFetcherResponse

from reports import charts, i18n
from reports import map as maps
from reports.theme import STATUS_COLORS
from tasks.config import VOTING_DAY, WITA

if TYPE_CHECKING:
    from tasks.publish.bulletin_data import AnnexContext, BulletinContext

LOCALES = {"id": "id_ID", "en": "en_GB"}
NO_DATA = "—"
TEMPLATES = Path(__file__).resolve().parent  # the Jinja templates sit beside this module
HTML_TEMPLATE = "bulletin.html.j2"  # email layout, for the bulletin and the annexes
PRINT_TEMPLATE = "bulletin_print.html.j2"  # A4 layout for the PDF, same bodies
BULLETIN_BODY = "_bulletin_body.html.j2"
ANNEX_BODY = "_annex_body.html.j2"
TEXT_TEMPLATE = "bulletin.txt.j2"
ANNEX_TEXT_TEMPLATE = "annex.txt.j2"
LINMAS_NORM = 2  # Linmas per TPS required by law (two per polling station)
CHART_SCALE = 2  # chart pixels per CSS px, email and PDF alike: sharp on a phone and on paper
PDF_VARIANT = "pdf/ua-1"  # tagged, accessible PDF (WeasyPrint writes the tags and metadata)
SUBJECT_NAMES_CHARS = 60  # a phone shows ~40–60 characters of a subject: the names go there
SHARE_DIGITS = 1  # every share (logistics, TPS complete, targets) is printed with one decimal


@dataclass(frozen=True)
class RenderedBulletin:
    """One bulletin or annex, ready to be put in a message or written to disk."""

    html: str  # email-safe HTML, CSS inlined
    text: str  # plain-text alternative from the same data
    images: dict[str, bytes]  # Content-ID (without <>) -> PNG bytes, referenced as cid:<id>
    subject: str
    name: str  # file stem, e.g. "buletin-2024-W47-id"; the PDF is attached as <name>.pdf
    pdf: bytes | None = None  # A4 print version, when asked for


def as_wita(dt: datetime) -> datetime:
    """The same instant in WITA; a naive datetime is taken to be WITA already.

    Submissions record local WITA times without an offset (architecture §3) and DuckDB hands
    them back naive; reading them as UTC would shift every incident by eight hours.
    """
    return dt.replace(tzinfo=WITA) if dt.tzinfo is None else dt.astimezone(WITA)


def _truncated(x: float, digits: int) -> Decimal:
    """`x` cut (not rounded) to `digits` decimals, after rounding away float noise at 6 more
    decimals exactly as the SQL does (`floor(round(x * 10^d, 6)) / 10^d`): 0.29 stored as
    0.28999… is still 29 %, while 0.9985 stays below 100 %."""
    step = Decimal(1).scaleb(-digits)
    return (Decimal(repr(float(x))) / step).quantize(Decimal("1e-6")).to_integral_value(
        ROUND_FLOOR) * step


@dataclass(frozen=True)
class Formatter:
    """Locale-aware formatting for the templates, so no template formats a number by hand.

    Missing values (None) print as an em dash, which the bulletin explains, rather than 0:
    "no report" and "nothing delivered" must not look the same.
    """

    lang: str
    fase: str = "persiapan"  # after the vote level 0 reads "Kondusif", not "Siap"

    @property
    def locale(self) -> str:
        return LOCALES[self.lang]

    def pct(self, x: float | None, digits: int = SHARE_DIGITS) -> str:
        """A share (0..1) as a percentage, truncated to `digits` decimals like the reasons SQL
        writes (sql/views/50_mart_status.sql), so progress is never overstated: 99.85 % reads
        "99,8%", never "100%", and the same share reads the same in a reason and in a table.

        A share above zero too small to show reads "<0,1%" rather than "0,0%": "nothing yet" and
        "a little" lead to different calls. So only an exact 0 prints as 0 %, and only a share of
        at least 1 as 100 % or more.
        """
        if x is None:
            return NO_DATA
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        shown = _truncated(x, digits + 2)  # `digits` decimals of a percentage
        prefix = ""
        if shown == 0 and x > 0:
            prefix, shown = "<", Decimal(1).scaleb(-digits - 2)
        return prefix + format_percent(shown, format=pattern, locale=self.locale)

    def num(self, n: float | None) -> str:
        return NO_DATA if n is None else format_decimal(n, locale=self.locale)

    def dec(self, x: float | None, digits: int = 1) -> str:
        """A ratio such as Linmas per TPS, truncated like `pct`: 1.995 against a norm of 2 reads
        "1,99", as its reason does, never "2,00" next to a "below the norm" mark."""
        if x is None:
            return NO_DATA
        return format_decimal(_truncated(x, digits), format="#,##0." + "0" * digits,
                              locale=self.locale)

    def date(self, d: date | datetime | None) -> str:
        """Long date ("24 November 2024"); a datetime is first put in WITA."""
        if d is None:
            return NO_DATA
        if isinstance(d, datetime):
            d = as_wita(d).date()
        return format_date(d, format="long", locale=self.locale)

    def day(self, d: date | None) -> str:
        """Weekday and short date ("Rab 20 Nov"), for due dates: an official plans by the day of
        the week, and the year is always this campaign's."""
        if d is None:
            return NO_DATA
        return format_date(d, format="EEE d MMM", locale=self.locale)

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
        return i18n.status_words(self.lang, self.fase)[status]

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
    """One Jinja environment: HTML templates autoescaped, text and CSS templates not."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
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


class OfflineFetcher(URLFetcher):
    """WeasyPrint's only way to load a resource while printing: data: URIs, decoded here.

    The print HTML embeds its charts as data: URIs and needs nothing else. Every other URL
    (http:, https:, file:, ftp:, …) raises, so markup that somehow reached the page could never
    make the renderer touch the network or the disk. WeasyPrint turns the error into a warning
    and leaves the resource out; it does not stop the PDF.
    """

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if not url.startswith("data:"):
            raise ValueError(f"PDF hanya memuat data: URI; ditolak: {url[:80]}")
        meta, _, payload = url[len("data:"):].partition(",")
        if meta.endswith(";base64"):
            media_type, body = meta[: -len(";base64")], base64.b64decode(payload)
        else:
            media_type, body = meta, urllib.parse.unquote_to_bytes(payload)
        return URLFetcherResponse(url, body, {"Content-Type": media_type or "text/plain"})


def _cid_src(c: charts.Chart) -> str:
    """Email: the image travels as a related MIME part (clients block data: URIs)."""
    return f"cid:{c.cid}"


def _data_src(c: charts.Chart) -> str:
    """PDF: the image is embedded in the page, so WeasyPrint needs no other resource."""
    return "data:image/png;base64," + base64.b64encode(c.png).decode("ascii")


def warm_up() -> None:
    """Pay once what a process's first bulletin pays: the templates compiled, the map's outlines
    read and a label point found inside each (~0.25 s), matplotlib's and WeasyPrint's fonts
    found (~0.4 s). For a resident process that starts flow runs (flows/warm_start.py), so that
    each run begins with them done."""
    env = _environment()
    for name in env.list_templates(extensions=["j2"]):
        env.get_template(name)
    _inliner()
    for code in maps.load_boundaries():
        maps.kabkota_point(code)
    figure = charts.Figure(figsize=(2, 1))
    figure.text(0.1, 0.5, "Siaga Pilkada", fontweight="bold")
    charts.FigureCanvasAgg(figure).print_png(io.BytesIO())
    weasyprint.HTML(string="<p style='font-family:sans-serif'><b>Siaga</b> Pilkada</p>",
                    url_fetcher=OfflineFetcher()).write_pdf()


def _email_html(view: dict[str, Any]) -> str:
    """The email layout with charts by Content-ID, CSS inlined for clients that drop <style>."""
    html = _environment().get_template(HTML_TEMPLATE).render({**view, "chart_src": _cid_src})
    return _inliner().inline(html)


def _print_html(view: dict[str, Any]) -> str:
    """The print layout's HTML, charts embedded as data: URIs."""
    return _environment().get_template(PRINT_TEMPLATE).render({**view, "chart_src": _data_src})


def _pdf(view: dict[str, Any]) -> bytes:
    """The print layout through WeasyPrint: A4, page numbers, header with the week.

    The align/valign/cellpadding attributes the section templates carry for mail clients are
    given to WeasyPrint as CSS rules of the print template, so both outputs lay tables out the
    same way; its `presentational_hints` would do the same at ~12 % of a bulletin's PDF and ~28 %
    of an annex's. The PDF is tagged as PDF/UA-1 (PDF_VARIANT) so a screen reader gets what the
    email gives it: headings as headings, tables as tables, charts as figures with their alt
    text, the language from <html lang> and the title from <title> shown instead of the file
    name.
    """
    document = weasyprint.HTML(string=_print_html(view), url_fetcher=OfflineFetcher())
    return document.write_pdf(pdf_variant=PDF_VARIANT)


def _base_view(ctx: dict[str, Any], fmt: Formatter) -> dict[str, Any]:
    """What every template may use besides the context: formatters, words, labels, palette."""
    return {
        **ctx,
        "lang": fmt.lang,
        "f": fmt,
        "t": i18n.strings(fmt.lang),
        "stages": i18n.labels(i18n.STAGES, fmt.lang),
        "stages_short": i18n.labels(i18n.STAGES_SHORT, fmt.lang),
        "tps_classes": i18n.labels(i18n.TPS_CLASSES, fmt.lang),
        "kinds": i18n.labels(i18n.KINDS, fmt.lang),
        "palette": STATUS_COLORS,
        "voting_day": VOTING_DAY,
        "linmas_norm": LINMAS_NORM,
    }


# --------------------------------------------------------------------------------------------
# The provincial bulletin


def _subject(ctx: dict, fmt: Formatter, t: dict[str, str]) -> str:
    """What needs a decision, before anything else: "[H-3] 1 Kritis: Mahulu · 3 Waspada: Kukar,
    Kubar, Kutim — Buletin Kesiapan Pilkada Kaltim 2024-W47".

    A phone shows the first ~40–60 characters, so the days to voting and the Kritis kab/kota
    come first, Waspada next; names that would run past SUBJECT_NAMES_CHARS are counted ("+2")
    instead. Counts cover every kab/kota (`counts`), names come from the listed ones. The title
    and week close the line, for search and for telling weeks apart. After voting day the
    subject no longer speaks of readiness.
    """
    h = ctx["h"]
    words = i18n.status_words(fmt.lang, fmt.fase)
    line = f"[{fmt.h(h)}]"
    groups = []
    for status in ("Kritis", "Waspada"):
        n = ctx["counts"].get(status, 0)
        if not n:
            continue
        group = f"{n} {words[status]}"
        names = [k["short_name"] for k in ctx["kabkota"] if k["status"] == status]
        shown = 0
        for name in names:
            sep = ": " if shown == 0 else ", "
            if len(line) + len(" · ".join([*groups, group + sep + name])) + 1 > SUBJECT_NAMES_CHARS:
                break
            group += sep + name
            shown += 1
        if shown and shown < n:
            group += f" +{n - shown}"
        groups.append(group)
    if groups:
        finding = " · ".join(groups)
    else:
        finding = t["subject_all_siap"] if h >= 0 else t["subject_none_after"]
    title = t["title"] if h >= 0 else t["subject_title_after"]
    province = i18n.PROVINCE_SHORT.get(ctx["province_name"], ctx["province_name"])
    return f"{line} {finding} — {title} {province} {ctx['week']}"


def _logistics_headline(ctx: dict, fmt: Formatter, t: dict[str, str],
                        targets: dict[str, float]) -> str:
    """The logistics chart's finding: how many listed kab/kota are below a target for this H,
    naming the stage when they all fall short at the same one."""
    rows = ctx["kabkota"]
    stages = i18n.labels(i18n.STAGES_SHORT, fmt.lang)
    reporting = [r for r in rows if any(r[f"pct_{s}"] is not None for s in stages)]
    missing = len(rows) - len(reporting)
    if not targets:
        head = t["chart_log_head"]
    else:
        below = [g for r in reporting
                 if (g := charts.logistics_gap(r, targets)) and charts.below(g[1], targets[g[0]])]
        if below:
            short_at = {stage for stage, _ in below}
            head = t["chart_log_head_below"].format(
                n=len(below), total=len(rows), h=fmt.h(ctx["h"]),
                stage=stages[short_at.pop()] if len(short_at) == 1 else "").replace("  ", " ")
        else:
            head = t["chart_log_head_met"].format(h=fmt.h(ctx["h"]))
    return head + (t["chart_head_no_report"].format(n=missing) if missing else "")


def _tps_headline(ctx: dict, fmt: Formatter, t: dict[str, str]) -> str:
    """The TPS chart's finding: high-risk TPS in the province and the kab/kota with most."""
    sec = ctx["keamanan"]
    counted = [(c["sangat_rawan"], r["short_name"]) for r in ctx["kabkota"]
               if (c := charts.tps_class_counts(r))]
    if not sec.get("tps_sangat_rawan") or not counted:
        return t["chart_tps_head_none"]
    most, name = max(counted, key=lambda pair: pair[0])
    return t["chart_tps_head"].format(n=fmt.num(sec["tps_sangat_rawan"]), name=name,
                                      m=fmt.num(most))


def _status_map(ctx: dict, fmt: Formatter, cid: str) -> ChartJob | None:
    """Every kab/kota coloured by status, with this week's new and open incidents as dots at
    their kab/kota (incident rows name a kab/kota, not a place). None when the area has
    kab/kota beyond the listed ones (the national bulletin lists the worst 20: a map of those
    alone would mislead) or none of them has a boundary shipped (another province): no empty or
    partial frame is sent."""
    rows = ctx["kabkota"]
    boundaries = maps.load_boundaries()
    if len(rows) < ctx["kabkota_total"] or not any(k["kabkota_code"] in boundaries for k in rows):
        return None
    code_of = {k["kabkota_name"]: k["kabkota_code"] for k in rows}
    short = {k["kabkota_code"]: k["short_name"] for k in rows}
    by_code: dict[str, list[dict[str, Any]]] = {}
    for i in ctx["keamanan"]["insiden"]:
        code = i.get("kabkota_code") or code_of.get(i.get("kabkota_name"))
        if code:
            by_code.setdefault(code, []).append(i)
    incidents = [
        maps.Incident(lon, lat, label=f"{i['id_insiden']} {short.get(code, code)}",
                      severity=i.get("tingkat"))
        for code, group in by_code.items()
        for i, (lon, lat) in zip(group, maps.incident_points(code, len(group)), strict=False)
    ]
    return partial(
        maps.status_map,
        {k["kabkota_code"]: k["status"] for k in rows},
        incidents,
        lang=fmt.lang,
        fase=fmt.fase,
        names={k["kabkota_code"]: k["kabkota_name"] for k in rows},
        short_names=short,
        cid=cid,
        scale=CHART_SCALE,
    )


# A chart to draw: a function of reports.charts or reports.map with all its arguments, plain
# values only, so that it can be drawn in another process as well as here (`Drawer`).
ChartJob = partial
# Draws a bulletin's chart jobs, keyed by name, and returns the charts under the same names.
Drawer = Callable[[dict[str, ChartJob]], dict[str, charts.Chart]]


def draw_chart(job: ChartJob) -> charts.Chart:
    """One chart job, drawn in the calling process (a run forked by flows/warm_start.py hands
    its jobs to children of the starter, which call this)."""
    return job()


def draw_here(jobs: dict[str, ChartJob]) -> dict[str, charts.Chart]:
    """Every job in this process, one after another (matplotlib holds the GIL)."""
    return {name: draw_chart(job) for name, job in jobs.items()}


def _charts(ctx: dict, fmt: Formatter, t: dict[str, str]) -> dict[str, ChartJob]:
    """The bulletin's charts, keyed by the name the template uses, to draw; `peta` only where
    a map can be drawn (the template checks `charts.peta is defined`).

    Content-IDs carry the week so that two bulletins in one mail thread do not share images.
    """
    week = ctx["week"].replace("-", "")
    rows = ctx["kabkota"]
    stages = i18n.labels(i18n.STAGES_SHORT, fmt.lang)
    targets = {s["stage"]: s["expected"] for s in ctx["logistik"]["stage_targets"]
               if s["stage"] in stages and s["expected"]}
    out = {
        "logistik": partial(
            charts.logistics_by_kabkota,
            rows,
            stages,
            targets,
            fmt.pct,
            cid=f"logistik-{week}@siaga-pilkada",
            title=_logistics_headline(ctx, fmt, t, targets),
            alt_title=t["chart_log_alt"],
            target_label=t["chart_target"].format(h=fmt.h(ctx["h"])),
            no_data=t["no_data_word"],
            scale=CHART_SCALE,
        ),
        "tps": partial(
            charts.tps_classes_by_kabkota,
            rows,
            i18n.labels(i18n.TPS_CLASSES, fmt.lang),
            fmt.num,
            cid=f"tps-{week}@siaga-pilkada",
            title=_tps_headline(ctx, fmt, t),
            alt_title=t["chart_tps_alt"],
            no_data=t["no_data_word"],
            scale=CHART_SCALE,
        ),
    }
    peta = _status_map(ctx, fmt, cid=f"peta-{week}@siaga-pilkada")
    if peta:
        out["peta"] = peta
    return out


def _bulletin_view(ctx: BulletinContext) -> dict[str, Any]:
    """The bulletin's template variables, charts not yet drawn (email and print differ)."""
    fmt = Formatter(i18n.check_lang(ctx.get("lang", "id")), ctx.get("fase", "persiapan"))
    view = _base_view(ctx, fmt)
    t = view["t"]
    counts = ctx["counts"]
    view.update(
        subject=_subject(ctx, fmt, t),
        name=f"buletin-{ctx['week']}-{fmt.lang}",
        body=BULLETIN_BODY,
        kicker=f"{ctx['province_name']} · Desk Pilkada",
        heading=t["title"],
        preheader=t["preheader"].format(h=fmt.h(ctx["h"]), siap=counts["Siap"],
                                        waspada=counts["Waspada"], kritis=counts["Kritis"]),
        footer=t["footer"].format(province=ctx["province_name"]),
        short_names={k["kabkota_name"]: k["short_name"] for k in ctx["kabkota"]},
    )
    return view


def _with_charts(view: dict[str, Any], draw: Drawer = draw_here) -> dict[str, Any]:
    """The view plus its charts, drawn once for the email and the PDF alike."""
    return {**view, "charts": draw(_charts(view, view["f"], view["t"]))}


def render_pdf(ctx: BulletinContext) -> bytes:
    """The bulletin as an A4 PDF for printing, from the same context as the email."""
    return _pdf(_with_charts(_bulletin_view(ctx)))


def render_bulletin(ctx: BulletinContext, with_pdf: bool = False,
                    draw: Drawer = draw_here) -> RenderedBulletin:
    """Render the HTML and text parts, the chart images and the subject for one week; with
    `with_pdf`, the print version too, from the same view and charts. `draw` draws the charts
    (here by default; a warm flow run spreads them over processes)."""
    view = _with_charts(_bulletin_view(ctx), draw)
    text = _environment().get_template(TEXT_TEMPLATE).render(view)
    html = _email_html(view)
    return RenderedBulletin(
        html=html,
        text=text,
        # only the charts the email layout shows (some are for print only): an unreferenced
        # image would be listed as a stray attachment by many clients
        images={c.cid: c.png for c in view["charts"].values() if f"cid:{c.cid}" in html},
        subject=view["subject"],
        name=view["name"],
        pdf=_pdf(view) if with_pdf else None,
    )


# --------------------------------------------------------------------------------------------
# One kab/kota desk's annex


def _short_items(items: list[dict[str, Any]], fmt: Formatter,
                 t: dict[str, str]) -> Callable[[list[str]], str]:
    """How a village's short items are worded: all, all but a few, or the few that are short.

    Early in the season every village lacks nearly every item; naming eight items per village
    for 237 villages would be unreadable (and push the email past Gmail's clipping size), so
    "semua kecuali segel" says the same in a few words.
    """
    every = [it["barang"] for it in items]

    def names(codes: list[str]) -> str:
        return ", ".join(fmt.enum("barang", b) for b in codes)

    def words(short: list[str]) -> str:
        if set(short) >= set(every):
            return t["all_items"]
        if len(short) > len(every) / 2:
            return t["all_but"].format(items=names([b for b in every if b not in short]))
        return names(short)

    return words


def _annex_view(actx: AnnexContext) -> dict[str, Any]:
    """The annex's template variables: the preheader leads with the worst reason, the words
    the desk will act on, and `targets` maps each stage to its expected share at this H-n."""
    fmt = Formatter(i18n.check_lang(actx.get("lang", "id")), actx.get("fase", "persiapan"))
    view = _base_view(actx, fmt)
    t = view["t"]
    k = actx["kabkota"]
    title = i18n.kabkota_title(k["kabkota_name"])
    preheader = f"{fmt.h(actx['h'])}: {fmt.status(k['status'])}"
    if actx["alasan"]:
        preheader += " — " + actx["alasan"][0]["reason_en" if fmt.lang == "en" else "reason_id"]
    view.update(
        subject=f"{t['annex_title']} {title} — {t['week']} {actx['week']}",
        name=f"lampiran-{k['kabkota_code']}-{actx['week']}-{fmt.lang}",
        body=ANNEX_BODY,
        kicker=f"{actx['province_name']} · {t['annex_title']}",
        heading=k["kabkota_name"],
        preheader=preheader,
        footer=t["annex_footer"].format(province=actx["province_name"], kabkota=title),
        file_status=i18n.labels(i18n.FILE_STATUS, fmt.lang),
        short_items=_short_items(actx["logistik"]["items"], fmt, t),
        targets={s["stage"]: s["expected"] for s in actx["logistik"]["stage_targets"]},
    )
    return view


def render_annex(actx: AnnexContext, with_pdf: bool = False) -> RenderedBulletin:
    """The annex for one kab/kota desk: email HTML, text part and subject (no charts: the desk
    works from the tables), plus the print version with `with_pdf`."""
    view = _annex_view(actx)
    return RenderedBulletin(
        html=_email_html(view),
        text=_environment().get_template(ANNEX_TEXT_TEMPLATE).render(view),
        images={},
        subject=view["subject"],
        name=view["name"],
        pdf=_pdf(view) if with_pdf else None,
    )


def build_message(
    b: RenderedBulletin,
    sender: str,
    recipients: list[str],
    message_id_domain: str = "siaga-pilkada.local",
) -> EmailMessage:
    """A MIME message: text/plain alternative to multipart/related(text/html + inline PNGs),
    wrapped in multipart/mixed with the PDF as an attachment when there is one.

    `add_related` on the HTML part turns it into the multipart/related that clients expect for
    cid: images; each image also gets a filename so clients that list parts show a sane name.
    `add_attachment` turns the multipart/alternative into the first part of a multipart/mixed.
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
    if b.pdf is not None:
        msg.add_attachment(b.pdf, maintype="application", subtype="pdf", filename=f"{b.name}.pdf")
    return msg

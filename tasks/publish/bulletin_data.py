"""Gather the bulletin's and the annexes' figures from the marts into the contexts the templates
read: `BulletinContext` and `AnnexContext` below are their documentation (tests check every
context built here, and the one tests/render_context.py makes up, against them key for key).

Every number comes from a mart through a query in `sql/queries/bulletin_*.sql` (the provincial
bulletin) or `sql/queries/annex_*.sql` (one kab/kota's annex); this module only shapes rows into
dicts, so a figure has one definition.

Conventions of every context: numbers are plain Python numbers (shares are floats 0..1, None when
data is missing); dates are `datetime.date`, times naive WITA unless said; free text from the
desks (`narasi`, an incident's `ringkasan`, a follow-up's `isu`, `tindakan`, `catatan`, names)
is untrusted and is escaped by jinja2's autoescape, never marked safe. A `Row` is one row of the
query named beside it: that query's SELECT list documents its keys.
"""

from __future__ import annotations

import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypedDict

import duckdb

from tasks.config import WITA
from tasks.weeks import h_minus, week_end, week_start

# Kab/kota (and incidents) a bulletin lists by name, worst first. Kaltim has 10; a national desk
# (514) or a large province (Jawa Timur, 38) reads those that need attention and the totals, in an
# email that stays under the ~100 KB at which Gmail clips a message (docs/decisions.md).
LISTED = 20
# The queries a bulletin reads (sql/queries/bulletin_<name>.sql), fetched together, and how many
# run at once (the machines it runs on have two cores or more).
BULLETIN_QUERIES = ("kabkota", "logistik_totals", "keamanan", "insiden", "insiden_verifikasi",
                    "netralitas", "netralitas_tahap", "non_asn", "tindak_lanjut",
                    "desa_tertinggal", "logistik_items", "stage_targets", "kualitas",
                    "provenance")
# The same for one kab/kota desk's annex (sql/queries/annex_<name>.sql).
ANNEX_QUERIES = ("kabkota", "keamanan", "keamanan_kecamatan", "insiden", "netralitas",
                 "netralitas_tahap", "kualitas", "temuan", "berkas", "tindak_lanjut", "alasan",
                 "logistik_items", "desa_tertinggal")
QUERY_THREADS = 2
# Open follow-ups shown beside one kab/kota in the action list; the rest are in the bulletin's
# follow-up section (by agency) and all of them in the kab/kota's annex.
FOLLOW_UPS_BESIDE = 3


Row = dict[str, Any]


# --------------------------------------------------------------------------------------------
# The contexts (what the templates in reports/ read)


class Header(TypedDict):
    """The keys every bulletin document (bulletin and annex) starts with."""

    lang: str  # "id" | "en"
    week: str  # "2024-W47"
    week_start: date
    week_end: date
    h: int  # days from week_end to voting day (27 Nov 2024); <= 0 on or after it
    # mart.kabkota_weekly.fase, "persiapan" | "pasca_pemungutan": after the vote the title
    # ("Pemantauan Pasca-Pemungutan"), sections and actions change
    fase: str
    issued_at: datetime  # WITA-aware
    province_name: str  # the area served (PILKADA_PROVINCE): a province's name, or "Indonesia"


class NextDeadline(TypedDict):
    """The next stage of the distribution chain still incomplete, and its due date."""

    tahap: str
    label: str
    tenggat: date
    h: int
    lewat: bool  # the due date has passed


class Action(TypedDict):
    """One Kritis/Waspada kab/kota of the decision block: what the reader decides on."""

    kabkota_code: str
    kabkota_name: str
    short_name: str
    status: str
    status_prev: str | None
    reason: str  # the first reason
    reasons: list[str]
    # sentences/clauses of its narasi that ask for something ("membutuhkan", "mohon",
    # "meminta", "perlu dukungan"…), untrusted
    permintaan: list[str]
    tenggat: NextDeadline | None  # None after the vote
    desa_tertinggal: Row | None  # its row of bulletin_desa_tertinggal.sql
    insiden_baru: int
    insiden_terbuka: int
    catatan_konsistensi: str | None
    # its open follow-ups (rows of bulletin_tindak_lanjut.sql), at most FOLLOW_UPS_BESIDE, most
    # overdue first; [] reads "belum ada tindak lanjut"
    tindak_lanjut: list[Row]
    tindak_lanjut_total: int


class Change(TypedDict):
    """Status changes of the kab/kota not in the decision block, one group per change."""

    dari: str
    ke: str
    kabkota: list[str]  # short names


class AgencyGroup(TypedDict):
    """Follow-ups one agency must act on."""

    instansi: str  # code
    instansi_label: str
    # rows of bulletin_tindak_lanjut.sql (plus `di_atas`: listed beside its kab/kota in
    # "actions", so the email names it by count only); all groups together hold at most LISTED
    items: list[Row]
    total: int  # all its items, also those cut
    di_atas: int  # of `items`, those listed in "actions"


class FollowUpCounts(TypedDict):
    """Follow-ups (mart.tindak_lanjut) this week."""

    terbuka: int  # open
    terlambat: int  # open and overdue
    terkendala: int  # open and obstructed
    selesai_minggu_ini: int  # done this week
    selesai_terlambat: int  # of them, done after the due date


class FollowUps(FollowUpCounts):
    """The bulletin's cross-sector follow-up section."""

    lewat_tenggat: list[AgencyGroup]  # overdue, by agency, the agency with most items first
    berjalan: list[AgencyGroup]  # open and not overdue, the same way


class Logistik(TypedDict):
    items: list[Row]  # bulletin_logistik_items.sql: per item, share at each stage and damage
    stage_targets: list[Row]  # bulletin_stage_targets.sql: stage, label, expected share
    # bulletin_desa_tertinggal.sql: villages behind the plan for the date, one row per
    # kab/kota, most first; at most LISTED
    desa_tertinggal: list[Row]
    desa_tertinggal_total: int
    desa_tertinggal_terpencil: int
    rusak_total: int


class Keamanan(TypedDict):
    """bulletin_keamanan.sql's totals, then the incidents."""

    jumlah_tps: int
    tps_kurang_rawan: int
    tps_rawan: int
    tps_sangat_rawan: int
    personel_polri: int
    personel_tni: int
    personel_linmas: int
    linmas_per_tps: float | None
    polri_per_tps: float | None
    tni_per_tps: float | None
    insiden_baru: int
    insiden_terbuka: int
    # bulletin_insiden.sql: new this week or still open, the severe and the newest first; at
    # most LISTED (`insiden_total` counts them all)
    insiden: list[Row]
    insiden_total: int
    korban_meninggal_baru: int  # in new incidents that count
    korban_luka_baru: int
    # bulletin_insiden_verifikasi.sql: flagged rows claiming a death, an injury or high
    # severity that do not count: shown as "perlu verifikasi"
    perlu_verifikasi: list[Row]


class Netralitas(TypedDict):
    """bulletin_netralitas.sql's totals (ASN only), then by stage and outside the totals."""

    kasus_baru: int
    kasus_kumulatif: int
    kasus_direkomendasikan: int  # cumulative: ever reached the BKN stage
    kasus_sanksi: int
    median_hari_ke_rekomendasi: float | None
    tahap: list[Row]  # bulletin_netralitas_tahap.sql: cases by their CURRENT stage
    non_asn: list[Row]  # bulletin_non_asn.sql: cases outside the ASN totals


class Kualitas(TypedDict):
    """Counts of (kab/kota × kind) this week (bulletin_kualitas.sql)."""

    tepat_waktu: int
    terlambat: int
    hilang: int
    ditolak: int


class BulletinContext(Header):
    """What `bulletin_context` hands to the templates (reports/render.py)."""

    counts: dict[str, int]  # {"Siap": 6, "Waspada": 3, "Kritis": 1}
    actions: list[Action]  # every listed Kritis/Waspada kab/kota, worst first
    # first week after the vote: statuses are not compared with last week's (readiness
    # judgments ended), `perubahan` is empty and a note says why
    batas_fase: bool
    perubahan: list[Change]
    tindak_lanjut: FollowUps
    # bulletin_kabkota.sql (every column of mart.kabkota_weekly, plus status_prev…): at most
    # LISTED, by status_level desc then name
    kabkota: list[Row]
    kabkota_total: int  # kab/kota in the area
    logistik: Logistik
    keamanan: Keamanan
    netralitas: Netralitas
    kualitas: Kualitas
    provenance: list[Row]  # bulletin_provenance.sql: the source files of the listed kab/kota


class AnnexLogistik(TypedDict):
    items: list[Row]  # annex_logistik_items.sql ([] when no logistics report)
    stage_targets: list[Row]  # bulletin_stage_targets.sql
    # annex_desa_tertinggal.sql: ALL villages behind the plan for the date, by kecamatan
    desa_tertinggal: list[Row]


class AnnexKeamanan(TypedDict):
    """annex_keamanan.sql (None figures = no security report this week), then per kecamatan
    and per incident."""

    jumlah_tps: int | None
    tps_kurang_rawan: int | None
    tps_rawan: int | None
    tps_sangat_rawan: int | None
    personel_polri: int | None
    personel_tni: int | None
    personel_linmas: int | None
    posko: int | None
    linmas_per_tps: float | None
    polri_per_tps: float | None
    tni_per_tps: float | None
    pct_tps_rawan: float | None
    insiden_baru: int
    insiden_terbuka: int
    insiden_terbuka_tinggi: int
    korban_meninggal_baru: int
    korban_luka_baru: int
    ikp_2024_category: str
    kecamatan: list[Row]  # annex_keamanan_kecamatan.sql
    insiden: list[Row]  # annex_insiden.sql (ringkasan untrusted)


class AnnexNetralitas(TypedDict):
    """Counts only (annex_netralitas*.sql): no case id, subject, agency, post or date."""

    kasus_baru: int
    kasus_kumulatif: int
    kasus_proses_bawaslu: int
    kasus_direkomendasikan: int
    kasus_sanksi: int
    kasus_ditutup: int
    median_hari_ke_rekomendasi: float | None
    tahap: list[Row]  # every stage


class AnnexKualitas(TypedDict):
    """annex_kualitas.sql, then the desk's files and row findings."""

    jenis_diterima: int
    jenis_terlambat: int
    jenis_hilang: list[str]
    jenis_terlambat_daftar: list[str]
    baris_ditandai: int
    baris_total: int
    file_ditolak: int
    berkas: list[Row]  # annex_berkas.sql
    # annex_temuan.sql: the first 50, rejects first; neutrality findings lose the values they
    # quote (`_without_case_detail`, message None when no safe wording is known)
    temuan: list[Row]
    temuan_total: int


class AnnexFollowUps(FollowUpCounts):
    # annex_tindak_lanjut.sql: every open follow-up on this kab/kota, filed by its desk or the
    # province's, then those closed this week; overdue first
    items: list[Row]


class AnnexContext(Header):
    """What `annex_context` hands to the annex templates: one kab/kota only, nothing cut to a
    top-n except row findings."""

    kabkota: Row  # annex_kabkota.sql: its mart.kabkota_weekly row and more
    alasan: list[Row]  # annex_alasan.sql: its reasons, worst first; [] when Siap
    logistik: AnnexLogistik
    keamanan: AnnexKeamanan
    netralitas: AnnexNetralitas
    kualitas: AnnexKualitas
    tindak_lanjut: AnnexFollowUps


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _rows(con: duckdb.DuckDBPyConnection, name: str,
          params: dict[str, str]) -> list[dict[str, Any]]:
    """Rows of `sql/queries/<name>.sql` as dicts of plain Python values."""
    from tasks.warehouse.database import sql

    cur = con.execute(sql(f"queries/{name}.sql"), params)
    cols = [d[0] for d in cur.description]
    return [{c: _plain(v) for c, v in zip(cols, row, strict=True)} for row in cur.fetchall()]


# Words with which a desk asks the province for something in its narrative ("membutuhkan
# dukungan angkutan udara segera"): the sentences holding one lead its entry in the decision block.
REQUEST_WORDS = ("membutuhkan", "butuh", "mohon", "meminta", "minta", "perlu dukungan",
                 "perlu bantuan", "memerlukan dukungan", "memerlukan bantuan")
# A sentence ends at . ! ? before a capital, a quote or a bracket, except after these
# abbreviations, which desks write before names ("Kab. Kutai Barat", "s.d. 26 November").
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")
_ABBREVIATIONS = ("Kab.", "Kec.", "Kel.", "Ds.", "Prov.", "No.", "Jl.", "s.d.", "dr.", "H.", "Hj.")
# Desk sentences quoted beside one kab/kota: the decision block must stay one phone screen.
REQUESTS_BESIDE = 2


def _sentences(text: str) -> list[str]:
    """The narrative's sentences, not split after a known abbreviation."""
    out: list[str] = []
    for part in _SENTENCE_BREAK.split(text.strip()):
        if out and out[-1].endswith(_ABBREVIATIONS):
            out[-1] += " " + part
        else:
            out.append(part)
    return [" ".join(x.split()) for x in out if x.strip()]


def desk_requests(narasi: str | None) -> list[str]:
    """The sentences of a desk's narrative that ask for something, as written (the template
    escapes them): what the province must decide on is otherwise buried in the last lines of a
    paragraph about the weather."""
    if not narasi:
        return []
    hits = []
    for sentence in _sentences(narasi):
        # only the clauses that ask: "…membutuhkan angkutan udara segera; tabel keamanan …"
        clauses = [c.strip() for c in sentence.split(";")]
        asked = [c for c in clauses if any(w in c.lower() for w in REQUEST_WORDS)]
        if asked:
            hits.append("; ".join(asked).rstrip(".") + ".")
    return hits[:REQUESTS_BESIDE]


def _next_deadline(k: Row) -> NextDeadline | None:
    """The next stage of the distribution chain still incomplete and its due date, before the
    vote only (after it there is no chain left to push)."""
    if k.get("fase") != "persiapan" or not k.get("tahap_berikut"):
        return None
    return {"tahap": k["tahap_berikut"], "label": k["tahap_berikut_label"],
            "tenggat": k["tenggat_tahap_berikut"], "h": k["h_tahap_berikut"],
            "lewat": bool(k.get("tahap_berikut_lewat_tenggat"))}


def _actions(kabkota: list[Row], lang: str, open_by_kabkota: dict[str, list[Row]],
             behind: dict[str, Row]) -> list[Action]:
    """Every listed Kritis/Waspada kab/kota, worst first, with what the reader decides on: why
    (all reasons), what changed since last week, what its desk asks for, the next deadline in
    the distribution chain, its open follow-ups (who was asked to act, or that nobody was) and
    its contradictions between narrative and figures."""
    reason_key = "alasan_en" if lang == "en" else "alasan"
    flagged = [k for k in kabkota if k["status_level"] > 0]
    flagged.sort(key=lambda k: (-k["status_level"], k["kabkota_name"]))
    out = []
    for k in flagged:
        follow_ups = open_by_kabkota.get(k["kabkota_code"], [])
        reasons = (k[reason_key] or k["alasan"] or "").split("; ")
        out.append({"kabkota_code": k["kabkota_code"], "kabkota_name": k["kabkota_name"],
                    "short_name": k["short_name"], "status": k["status"],
                    "status_prev": k["status_prev"],
                    "reason": reasons[0], "reasons": [r for r in reasons if r],
                    "permintaan": desk_requests(k["narasi"]),
                    "tenggat": _next_deadline(k),
                    "desa_tertinggal": behind.get(k["kabkota_code"]),
                    "insiden_baru": k["insiden_baru"], "insiden_terbuka": k["insiden_terbuka"],
                    "catatan_konsistensi": k.get("catatan_konsistensi"),
                    "tindak_lanjut": follow_ups[:FOLLOW_UPS_BESIDE],
                    "tindak_lanjut_total": len(follow_ups)})
    return out


def _changes(kabkota: list[Row]) -> list[Change]:
    """Status changes of the kab/kota outside the decision block (those that got better), one
    group per change ("▲ Waspada → ✔ Siap: Kukar, Paser"), so six changes read as one line."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for k in kabkota:
        if k["status_prev"] and k["status_prev"] != k["status"]:
            groups[(k["status_prev"], k["status"])].append(k["short_name"])
    return [{"dari": dari, "ke": ke, "kabkota": names} for (dari, ke), names in groups.items()]


def _by_agency(items: list[Row]) -> list[AgencyGroup]:
    """Follow-ups grouped by the agency that must act, so each Forkopimda member finds its own:
    the agency with the most items first, items keeping their order (most overdue first).

    At most LISTED items in all, cut in the order shown, so a long list loses the last agencies'
    tail rather than a few items of every agency; `total` keeps each agency's full count.
    """
    groups: dict[str, list[Row]] = defaultdict(list)
    for item in items:
        groups[item["instansi"]].append(item)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]["instansi_label"] or ""))
    out, room = [], LISTED
    for g in ordered:
        if room <= 0:
            break
        out.append({"instansi": g[0]["instansi"], "instansi_label": g[0]["instansi_label"],
                    "items": g[:room], "total": len(g),
                    "di_atas": sum(r.get("di_atas", False) for r in g[:room])})
        room -= len(g)
    return out


def _follow_up_counts(rows: list[Row]) -> FollowUpCounts:
    """Open, overdue and obstructed follow-ups, and those done this week (and how many late),
    from rows of `bulletin_tindak_lanjut.sql` or `annex_tindak_lanjut.sql` (flags of the mart)."""
    still_open = [r for r in rows if r["terbuka"]]
    done = [r for r in rows if r["selesai_minggu_ini"]]
    return {
        "terbuka": len(still_open),
        "terlambat": sum(bool(r["terlambat"]) for r in still_open),
        "terkendala": sum(r["status"] == "terkendala" for r in still_open),
        "selesai_minggu_ini": len(done),
        "selesai_terlambat": sum(bool(r["selesai_terlambat"]) for r in done),
    }


def _follow_ups(rows: list[Row]) -> FollowUps:
    """The bulletin's follow-up section: counts, then the overdue and the other open follow-ups,
    each by agency (the kab/kota annexes list every one)."""
    still_open = [r for r in rows if r["terbuka"]]
    return {
        **_follow_up_counts(rows),
        "lewat_tenggat": _by_agency([r for r in still_open if r["terlambat"]]),
        "berjalan": _by_agency([r for r in still_open if not r["terlambat"]]),
    }


def _header(con: duckdb.DuckDBPyConnection, week: str, lang: str, fase: str) -> Header:
    """The keys every bulletin document starts with: language, week, H-n, the campaign's phase
    (`persiapan` before voting day, `pasca_pemungutan` from the week holding it: the title,
    sections and actions change with it), issue time, and the area the warehouse serves
    (PILKADA_PROVINCE: a province, or all of Indonesia)."""
    return {
        "lang": lang,
        "week": week,
        "week_start": week_start(week),
        "week_end": week_end(week),
        "h": h_minus(week),
        "fase": fase,
        "issued_at": datetime.now(WITA),
        "province_name": _rows(con, "scope", {})[0]["scope_name"],
    }


def _rows_at_once(con: duckdb.DuckDBPyConnection,
                  queries: dict[str, dict[str, str]]) -> dict[str, list[Row]]:
    """`_rows` of several queries (name → parameters), run side by side on cursors of `con`:
    DuckDB plans and runs each outside the GIL, and a mart query is mostly planning (~0.14 s of
    the status query's 0.24 s, Kaltim), which one query cannot spread over cores. Kaltim's
    bulletin figures: 0.37 s one after another, 0.23 s two at a time (bench/README.md)."""
    def one(name: str) -> list[Row]:
        cur = con.cursor()
        try:
            return _rows(cur, name, queries[name])
        finally:
            cur.close()

    with ThreadPoolExecutor(QUERY_THREADS) as pool:
        return dict(zip(queries, pool.map(one, queries), strict=True))


def bulletin_context(con: duckdb.DuckDBPyConnection, week: str,
                     lang: str = "id") -> BulletinContext:
    fetched = _rows_at_once(con, {f"bulletin_{n}": {"week": week} for n in BULLETIN_QUERIES})

    def rows(name: str) -> list[Row]:
        return fetched[f"bulletin_{name}"]

    kabkota = rows("kabkota")
    if not kabkota:
        raise LookupError(f"Belum ada data untuk minggu {week}; jalankan ingest lebih dulu.")
    counts = {s: sum(1 for k in kabkota if k["status"] == s) for s in ("Siap", "Waspada", "Kritis")}
    totals = rows("logistik_totals")[0]
    keamanan = rows("keamanan")[0]
    insiden = rows("insiden")  # the severe and the newest first
    keamanan["insiden"], keamanan["insiden_total"] = insiden[:LISTED], len(insiden)
    new = [i for i in insiden if i["baru"]]
    keamanan["korban_meninggal_baru"] = sum(i["korban_meninggal"] or 0 for i in new)
    keamanan["korban_luka_baru"] = sum(i["korban_luka"] or 0 for i in new)
    keamanan["perlu_verifikasi"] = rows("insiden_verifikasi")
    netralitas = rows("netralitas")[0]
    netralitas["tahap"] = rows("netralitas_tahap")
    netralitas["non_asn"] = rows("non_asn")
    listed = kabkota[:LISTED]
    codes = {k["kabkota_code"] for k in listed}
    follow_ups = rows("tindak_lanjut")  # open or done this week, the most overdue first
    open_by_kabkota: dict[str, list[Row]] = defaultdict(list)
    for r in follow_ups:
        r["di_atas"] = False  # set below for those beside a kab/kota in the decision block
        if r["terbuka"] and not r["seluruh_provinsi"]:
            open_by_kabkota[r["kode_kabkota"]].append(r)
    behind = rows("desa_tertinggal")
    actions = _actions(listed, lang, open_by_kabkota, {b["kabkota_code"]: b for b in behind})
    in_actions = {a["kabkota_code"] for a in actions}
    for a in actions:  # the email's agency list names these by count only: no text twice
        for r in a["tindak_lanjut"]:
            r["di_atas"] = True
    # The first week after the vote is judged on other grounds than the week before (readiness
    # ends on voting day): "Kritis → Siap" there would be read as an improvement, so it is not
    # listed as one; the bulletin says why instead.
    batas_fase = kabkota[0]["fase"] == "pasca_pemungutan" and kabkota[0]["h"] + 7 >= 0
    return {
        **_header(con, week, lang, kabkota[0]["fase"]),
        "counts": counts,
        "actions": actions,
        "batas_fase": batas_fase,
        "perubahan": [] if batas_fase else _changes(
            [k for k in listed if k["kabkota_code"] not in in_actions]),
        "tindak_lanjut": _follow_ups(follow_ups),
        "kabkota": listed,
        "kabkota_total": len(kabkota),
        "logistik": {
            "items": rows("logistik_items"),
            "stage_targets": rows("stage_targets"),
            "desa_tertinggal": behind[:LISTED],
            "desa_tertinggal_total": sum(b["desa"] for b in behind),
            "desa_tertinggal_terpencil": sum(b["terpencil"] for b in behind),
            **totals,
        },
        "keamanan": keamanan,
        "netralitas": netralitas,
        "kualitas": rows("kualitas")[0],
        "provenance": [p for p in rows("provenance") if p["kabkota_code"] in codes],
    }


# The kind whose row findings may echo ASN case detail (names, NIPs, case ids, dates).
CASE_KIND = "netralitas"
HIDDEN = "…"


class _Blanked(dict):
    """Template values for a finding message with every echoed cell value hidden."""

    def __missing__(self, key: str) -> str:
        return HIDDEN


@lru_cache(maxsize=1)
def _case_finding_templates() -> dict[tuple[str, str | None], str]:
    """(rule, column) -> message of the neutrality suite with its cell values blanked.

    The suite's messages quote the offending value back to the desk (`ref_subjek 'Budi …' tampak
    seperti nama`, `id_kasus 'K-12' muncul lebih dari sekali`). The annex may be forwarded beyond
    the province, where ASN case detail must not go, so those values are replaced by "…"; the row
    number and column still let the desk find the cell in its own spreadsheet.
    """
    from tasks.ingest.validate import suite_document

    out: dict[tuple[str, str | None], str] = {}
    for e in suite_document(CASE_KIND)["expectations"]:
        meta = e["meta"]
        column = meta.get("column") or e["kwargs"].get("column") or e["kwargs"].get("column_B")
        out[(meta["rule"], column)] = meta["message"].format_map(_Blanked())
    return out


def _without_case_detail(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding safe to print: neutrality findings rebuilt from their blanked template.

    A whole-file finding (no row) describes the file's shape, not a case, and is kept. A row
    finding whose rule is not in the suite has no known-safe wording, so its message is dropped
    (None) and the annex says the detail is withheld.
    """
    if finding["kind"] != CASE_KIND or finding["row_number"] is None:
        return finding
    template = _case_finding_templates().get((finding["rule"], finding["column"]))
    message = None
    if template is not None:
        col = f", kolom {finding['column']}" if finding["column"] else ""
        message = f"Baris {finding['row_number']}{col}: {template}"
    return {**finding, "message": message}


def annex_context(con: duckdb.DuckDBPyConnection, week: str, kabkota_code: str,
                  lang: str = "id") -> AnnexContext:
    """Everything one kab/kota desk's annex shows, from the same marts as the bulletin.

    Unlike the bulletin, nothing is cut to a top-n except the row findings (50, with the total):
    the desk works through its own list, follow-ups included (every open one on its kab/kota,
    whoever filed it, and those closed this week). ASN neutrality is counts only
    (`annex_netralitas*.sql`) and finding messages on neutrality files lose their echoed values
    (see `_without_case_detail`), because annexes may reach recipients outside the province.
    """
    params = {"week": week, "kabkota": kabkota_code}
    fetched = _rows_at_once(con, {**{f"annex_{n}": params for n in ANNEX_QUERIES},
                                  "bulletin_stage_targets": {"week": week}})

    def rows_of(name: str) -> list[Row]:
        return fetched[f"annex_{name}"]

    rows = rows_of("kabkota")
    if not rows:
        raise LookupError(f"Belum ada data kab/kota {kabkota_code} untuk minggu {week}; "
                          "periksa kode kab/kota atau jalankan ingest lebih dulu.")
    keamanan = rows_of("keamanan")[0]
    keamanan["kecamatan"] = rows_of("keamanan_kecamatan")
    keamanan["insiden"] = rows_of("insiden")
    netralitas = rows_of("netralitas")[0]
    netralitas["tahap"] = rows_of("netralitas_tahap")
    kualitas = rows_of("kualitas")[0]
    temuan = rows_of("temuan")
    kualitas["berkas"] = rows_of("berkas")
    kualitas["temuan_total"] = temuan[0]["total"] if temuan else 0
    kualitas["temuan"] = [_without_case_detail({k: v for k, v in f.items() if k != "total"})
                          for f in temuan]
    follow_ups = rows_of("tindak_lanjut")  # open first, the most overdue first
    return {
        **_header(con, week, lang, rows[0]["fase"]),
        "kabkota": rows[0],
        "alasan": rows_of("alasan"),
        "logistik": {
            "items": rows_of("logistik_items"),
            "stage_targets": fetched["bulletin_stage_targets"],
            "desa_tertinggal": rows_of("desa_tertinggal"),
        },
        "keamanan": keamanan,
        "netralitas": netralitas,
        "kualitas": kualitas,
        "tindak_lanjut": {**_follow_up_counts(follow_ups), "items": follow_ups},
    }

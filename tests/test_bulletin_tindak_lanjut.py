"""Cross-sector follow-ups (tindak lanjut) in the bulletin and the annexes, from a real warehouse.

The sample's W47 gives the statuses (Kutai Barat and Mahakam Ulu Kritis, Kutai Timur Waspada);
the follow-ups are this module's own files, sent through ingest like a desk's, so the test does
not depend on what the sample generator makes of the kind:

- the provincial desk (64) keeps an overdue Polri follow-up for Mahakam Ulu (due Wed 20 Nov,
  5 days late on Monday 25 Nov), a blocked KPU one there, an overdue Polri one for Samarinda and
  two for the whole province (Pemda overdue, Bawaslu open);
- Kutai Kartanegara's desk closes one late this week, cancels one and keeps one open;
- Kutai Timur's desk files one whose text carries markup;
- Kutai Barat has none at all.
"""

from __future__ import annotations

import csv
import html
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import html5lib
import pytest
from playwright.sync_api import sync_playwright

from reports.render import RenderedBulletin, render_annex, render_bulletin
from samples.kaltim import generate
from tasks.config import WITA
from tasks.contract.submission import COLUMNS
from tasks.publish.bulletin_data import annex_context, bulletin_context
from tests.pipeline import ingest, site
from tests.test_bulletin_browser import ARGS, CHROMIUM

WEEK = "2024-W47"
PREV = "2024-W46"
XSS = "<script>alert(9)</script>"
NS = "{http://www.w3.org/1999/xhtml}"

# (week, sender) -> rows; columns in contract order, dates ISO.
_MAHULU_LONGBOAT = ("6411", "TL-64-001", "2024-11-14", "rakor_forkopimda", "logistik",
                    "Logistik ke Long Apari tertahan debit sungai",
                    "Pengawalan longboat logistik ke Long Apari", "polri", "2024-11-20",
                    "berjalan", "2024-11-15", "")
_SAMARINDA_PATROL = ("6472", "TL-64-002", "2024-11-14", "rakor_forkopimda", "keamanan",
                     "Gudang logistik KPU tanpa penjagaan malam",
                     "Patroli gabungan di gudang logistik KPU", "polri", "2024-11-23",
                     "berjalan", "2024-11-15", "")
_GENSET = ("64", "TL-64-003", "2024-11-14", "rakor_forkopimda", "logistik",
           "TPS di daerah rawan padam listrik", "Pastikan genset cadangan di TPS rawan padam",
           "pemda", "2024-11-22", "baru", "2024-11-14", "")
FOLLOW_UPS: dict[tuple[str, str], list[tuple[str, ...]]] = {
    (PREV, "64"): [_MAHULU_LONGBOAT, _SAMARINDA_PATROL, _GENSET],
    (WEEK, "64"): [
        _MAHULU_LONGBOAT, _SAMARINDA_PATROL, _GENSET,
        ("6411", "TL-64-004", "2024-11-19", "desk_pilkada", "logistik",
         "Longboat tidak bisa lewat riam", "Sewa helikopter untuk logistik ke Long Pahangai",
         "kpu", "2024-11-26", "terkendala", "2024-11-22", "Cuaca buruk sejak Rabu"),
        ("64", "TL-64-005", "2024-11-19", "rakor_forkopimda", "netralitas",
         "Kepala desa hadir di kampanye", "Surat edaran netralitas kepala desa", "bawaslu",
         "2024-11-29", "berjalan", "2024-11-21", ""),
    ],
    (PREV, "6402"): [
        ("6402", "TL-6402-001", "2024-11-12", "desk_pilkada", "logistik",
         "Kotak suara rusak di gudang", "Kirim kotak suara pengganti ke PPK Muara Muntai",
         "kpu", "2024-11-19", "berjalan", "2024-11-13", ""),
        ("6402", "TL-6402-002", "2024-11-12", "desk_pilkada", "partisipasi",
         "Sosialisasi pemilih pemula", "Sosialisasi di SMA Tenggarong", "kesbangpol",
         "2024-11-22", "berjalan", "2024-11-13", ""),
    ],
    (WEEK, "6402"): [
        ("6402", "TL-6402-001", "2024-11-12", "desk_pilkada", "logistik",
         "Kotak suara rusak di gudang", "Kirim kotak suara pengganti ke PPK Muara Muntai",
         "kpu", "2024-11-19", "selesai", "2024-11-21", "Diterima PPK 21 Nov"),
        ("6402", "TL-6402-002", "2024-11-12", "desk_pilkada", "partisipasi",
         "Sosialisasi pemilih pemula", "Sosialisasi di SMA Tenggarong", "kesbangpol",
         "2024-11-22", "dibatalkan", "2024-11-20", "Digabung dengan kegiatan KPU"),
        ("6402", "TL-6402-003", "2024-11-20", "desk_pilkada", "keamanan",
         "Posko kesehatan petugas KPPS", "Siagakan ambulans di kecamatan terpencil", "dinkes",
         "2024-11-30", "berjalan", "2024-11-21", ""),
    ],
    (WEEK, "6408"): [
        ("6408", "TL-6408-001", "2024-11-20", "desk_pilkada", "netralitas",
         f"Camat diduga {XSS} mengarahkan ASN", f"Klarifikasi camat {XSS} & kepala desa",
         "bawaslu", "2024-11-28", "berjalan", "2024-11-21", f"Catatan {XSS}"),
    ],
}
# When each week's follow-up reports arrive (the inbox is replayed on file times).
ARRIVAL = {PREV: datetime(2024, 11, 17, 10, 0, tzinfo=WITA),
           WEEK: datetime(2024, 11, 24, 10, 0, tzinfo=WITA)}


def _write_follow_ups(inbox: Path) -> None:
    """This module's follow-up files, replacing any the sample generator may write."""
    for stale in inbox.rglob("*_tindak_lanjut_*"):
        stale.unlink()
    header = [c.name for c in COLUMNS["tindak_lanjut"]]
    for (week, sender), rows in FOLLOW_UPS.items():
        path = inbox / sender / f"{sender}_tindak_lanjut_{week}.csv"
        path.parent.mkdir(exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        stamp = ARRIVAL[week].timestamp()
        os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, prefect_harness) -> Path:
    """The sample's W47 plus this module's follow-ups for W46–W47, ingested."""
    root = tmp_path_factory.mktemp("tindak_lanjut")
    mp = pytest.MonkeyPatch()
    settings = site(root, mp)
    generate(root / "inbox", [WEEK])
    _write_follow_ups(root / "inbox")
    ingest(settings)
    mp.undo()
    return settings.warehouse


@pytest.fixture(scope="module")
def con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(warehouse), read_only=True) as c:
        yield c


@pytest.fixture(scope="module")
def bulletin(con) -> tuple[dict[str, Any], RenderedBulletin]:
    ctx = bulletin_context(con, WEEK)
    return ctx, render_bulletin(ctx)


def _text(node: Any) -> str:
    """An element's visible text, a line break counting as a space."""
    def walk(n: Any) -> Iterator[str]:
        yield " " if n.tag == f"{NS}br" else (n.text or "")
        for child in n:
            yield from walk(child)
            yield child.tail or ""

    return re.sub(r"\s+", " ", "".join(walk(node))).strip()


def _section(b: RenderedBulletin, title: str) -> Any:
    """The email's table cell holding the section headed `title`."""
    doc = html5lib.parse(b.html)
    for cell in doc.iter(f"{NS}td"):
        h2 = cell.find(f"{NS}h2")
        if h2 is not None and _text(h2) == title:
            return cell
    raise AssertionError(f"no section {title!r}")


def _action_items(b: RenderedBulletin) -> dict[str, str]:
    """Kab/kota name -> the text of its entry in the action list."""
    cell = _section(b, "Perlu tindakan minggu ini")
    items = [div for div in cell.iter(f"{NS}div") if "dec" in div.get("class", "").split()]
    return {_text(div.find(f"{NS}p").find(f"{NS}strong")): _text(div) for div in items}


def _words(text: str) -> str:
    """Text with its line wrapping undone (the text part wraps at 78 columns)."""
    return " ".join(text.split())


def _text_block(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def test_the_follow_ups_were_loaded_clean(con) -> None:
    """Guard for the rest: every seeded row reached the mart unflagged."""
    flagged = con.execute("SELECT count(*) FROM core.tindak_lanjut WHERE flagged").fetchone()[0]
    assert flagged == 0
    ids = {r[0] for r in con.execute(
        "SELECT id_tindak_lanjut FROM mart.tindak_lanjut WHERE week = ?", [WEEK]).fetchall()}
    assert ids == {row[1] for (week, _), rows in FOLLOW_UPS.items() for row in rows}


def test_overdue_follow_up_beside_its_kritis_kabkota(con, bulletin) -> None:
    _, b = bulletin
    assert con.execute("SELECT status FROM mart.kabkota_weekly WHERE week = ? "
                       "AND kabkota_code = '6411'", [WEEK]).fetchone()[0] == "Kritis"
    mahulu = _action_items(b)["Kabupaten Mahakam Ulu"]
    assert "Pengawalan longboat logistik ke Long Apari" in mahulu
    assert "Polri · tenggat Rab 20 Nov lewat 5 hari dari tenggat" in mahulu
    assert "Sewa helikopter untuk logistik ke Long Pahangai" in mahulu
    assert "KPU · tenggat Sel 26 Nov terkendala" in mahulu
    # follow-ups for other kab/kota or the whole province are not beside it
    assert "Patroli gabungan" not in mahulu and "genset" not in mahulu
    text = _text_block(b.text, "PERLU TINDAKAN MINGGU INI", "== TINDAK LANJUT")
    assert ("   - Pengawalan longboat logistik ke Long Apari (Polri, tenggat Rab 20 Nov,\n"
            "     lewat 5 hari dari tenggat)") in text


def test_kritis_kabkota_without_follow_up_is_called_out(bulletin) -> None:
    ctx, b = bulletin
    kubar = next(a for a in ctx["actions"] if a["kabkota_code"] == "6407")
    assert kubar["status"] == "Kritis" and kubar["tindak_lanjut"] == []
    assert _action_items(b)["Kabupaten Kutai Barat"].endswith("belum ada tindak lanjut")
    text = _text_block(b.text, "Kabupaten Kutai Barat (✖ Kritis)", "2. ")
    assert "   Tindak lanjut: ▲ belum ada tindak lanjut\n" in text
    for a in ctx["actions"]:
        if a["tindak_lanjut"]:
            assert "belum ada tindak lanjut" not in _action_items(b)[a["kabkota_name"]]


def test_section_groups_by_agency_overdue_first(bulletin) -> None:
    ctx, b = bulletin
    tl = ctx["tindak_lanjut"]
    assert (tl["terbuka"], tl["terlambat"], tl["terkendala"]) == (7, 3, 1)
    assert (tl["selesai_minggu_ini"], tl["selesai_terlambat"]) == (1, 1)
    overdue = [(g["instansi"], [i["id_tindak_lanjut"] for i in g["items"]])
               for g in tl["lewat_tenggat"]]
    assert overdue == [("polri", ["TL-64-001", "TL-64-002"]), ("pemda", ["TL-64-003"])]
    pending = [(g["instansi"], [i["id_tindak_lanjut"] for i in g["items"]])
               for g in tl["berjalan"]]
    assert pending == [("bawaslu", ["TL-6408-001", "TL-64-005"]), ("dinkes", ["TL-6402-003"]),
                       ("kpu", ["TL-64-004"])]

    # The email names each agency's follow-ups already listed beside their kab/kota in the
    # decision block by count only; the rest are listed in full, so each is read once.
    rows = [_text(tr) for tr in _section(b, "Tindak lanjut lintas sektor").iter(f"{NS}tr")]
    assert [a["short_name"] for a in ctx["actions"]] == [
        "Kubar", "Mahulu", "Kukar", "Kutim", "Bontang", "Samarinda"]
    assert rows == [
        "Pemda · 1",
        "Seluruh provinsi · Pastikan genset cadangan di TPS rawan padam tenggat Jum 22 Nov "
        "lewat 3 hari dari tenggat",
        "Bawaslu · 2 (1 tercantum di atas)",
        "Seluruh provinsi · Surat edaran netralitas kepala desa tenggat Jum 29 Nov",
    ]
    section = _text(_section(b, "Tindak lanjut lintas sektor"))
    assert "Polri 2: tercantum di atas." in section
    assert "Dinas Kesehatan 1 · KPU 1: tercantum di atas." in section
    decisions = _action_items(b)
    for name, action in [("Mahakam Ulu", "Pengawalan longboat logistik ke Long Apari"),
                         ("Samarinda", "Patroli gabungan di gudang logistik KPU"),
                         ("Kutai Timur", f"Klarifikasi camat {XSS} & kepala desa"),
                         ("Kutai Kartanegara", "Siagakan ambulans di kecamatan terpencil"),
                         ("Mahakam Ulu", "Sewa helikopter untuk logistik ke Long Pahangai")]:
        assert action in next(v for k, v in decisions.items() if name in k)
    assert section.index("Lewat tenggat (3)") < section.index("Belum lewat tenggat (4)")
    assert "Selesai minggu ini: 1, 1 di antaranya melewati tenggat." in section
    text = _text_block(b.text, "== TINDAK LANJUT LINTAS SEKTOR ==", "== SEMUA KAB/KOTA")
    assert text.index("Lewat tenggat (3):\nPolri · 2\n  - Mahulu:") < text.index("Bawaslu · 2")
    assert "Selesai minggu ini: 1, 1 di antaranya melewati tenggat." in text


def test_new_text_lines_fit_78_columns(bulletin, con) -> None:
    _, b = bulletin
    block = _text_block(b.text, "PERLU TINDAKAN MINGGU INI", "== SEMUA KAB/KOTA")
    annex = render_annex(annex_context(con, WEEK, "6402"))
    block += _text_block(annex.text, "== TINDAK LANJUT", "== LOGISTIK")
    assert max(len(line) for line in block.splitlines()) <= 78


def test_annex_lists_the_desks_own_follow_ups_only(con) -> None:
    actx, b = (lambda a: (a, render_annex(a)))(annex_context(con, WEEK, "6402"))
    items = {i["id_tindak_lanjut"]: i for i in actx["tindak_lanjut"]["items"]}
    assert list(items) == ["TL-6402-003", "TL-6402-001", "TL-6402-002"]  # open first
    assert items["TL-6402-001"]["selesai_terlambat"]
    for part in (_words(html.unescape(b.html)), _words(b.text)):
        for fid in items:
            assert fid in part
        assert "Kirim kotak suara pengganti ke PPK Muara Muntai" in part
        assert "selesai lewat tenggat" in part
        assert "Dibatalkan per Rab 20 Nov" in part
        assert "Dinas Kesehatan" in part
        assert "Catatan: Digabung dengan kegiatan KPU" in part
        for other in ("TL-64-001", "TL-64-003", "TL-6408-001", "Long Apari"):
            assert other not in part
    cell = _section(b, "Tindak lanjut lintas sektor")
    groups = [_text(th) for th in cell.iter(f"{NS}th")]
    assert groups == ["Terbuka · 1", "Ditutup minggu ini · 2"]

    actx, b = (lambda a: (a, render_annex(a)))(annex_context(con, WEEK, "6411"))
    assert [i["id_tindak_lanjut"] for i in actx["tindak_lanjut"]["items"]] == [
        "TL-64-001", "TL-64-004"]
    for part in (_words(html.unescape(b.html)), _words(b.text)):
        assert "lewat 5 hari dari tenggat" in part
        assert "dicatat Desk Pilkada provinsi" in part
        assert "Patroli gabungan" not in part and "genset" not in part


def test_desk_text_is_escaped_in_html(con, bulletin) -> None:
    _, b = bulletin
    annex = render_annex(annex_context(con, WEEK, "6408"))
    for page in (b.html, annex.html):
        assert "<script" not in page.lower()
        assert "&lt;script&gt;alert(9)&lt;/script&gt;" in page
    assert annex.html.count("&lt;script&gt;alert(9)") == 3  # isu, tindakan, catatan
    assert f"Klarifikasi camat {XSS} & kepala desa" in b.text  # plain text stays as written


def test_english_variant(con) -> None:
    b = render_bulletin(bulletin_context(con, WEEK, "en"))
    mahulu = _text_block(b.text, "Kabupaten Mahakam Ulu (✖ Critical)", "== CROSS-SECTOR")
    assert "(Polri (police), due Wed 20 Nov, 5 days past due)" in mahulu.replace("\n     ", " ")
    assert "no follow-up yet" in b.text
    page = html.unescape(b.html)
    assert "Cross-sector follow-ups" in page and "Past due (3)" in page
    assert "Whole province" in page and "blocked" in page
    assert "Done this week: 1, 1 of them after the due date." in page
    annex = render_annex(annex_context(con, WEEK, "6402", "en"))
    assert "Cancelled as of Wed 20 Nov" in annex.text and "done after the due date" in annex.text


# Width of each section of the email shown alone: the other sections hidden, the page's width.
_ALONE = """() => {
    const rows = [...document.querySelectorAll('table.wrap > tbody > tr')];
    const widths = {};
    for (const keep of rows) {
        const h2 = keep.querySelector('h2');
        if (!h2) continue;
        rows.forEach(r => { r.style.display = r === keep ? '' : 'none'; });
        widths[h2.textContent] = document.documentElement.scrollWidth;
    }
    rows.forEach(r => { r.style.display = ''; });
    return widths;
}"""


@pytest.mark.parametrize("which", ["bulletin", "annex"])
@pytest.mark.browser
def test_fits_a_375px_phone(con, bulletin, which: str, tmp_path: Path) -> None:
    """No horizontal overflow at 375 px from what this feature adds: the action list (in the
    status section) and the follow-up section each fit when shown alone, and so does the whole
    annex. (The bulletin's scorecard and security tables are wider than 375 px on their own.)"""
    b = bulletin[1] if which == "bulletin" else render_annex(annex_context(con, WEEK, "6411"))
    page_file = tmp_path / f"{which}.html"
    page_file.write_text(b.html, encoding="utf-8")
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        widths = page.evaluate(_ALONE)
        first = "Perlu tindakan minggu ini" if which == "bulletin" else "Status minggu ini"
        assert widths[first] <= 375 and widths["Tindak lanjut lintas sektor"] <= 375
        if which == "annex":
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert dialogs == []  # the escaped <script> in a desk's text never runs
        page.screenshot(path=str(tmp_path / f"{which}-375.png"), full_page=True)
        browser.close()


def test_quiet_week_says_so(con) -> None:
    """A week before any follow-up was filed renders the empty wording, not an empty table."""
    ctx = bulletin_context(con, WEEK)
    ctx["tindak_lanjut"] = {**ctx["tindak_lanjut"], "terbuka": 0, "terlambat": 0,
                            "terkendala": 0, "selesai_minggu_ini": 0, "selesai_terlambat": 0,
                            "lewat_tenggat": [], "berjalan": []}
    b = render_bulletin(ctx)
    assert "Tidak ada tindak lanjut terbuka atau selesai minggu ini." in b.text
    actx = annex_context(con, WEEK, "6407")
    assert actx["tindak_lanjut"]["items"] == []
    assert "Tidak ada tindak lanjut terbuka atau ditutup minggu ini" in render_annex(actx).text
    # nothing open, two closed: the annex says so rather than "0, of which 0…"
    actx = annex_context(con, WEEK, "6402")
    actx["tindak_lanjut"] = {**actx["tindak_lanjut"], "terbuka": 0, "items": [
        i for i in actx["tindak_lanjut"]["items"] if not i["terbuka"]]}
    text = render_annex(actx).text
    assert "Tidak ada tindak lanjut terbuka." in text and "Ditutup minggu ini (2):" in text


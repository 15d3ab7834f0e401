"""The bulletin as an official sees it: Debian's Chromium, phone and desktop widths, dark mode.

One warehouse loaded with the sample's W46–W48 per module; the documents are rendered once and
each test only opens them (issue 17: no overflow at 320/375/600 px light and dark, the decision
block in the first phone screen, the post-vote bulletin, a flagged death, non-ASN cases, text
lines of at most 78 characters).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from reports.outbox import write_outbox
from reports.render import RenderedBulletin, build_message, render_annex, render_bulletin
from samples.kaltim import generate
from tasks.publish.bulletin_data import annex_context, bulletin_context
from tests.pipeline import ingest, site

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WEEK = "2024-W47"
PHONE_SCREEN = 667  # px tall at 375 px wide (iPhone SE class)


@pytest.fixture(scope="module")
def docs(tmp_path_factory, prefect_harness) -> dict[str, tuple[RenderedBulletin, Path]]:
    """W46 (a flagged row claims a death), W47 and W48 (after the vote) bulletins and Kutai
    Barat's W47 annex, rendered from a real warehouse and written as the outbox writes them."""
    root = tmp_path_factory.mktemp("browser")
    mp = pytest.MonkeyPatch()
    settings = site(root, mp)
    from tasks.warehouse.database import connect

    generate(root / "inbox", ["2024-W46", WEEK, "2024-W48"])
    rendered: dict[str, RenderedBulletin] = {}
    ingest(settings)
    with connect(settings.warehouse) as con:
        for week in ("2024-W46", WEEK, "2024-W48"):
            rendered[week] = render_bulletin(bulletin_context(con, week))
        rendered["annex"] = render_annex(annex_context(con, WEEK, "6407"))
    mp.undo()
    out = {}
    for key, b in rendered.items():
        msg = build_message(b, "desk@localhost", ["pejabat@localhost"])
        out[key] = (b, write_outbox(root / "outbox" / key, b, msg)["html"])
    return out


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, path: Path, width: int = 375, scheme: str = "light"):
    page = browser.new_page(viewport={"width": width, "height": PHONE_SCREEN},
                            color_scheme=scheme)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert dialogs == []  # escaped <script>/<img onerror> in a desk's text never runs
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [320, 375, 600])
@pytest.mark.parametrize("doc", [WEEK, "2024-W48", "annex"])
def test_no_horizontal_overflow(browser, docs, doc: str, width: int, scheme: str) -> None:
    page = _open(browser, docs[doc][1], width, scheme)
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{doc} lays out {scroll} px wide at {width} px ({scheme})"
    images = page.evaluate("[...document.images].map(i => [i.naturalWidth, i.alt])")
    assert all(w > 0 and alt for w, alt in images)
    page.close()


def test_dark_mode_changes_the_background(browser, docs) -> None:
    colours = []
    for scheme in ("light", "dark"):
        page = _open(browser, docs[WEEK][1], 390, scheme)
        colours.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        page.close()
    assert colours[0] != colours[1]


def test_decision_block_is_in_the_first_phone_screen(browser, docs) -> None:
    page = _open(browser, docs[WEEK][1])
    first = page.evaluate("""() => {
        const h2 = document.querySelector('h2');
        const entry = document.querySelector('.dec');
        return [h2.textContent, h2.getBoundingClientRect().top,
                entry.getBoundingClientRect().top, entry.innerText];
    }""")
    heading, heading_top, entry_top, entry_text = first
    assert heading == "Perlu tindakan minggu ini" and heading_top < PHONE_SCREEN
    assert entry_top < PHONE_SCREEN
    assert "✖ Kritis" in entry_text and "Tindak lanjut" in entry_text
    text = page.inner_text("body")
    assert "Tenggat berikut: PPK paling lambat Sen 25 Nov (H-2)" in text
    assert "membutuhkan dukungan angkutan udara segera" in text  # Mahulu's desk, quoted
    page.close()


def test_post_vote_bulletin_changes_title_and_sections(browser, docs) -> None:
    b, path = docs["2024-W48"]
    page = _open(browser, path)
    assert page.inner_text("h1") == "Pemantauan Pasca-Pemungutan Pilkada"
    sections = page.evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)")
    assert "Keamanan pasca-pemungutan" in sections and "Logistik" not in sections
    page.close()
    for part in (b.html, b.text):
        assert "Buletin Kesiapan" not in part.split("</title>")[-1]
        assert "Tenggat berikut" not in part and "tertinggal dari rencana" not in part
        assert "pada H+4" not in part  # no pre-vote Linmas action after the vote
    assert b.text.startswith("PEMANTAUAN PASCA-PEMUNGUTAN PILKADA")


def test_death_in_a_flagged_row_leads_the_first_block(browser, docs) -> None:
    """Kubar's W46 incident claims a death with `tingkat = rendah`: the flag is about the level
    only (issue 21), so the death counts and leads Kubar's entry in the first block; it is not
    left to a "perlu verifikasi" line (that is for claims that cannot count:
    tests/test_safety_critical.py)."""
    page = _open(browser, docs["2024-W46"][1])
    block = page.evaluate("document.querySelector('.wrap tr:nth-child(2)').innerText")
    kubar = block[block.index("Kabupaten Kutai Barat"):]
    assert kubar.startswith("Kabupaten Kutai Barat ✖ Kritis")
    assert "1 korban meninggal dalam insiden minggu ini" in " ".join(kubar.split())
    assert "Perlu verifikasi" not in block
    page.close()
    text = " ".join(docs["2024-W46"][0].text.split())
    assert "1 korban meninggal dalam insiden minggu ini" in text
    assert "PERLU VERIFIKASI" not in text


def test_non_asn_cases_are_named(docs) -> None:
    b = docs[WEEK][0]
    for part in (b.html, b.text):
        words = " ".join(part.split())  # the text part wraps lines
        assert "luar ASN (tidak masuk hitungan ASN)" in words
        assert "Berau 1 (Honorer/non-ASN" in words  # the new case, by kab/kota and type


@pytest.mark.parametrize("doc", ["2024-W46", WEEK, "2024-W48", "annex"])
def test_text_lines_fit_78_columns(docs, doc: str) -> None:
    lines = docs[doc][0].text.splitlines()
    assert max(len(line) for line in lines) <= 78, max(lines, key=len)


def test_provenance_stays_out_of_the_email(docs) -> None:
    b = docs[WEEK][0]
    for part in (b.html, b.text):
        assert "SHA-256" not in part and "_ringkasan_2024-W47" not in part

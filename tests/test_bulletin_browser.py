"""The bulletin as an official sees it: Debian's Chromium, phone and desktop widths, dark mode."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tasks.bulletin_data import bulletin_context
from tasks.ingest import ingest_inbox
from tasks.outbox import write_outbox
from tasks.render import build_message, render_bulletin
from tasks.sample import generate

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WEEK = "2024-W47"


@pytest.fixture(scope="module")
def bulletin_file(tmp_path_factory) -> Path:
    """A bulletin rendered from a real warehouse loaded with the sample's last two weeks."""
    root = tmp_path_factory.mktemp("browser")
    mp = pytest.MonkeyPatch()
    mp.setenv("PILKADA_WAREHOUSE", str(root / "w.duckdb"))
    mp.setenv("PILKADA_INBOX", str(root / "inbox"))
    from tasks.config import load_settings
    from tasks.reference_load import load_reference
    from tasks.warehouse import connect, migrate

    generate(root / "inbox", ["2024-W46", WEEK])
    settings = load_settings()
    with connect(settings.warehouse) as con:
        migrate(con)
        load_reference(con)
        ingest_inbox(con, settings)
        ctx = bulletin_context(con, WEEK)
    mp.undo()
    b = render_bulletin(ctx)
    msg = build_message(b, "desk@localhost", ["pejabat@localhost"])
    return write_outbox(root / "outbox", b, msg)["html"]


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("width", [360, 390, 600, 1024])
def test_fits_the_screen_and_shows_every_image(browser, bulletin_file, width, tmp_path):
    page = browser.new_page(viewport={"width": width, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(bulletin_file.as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= max(width, 600) + 1
    images = page.evaluate("[...document.images].map(i => [i.naturalWidth, i.alt])")
    assert images and all(w > 0 and alt for w, alt in images)
    assert dialogs == []  # the escaped <script>/<img onerror> in a narasi never runs
    shot = tmp_path / f"bulletin-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()


def test_status_words_are_visible_text(browser, bulletin_file):
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(bulletin_file.as_uri())
    text = page.inner_text("body")
    for word in ("Siap", "Waspada", "Kritis"):
        assert word in text
    assert "<script>alert(1)</script>" in text  # shown as text, not run
    page.close()


def test_dark_mode_changes_the_background(browser, bulletin_file):
    colours = []
    for scheme in ("light", "dark"):
        page = browser.new_page(viewport={"width": 390, "height": 900}, color_scheme=scheme)
        page.goto(bulletin_file.as_uri())
        colours.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        page.close()
    assert colours[0] != colours[1]

"""Render the sample W47 and W48 bulletins and photograph them at 375 px in Chromium
(`make screenshots`), so anyone can see the bulletin as a phone shows it without running it.

A throw-away warehouse is loaded with the whole sample campaign by the ingest flow (W40–W48, as
`make demo` does, each file received when the sample says it was sent: `PILKADA_ARRIVAL=mtime`;
the run is recorded on a throw-away Prefect server too, Prefect's test harness);
each bulletin is written as the outbox writes it (HTML with its cid: images beside it) and shot
whole-page and first-screen, light and dark, by Debian's chromium through Playwright.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent
WEEKS = ("2024-W47", "2024-W48")
WIDTH, SCREEN = 375, 667  # a small phone (iPhone SE class)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def main() -> None:
    """Build the warehouse, render, shoot; print each bulletin's height in phone screens."""
    root = Path(tempfile.mkdtemp(prefix="siaga-shots-"))
    os.environ.update(PILKADA_WAREHOUSE=str(root / "w.duckdb"), PILKADA_INBOX=str(root / "inbox"),
                      PILKADA_ARCHIVE=str(root / "archive"), PILKADA_OUTBOX=str(root / "outbox"),
                      PILKADA_ARRIVAL="mtime", PILKADA_CONFIG=str(root / "none.toml"))
    from playwright.sync_api import sync_playwright
    from prefect.testing.utilities import prefect_test_harness

    from flows.ingest import ingest_submissions
    from reports.outbox import write_outbox
    from reports.render import build_message, render_bulletin
    from samples.kaltim import generate
    from tasks.config import load_settings
    from tasks.publish.bulletin_data import bulletin_context
    from tasks.warehouse.database import connect
    from tasks.weeks import week_range

    generate(root / "inbox", week_range("2024-W40", WEEKS[-1]))
    settings = load_settings()
    pages = {}
    with prefect_test_harness(server_startup_timeout=120):
        ingest_submissions()
    with connect(settings.warehouse) as con:
        for week in WEEKS:
            b = render_bulletin(bulletin_context(con, week))
            msg = build_message(b, "desk@localhost", ["pejabat@localhost"])
            pages[week] = write_outbox(root / "outbox", b, msg)["html"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for week, html in pages.items():
            for scheme in ("light", "dark"):
                # the first screen sharp as a phone shows it (2x), the whole page at 1x
                for scale, full in ((2, False), (1, True)):
                    if full and scheme == "dark":
                        continue
                    page = browser.new_page(viewport={"width": WIDTH, "height": SCREEN},
                                            color_scheme=scheme, device_scale_factor=scale)
                    page.goto(html.as_uri())
                    page.wait_for_load_state("load")
                    stem = f"buletin-{week}-{WIDTH}px-{scheme}"
                    page.screenshot(path=str(OUT / f"{stem}{'' if full else '-layar1'}.png"),
                                    full_page=full)
                    if full:
                        height = page.evaluate("document.documentElement.scrollHeight")
                        print(f"{week}: {height} px at {WIDTH} px = {height / SCREEN:.1f} "
                              "screens")
                    page.close()
        browser.close()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

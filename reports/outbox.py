"""Rendered bulletins and annexes as files the data team can open: the outbox copy.

Beside the complete `.eml` (what a mail client would receive) and the plain-text part, an `.html`
copy whose `cid:` images point at PNG files next to it, so it opens in a browser, and the PDF.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from reports.render import RenderedBulletin


def write_outbox(folder: Path, rendered: RenderedBulletin,
                 message: EmailMessage) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = rendered.name
    browser_html = rendered.html
    if rendered.images:
        img_dir = folder / f"{stem}_img"
        img_dir.mkdir(exist_ok=True)
        for cid, png in rendered.images.items():
            (img_dir / f"{cid}.png").write_bytes(png)
            browser_html = browser_html.replace(f"cid:{cid}", f"{img_dir.name}/{cid}.png")
    paths = {"eml": folder / f"{stem}.eml", "html": folder / f"{stem}.html",
             "txt": folder / f"{stem}.txt"}
    paths["eml"].write_bytes(bytes(message))
    paths["html"].write_text(browser_html, encoding="utf-8")
    paths["txt"].write_text(rendered.text, encoding="utf-8")
    if rendered.pdf:
        paths["pdf"] = folder / f"{stem}.pdf"
        paths["pdf"].write_bytes(rendered.pdf)
    return paths

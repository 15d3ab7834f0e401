"""Deliver: write the bulletin to the outbox (always) and send it by SMTP (when asked).

The outbox keeps the complete `.eml` (what a mail client would receive), the plain-text part,
and an `.html` copy whose `cid:` images point at PNG files beside it so it opens in a browser.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from tasks.config import SmtpSettings


def write_outbox(folder: Path, stem: str, message: EmailMessage, html: str, text: str,
                 images: dict[str, bytes]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    img_dir = folder / f"{stem}_img"
    img_dir.mkdir(exist_ok=True)
    browser_html = html
    for cid, png in images.items():
        (img_dir / f"{cid}.png").write_bytes(png)
        browser_html = browser_html.replace(f"cid:{cid}", f"{img_dir.name}/{cid}.png")
    paths = {"eml": folder / f"{stem}.eml", "html": folder / f"{stem}.html",
             "txt": folder / f"{stem}.txt"}
    paths["eml"].write_bytes(bytes(message))
    paths["html"].write_text(browser_html, encoding="utf-8")
    paths["txt"].write_text(text, encoding="utf-8")
    return paths


def send_smtp(message: EmailMessage, smtp: SmtpSettings, timeout: float = 30) -> None:
    """Send with the configured transport security; credentials only from settings/env."""
    context = ssl.create_default_context()
    if smtp.tls == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout,
                                                context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    with client:
        if smtp.tls == "starttls":
            client.starttls(context=context)
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        client.send_message(message)

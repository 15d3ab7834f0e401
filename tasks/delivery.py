"""Delivery, exactly once: each message to each recipient is sent once per week unless resent.

Every attempt is recorded in `audit.delivery` *before* the message leaves (status `sending`) and
updated after, each in its own committed statement. A rerun skips what was `sent`; a row still
`sending` means the process died while the server had the message, so its fate is unknown: it is
reported, not resent (an official would rather miss a duplicate than get two). Temporary SMTP
failures (4xx, dropped connections) are retried with backoff; permanent ones (5xx) are not, and
are reported to the data team.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any, Protocol

import duckdb

from tasks.config import SmtpSettings
from tasks.faults import fault_point
from tasks.recipients import Recipient
from tasks.warehouse import sql

RETRY_DELAYS: tuple[float, ...] = (5, 30, 120)  # seconds before the 2nd, 3rd and 4th attempt


class TemporaryFailure(Exception):
    """Worth retrying later: 4xx replies, refused or dropped connections, timeouts."""


class PermanentFailure(Exception):
    """Retrying will not help: 5xx replies such as an unknown mailbox or failed login."""


@dataclass
class Letter:
    """One message for one recipient, with what identifies it in the delivery log."""

    week: str
    kind: str  # bulletin | annex | failure_report
    recipient: Recipient
    lang: str
    message: EmailMessage
    data_hash: str
    kabkota_code: str | None = None

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]


@dataclass
class Outcome:
    letter: Letter
    status: str  # sent | failed_temporary | failed_permanent | skipped_sent | skipped_uncertain
    attempts: int = 0
    response: str = ""
    error: str = ""
    outbox_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def data_hash(ctx: dict[str, Any]) -> str:
    """sha256 of the figures a message is rendered from (not of the render time)."""

    def default(v: object) -> str:
        if isinstance(v, datetime | date):
            return v.isoformat()
        return str(v)

    payload = {k: v for k, v in ctx.items() if k != "issued_at"}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=default,
                                     ensure_ascii=False).encode()).hexdigest()


def message_id(week: str, kind: str, kabkota: str | None, lang: str, email: str,
               digest: str) -> str:
    """Stable for the same message and data, so a deliberate resend can be recognised."""
    key = "|".join([week, kind, kabkota or "", lang, email.lower(), digest])
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@siaga-pilkada.local>"


def address(message: EmailMessage, sender: str, r: Recipient, mid: str) -> EmailMessage:
    """Set the envelope headers of a rendered message for one recipient."""
    for h in ("From", "To", "Message-ID"):
        del message[h]
    message["From"] = sender
    message["To"] = formataddr((r.name, r.email))
    message["Message-ID"] = mid
    return message


class Transport(Protocol):
    name: str

    def send(self, letter: Letter) -> tuple[str, str | None]:
        """Deliver; return (server response, outbox path). Raise Temporary/PermanentFailure."""
        ...

    def close(self) -> None: ...


class OutboxTransport:
    """The default with no SMTP configured: one `.eml` per message, written atomically."""

    name = "outbox"

    def __init__(self, outbox: Path) -> None:
        self.root = outbox / "mail"

    def send(self, letter: Letter) -> tuple[str, str | None]:
        folder = self.root / letter.week
        folder.mkdir(parents=True, exist_ok=True)
        who = re.sub(r"[^a-z0-9]+", "-", letter.recipient.email.lower()).strip("-")
        parts = [letter.kind, letter.kabkota_code, letter.lang, who]
        path = folder / ("_".join(p for p in parts if p) + ".eml")
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_bytes(bytes(letter.message))
            tmp.replace(path)
        except OSError as exc:
            raise TemporaryFailure(f"outbox tidak dapat ditulis: {exc}") from exc
        return f"250 ditulis ke outbox {path.name}", str(path)

    def close(self) -> None:
        return None


def _classify(code: int, text: str) -> Exception:
    detail = f"{code} {text}".strip()
    return PermanentFailure(detail) if 500 <= code < 600 else TemporaryFailure(detail)


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


class SmtpTransport:
    """SMTP with STARTTLS, implicit TLS or none; one connection reused across messages."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings, timeout: float = 30) -> None:
        self.settings = settings
        self.timeout = timeout
        self._client: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.tls == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                                        context=self._context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
                if s.tls == "starttls":
                    client.starttls(context=self._context())
            if s.user:
                client.login(s.user, s.resolve_password() or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(f"login SMTP ditolak: {exc.smtp_code}") from exc
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, _text(exc.smtp_error)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"server SMTP {s.host}:{s.port} tidak dapat dihubungi: "
                                   f"{exc}") from exc
        return client

    def send(self, letter: Letter) -> tuple[str, str | None]:
        if self._client is None:
            self._client = self._connect()
        try:
            refused = self._client.send_message(letter.message,
                                                to_addrs=[letter.recipient.email])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _classify(code, _text(text)) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _classify(exc.smtp_code, _text(exc.smtp_error)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(f"koneksi SMTP terputus: {exc}") from exc
        if refused:
            code, text = next(iter(refused.values()))
            raise _classify(code, _text(text))
        return "250 diterima server", None

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._client.quit()
            self._client = None


def _key(letter: Letter) -> dict[str, Any]:
    return {"week": letter.week, "message_kind": letter.kind,
            "kabkota_code": letter.kabkota_code, "recipient_email": letter.recipient.email,
            "lang": letter.lang, "data_hash": letter.data_hash}


def deliver(con: duckdb.DuckDBPyConnection, letters: Sequence[Letter], transport: Transport,
            run_id: str, resend: bool = False,
            retry_delays: Sequence[float] = RETRY_DELAYS,
            sleep: Callable[[float], None] = time.sleep) -> list[Outcome]:
    """Send each letter at most once per week (unless `resend`), logging every attempt."""
    outcomes = []
    try:
        for letter in letters:
            prev = con.execute(sql("load/delivery_previous.sql"), _key(letter)).fetchall()
            if prev and not resend and prev[0][0] in ("sent", "sending"):
                status = "skipped_sent" if prev[0][0] == "sent" else "skipped_uncertain"
                outcomes.append(Outcome(letter, status))
                continue
            outcomes.append(_deliver_one(con, letter, transport, run_id, retry_delays, sleep))
    finally:
        transport.close()
    return outcomes


def _deliver_one(con: duckdb.DuckDBPyConnection, letter: Letter, transport: Transport,
                 run_id: str, retry_delays: Sequence[float],
                 sleep: Callable[[float], None]) -> Outcome:
    (delivery_id,) = con.execute(sql("load/delivery_start.sql"), {
        **_key(letter), "recipient_name": letter.recipient.name,
        "recipient_role": letter.recipient.role, "transport": transport.name,
        "message_id": letter.message_id, "run_id": run_id,
    }).fetchall()[0]
    outcome = Outcome(letter, "failed_temporary")
    for attempt in range(1, len(retry_delays) + 2):
        outcome.attempts = attempt
        try:
            outcome.response, outcome.outbox_path = transport.send(letter)
            outcome.status, outcome.error = "sent", ""
            fault_point("delivery-after-send")
            break
        except PermanentFailure as exc:
            outcome.status, outcome.error = "failed_permanent", str(exc)
            break
        except TemporaryFailure as exc:
            outcome.error = str(exc)
            if attempt <= len(retry_delays):
                sleep(retry_delays[attempt - 1])
    con.execute(sql("load/delivery_finish.sql"), {
        "delivery_id": delivery_id, "status": outcome.status, "smtp_response": outcome.response,
        "attempts": outcome.attempts, "error": outcome.error or None,
        "outbox_path": outcome.outbox_path,
    })
    return outcome

"""Delivery, exactly once: each message to each recipient is sent once per week unless resent.

Every attempt is recorded in `audit.delivery` *before* the message leaves (status `sending`) and
updated after, each in its own committed statement. A rerun skips what was `sent`; a row still
`sending` means the process died while the server had the message, so its fate is unknown: it is
reported, not resent (an official would rather miss a duplicate than get two).

Retries are not made here: one pass tries each message once, and the Prefect task that calls it
(`flows/bulletin.py`, `send-letters`) is retried with backoff while temporary failures (4xx,
dropped or refused connections, timeouts) remain; the log tells a retry what this run already
did. Each log write opens the warehouse briefly (under the warehouse lock, via `DeliveryLog`), so
no lock is held while waiting on an SMTP server. A server that cannot be reached at all stops the
pass at once: every message left is recorded failed with the reason, not tried one by one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import smtplib
import ssl
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any, Protocol

import duckdb

from tasks.config import SmtpSettings
from tasks.faults import fault_point
from tasks.publish.recipients import Recipient
from tasks.warehouse.database import sql

RETRY_DELAYS: tuple[int, ...] = (5, 30, 60)  # seconds before the 2nd, 3rd and 4th pass
CONNECT_TIMEOUT = 10.0  # seconds to connect, greet, STARTTLS and log in: a healthy relay needs <1
REPLY_TIMEOUT = 30.0  # seconds for any later reply (a large message's DATA on a slow relay)
IDLE_CHECK = 20.0  # seconds idle (e.g. waiting for the lock) after which the link is re-checked
NOT_TRIED = "tidak dicoba: "  # prefix of the error of a message the pass stopped before

log = logging.getLogger(__name__)

Logger = logging.Logger | logging.LoggerAdapter
DeliveryLog = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


class TemporaryFailure(Exception):
    """Worth retrying later: 4xx replies, refused or dropped connections, timeouts."""


class PermanentFailure(Exception):
    """Retrying will not help: 5xx replies such as an unknown mailbox or failed login."""


class ServerUnavailable(TemporaryFailure):
    """The SMTP host cannot be reached or does not answer (refused, no route, timeout, 4xx
    greeting): every message left would wait and fail the same way, so the pass stops."""


class ServerRefused(PermanentFailure):
    """The SMTP host refuses the session itself (failed login, 5xx greeting): trying the other
    messages would only repeat the refusal (and a failed login repeated may lock the account)."""


STOPS_PASS = (ServerUnavailable, ServerRefused)


class DeliveryIncomplete(TemporaryFailure):
    """Raised by the sending task while messages failed temporarily, so Prefect retries it (the
    outcomes themselves are in the log; the message says how many and why)."""

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> DeliveryIncomplete:
        reasons = Counter(_reason(o.error) for o in outcomes)
        why = "; ".join(f"{r} ({n}×)" for r, n in reasons.most_common(2))
        return cls(f"{len(outcomes)} pesan gagal sementara: {why}")


def _reason(error: str) -> str:
    return error.removeprefix(NOT_TRIED)


def only_temporary(task: object, task_run: object, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry a failed task only when what failed may work later
    (`TemporaryFailure`: 4xx, dropped or refused connection, timeout); a permanent failure, a
    task timeout or a bug is not retried."""
    try:
        state.result()
    except TemporaryFailure:
        return True
    except Exception:  # a permanent failure, a timeout, a bug: final
        return False
    return False


def warehouse_log(warehouse: Path, lock: Path, wait_seconds: float) -> DeliveryLog:
    """Each use opens the warehouse under the warehouse lock and closes both at once: the lock
    is held for one log write, never while a message travels."""
    from tasks.warehouse.database import connect
    from tasks.warehouse.lock import exclusive

    @contextmanager
    def session() -> Iterator[duckdb.DuckDBPyConnection]:
        with exclusive(lock, "Pengiriman buletin", wait_seconds=wait_seconds), \
                connect(warehouse) as con:
            yield con

    return session


def shared_log(con: duckdb.DuckDBPyConnection) -> DeliveryLog:
    """An open connection used for every log write (tests, and callers that hold the lock)."""
    return lambda: nullcontext(con)


@dataclass
class Letter:
    """One message for one recipient, with what identifies it in the delivery log."""

    week: str
    # bulletin | annex | failure_report | reply (to a desk's message, tasks.ingest.mailbox)
    kind: str
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
        # a reply answers one desk message: its name carries the message's digest
        parts = [letter.kind, letter.kabkota_code, letter.lang, who,
                 letter.data_hash[:12] if letter.kind == "reply" else None]
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


def _timed_out(exc: BaseException) -> bool:
    """A socket timeout, also when smtplib re-raised it as "Connection unexpectedly closed"."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


class SmtpTransport:
    """SMTP with STARTTLS, implicit TLS or none; one connection reused across messages.

    Reaching the server is bounded by `connect_timeout` (a host that accepts TCP and never
    greets must not hold a run for the general timeout times every retry); each later reply by
    `timeout`. Failing to reach or log in raises `ServerUnavailable`/`ServerRefused`, which stop
    the pass; a reply timeout during a message is also `ServerUnavailable`, since the next
    message would wait just as long.
    """

    name = "smtp"

    def __init__(self, settings: SmtpSettings, timeout: float | None = None,
                 connect_timeout: float | None = None) -> None:
        self.settings = settings
        self.timeout = REPLY_TIMEOUT if timeout is None else timeout
        self.connect_timeout = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        self._client: smtplib.SMTP | None = None
        self._used = 0.0

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        client: smtplib.SMTP | None = None
        try:
            if s.tls == "ssl":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=self.connect_timeout,
                                          context=self._context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=self.connect_timeout)
                if s.tls == "starttls":
                    client.starttls(context=self._context())
            if s.user:
                client.login(s.user, s.resolve_password() or "")
        except BaseException as exc:
            if client is not None:
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    client.close()
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                raise ServerRefused(f"login SMTP ditolak: {exc.smtp_code}") from exc
            if isinstance(exc, smtplib.SMTPResponseException):
                detail = f"server SMTP {self.where} menolak sesi: {exc.smtp_code} " \
                         f"{_text(exc.smtp_error)}"
                kind = ServerRefused if 500 <= exc.smtp_code < 600 else ServerUnavailable
                raise kind(detail) from exc
            if _timed_out(exc):
                raise ServerUnavailable(f"server SMTP {self.where} tidak menjawab dalam "
                                        f"{self.connect_timeout:g} detik") from exc
            if isinstance(exc, OSError | smtplib.SMTPException):
                raise ServerUnavailable(f"server SMTP {self.where} tidak dapat dihubungi: "
                                        f"{exc}") from exc
            raise
        if client.sock is not None:
            client.sock.settimeout(self.timeout)
        client.timeout = self.timeout
        return client

    def _ready(self) -> smtplib.SMTP:
        """The open connection, checked with NOOP after a pause (the server may have closed
        it while the log waited for the lock), else a new one."""
        if self._client is not None and time.monotonic() - self._used > IDLE_CHECK:
            try:
                self._client.noop()
            except (OSError, smtplib.SMTPException):
                self.close()
        if self._client is None:
            self._client = self._connect()
        return self._client

    def send(self, letter: Letter) -> tuple[str, str | None]:
        client = self._ready()
        try:
            refused = client.send_message(letter.message, to_addrs=[letter.recipient.email])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _classify(code, _text(text)) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _classify(exc.smtp_code, _text(exc.smtp_error)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            if _timed_out(exc):
                raise ServerUnavailable(f"server SMTP {self.where} tidak menjawab dalam "
                                        f"{self.timeout:g} detik") from exc
            raise TemporaryFailure(f"koneksi SMTP terputus: {exc}") from exc
        finally:
            self._used = time.monotonic()
        if refused:
            code, text = next(iter(refused.values()))
            raise _classify(code, _text(text))
        return "250 diterima server", None

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._client.quit()
            with contextlib.suppress(OSError):
                self._client.close()
            self._client = None


def _key(letter: Letter) -> dict[str, Any]:
    return {"week": letter.week, "message_kind": letter.kind,
            "kabkota_code": letter.kabkota_code, "recipient_email": letter.recipient.email,
            "lang": letter.lang, "data_hash": letter.data_hash}


@dataclass
class _Row:
    """The latest log row of a letter (sql/load/delivery_latest.sql)."""

    delivery_id: int
    status: str
    run_id: str | None
    attempts: int
    smtp_response: str | None
    error: str | None
    outbox_path: str | None


def _latest(con: duckdb.DuckDBPyConnection, letter: Letter) -> _Row | None:
    rows = con.execute(sql("load/delivery_latest.sql"), _key(letter)).fetchall()
    return _Row(*rows[0]) if rows else None


def _settled(letter: Letter, row: _Row | None, run_id: str, resend: bool,
             final: bool = False) -> Outcome | None:
    """What the log already decides for `letter` in run `run_id`, or None when it is to be
    sent now. With `final` (the run is over), a letter still to be sent was never tried.

    A row of this same run is a Prefect retry's memory: sent or permanently failed stays so, a
    temporary failure is tried again, `sending` means this run lost track mid-send (uncertain).
    Rows of earlier runs: `sent` is skipped and `sending` is uncertain, unless `resend`.
    """
    if row is not None and row.run_id == run_id:
        status = "skipped_uncertain" if row.status == "sending" else row.status
        if status != "failed_temporary" or final:
            return Outcome(letter, status, row.attempts, row.smtp_response or "",
                           row.error or "", row.outbox_path)
        return None
    if row is not None and not resend and row.status in ("sent", "sending"):
        return Outcome(letter, "skipped_sent" if row.status == "sent" else "skipped_uncertain")
    if final:
        return Outcome(letter, "failed_temporary",
                       error=NOT_TRIED + "pengiriman terhenti sebelum pesan ini")
    return None


def _begin(con: duckdb.DuckDBPyConnection, letter: Letter, row: _Row | None, transport: str,
           run_id: str) -> tuple[int, int]:
    """Commit the `sending` row (a new one, or this run's temporarily failed one); return its
    id and the attempts made so far."""
    if row is not None and row.run_id == run_id:
        con.execute(sql("load/delivery_retry.sql"), {"delivery_id": row.delivery_id})
        return row.delivery_id, row.attempts
    (delivery_id,) = con.execute(sql("load/delivery_start.sql"), {
        **_key(letter), "recipient_name": letter.recipient.name,
        "recipient_role": letter.recipient.role, "transport": transport,
        "message_id": letter.message_id, "run_id": run_id,
    }).fetchall()[0]
    return delivery_id, 0


def _finish(con: duckdb.DuckDBPyConnection, delivery_id: int, outcome: Outcome) -> None:
    con.execute(sql("load/delivery_finish.sql"), {
        "delivery_id": delivery_id, "status": outcome.status, "smtp_response": outcome.response,
        "attempts": outcome.attempts, "error": outcome.error or None,
        "outbox_path": outcome.outbox_path,
    })


def describe(letter: Letter) -> str:
    """A letter in a log line: what, for whom (role, name, address; addresses are the
    officials' work addresses from the registry, and the data team needs them to follow up)."""
    what = f"{letter.kind} {letter.kabkota_code}" if letter.kabkota_code else letter.kind
    r = letter.recipient
    return f"{what} ({letter.lang}) untuk {r.role} {r.name} <{r.email}>"


def _say(logger: Logger, o: Outcome) -> None:
    if o.status == "sent":
        logger.info("terkirim: %s; %s (percobaan %d)", describe(o.letter), o.response,
                    o.attempts)
    else:
        label = "gagal permanen" if o.status == "failed_permanent" else "gagal sementara"
        logger.warning("%s: %s; %s (percobaan %d)", label, describe(o.letter), o.error,
                       o.attempts)


def _attempt(letter: Letter, transport: Transport,
             attempts: int) -> tuple[Outcome, Exception | None]:
    outcome = Outcome(letter, "failed_temporary", attempts=attempts)
    try:
        outcome.response, outcome.outbox_path = transport.send(letter)
    except PermanentFailure as exc:
        outcome.status, outcome.error = "failed_permanent", str(exc)
        return outcome, exc
    except TemporaryFailure as exc:
        outcome.error = str(exc)
        return outcome, exc
    outcome.status = "sent"
    fault_point("delivery-after-send")
    return outcome, None


def _give_up(session: DeliveryLog, letters: Sequence[Letter], transport: str, run_id: str,
             resend: bool, cause: Exception) -> list[Outcome]:
    """Record every letter left as failed with `cause`, untried, in one short transaction."""
    status = "failed_permanent" if isinstance(cause, PermanentFailure) else "failed_temporary"
    outcomes = []
    with session() as con:
        con.begin()
        try:
            for letter in letters:
                row = _latest(con, letter)
                done = _settled(letter, row, run_id, resend)
                if done is None:
                    attempts = row.attempts if row is not None and row.run_id == run_id else 0
                    done = Outcome(letter, status, attempts, error=NOT_TRIED + str(cause))
                    if row is not None and row.run_id == run_id:
                        delivery_id = row.delivery_id
                    else:
                        delivery_id, _ = _begin(con, letter, row, transport, run_id)
                    _finish(con, delivery_id, done)
                outcomes.append(done)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return outcomes


def deliver(log_to: duckdb.DuckDBPyConnection | DeliveryLog, letters: Sequence[Letter],
            transport: Transport, run_id: str, resend: bool = False,
            logger: Logger | None = None) -> list[Outcome]:
    """Try each letter once (unless already settled: sent, uncertain, or this run's permanent
    failure), logging every attempt; a server that cannot be reached stops the pass.

    `log_to` is an open connection or a `DeliveryLog` that opens one per write. Called again
    with the same `run_id` (a Prefect retry), it carries on from the log: what was sent stays
    sent and only temporary failures are tried again.
    """
    session = shared_log(log_to) if isinstance(log_to, duckdb.DuckDBPyConnection) else log_to
    say = logger or log
    outcomes: list[Outcome] = []
    try:
        for i, letter in enumerate(letters):
            with session() as con:
                row = _latest(con, letter)
                done = _settled(letter, row, run_id, resend)
                if done is None:
                    delivery_id, attempts = _begin(con, letter, row, transport.name, run_id)
            if done is not None:
                if done.status == "skipped_uncertain":
                    say.warning("tidak dikirim ulang, hasil pengiriman sebelumnya tidak "
                                "diketahui: %s (kirim dengan --resend bila perlu)",
                                describe(letter))
                outcomes.append(done)
                continue
            outcome, exc = _attempt(letter, transport, attempts + 1)
            with session() as con:
                _finish(con, delivery_id, outcome)
            _say(say, outcome)
            outcomes.append(outcome)
            if isinstance(exc, STOPS_PASS):
                rest = _give_up(session, letters[i + 1:], transport.name, run_id, resend, exc)
                untried = [o for o in rest if o.error.startswith(NOT_TRIED)]
                if untried:
                    say.error("pengiriman dihentikan: %s; %d pesan sisa dicatat %s tanpa dicoba",
                              exc, len(untried), untried[0].status)
                outcomes += rest
                break
    finally:
        transport.close()
    skipped = sum(o.status == "skipped_sent" for o in outcomes)
    if skipped:
        say.info("%d pesan sudah terkirim sebelumnya, tidak dikirim lagi", skipped)
    return outcomes


def settle(log_to: duckdb.DuckDBPyConnection | DeliveryLog, letters: Sequence[Letter],
           run_id: str, resend: bool = False) -> list[Outcome]:
    """The final outcome of each letter in run `run_id`, read from the log in one short read,
    whatever stopped the sending task (a timeout, a lock, a crash); a letter the run never
    reached counts as a temporary failure that was not tried."""
    session = shared_log(log_to) if isinstance(log_to, duckdb.DuckDBPyConnection) else log_to
    outcomes = []
    with session() as con:
        for letter in letters:
            done = _settled(letter, _latest(con, letter), run_id, resend, final=True)
            outcomes.append(done or Outcome(letter, "failed_temporary", error=NOT_TRIED))
    return outcomes

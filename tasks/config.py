"""Settings from the environment (architecture §8) and an optional `pilkada.toml`.

The environment wins over the file so that a scheduled deployment can override a checked-in
default without editing it. Paths are resolved against the working directory.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

from tasks.contract.regions import check_scope
from tasks.resources import CONFIG_DIR

WITA = ZoneInfo("Asia/Makassar")
# Reporting weeks a submission may be for: candidate registration (27–29 Aug 2024, W35) to the
# end of the results' recapitulation and disputes (early January 2025). PILKADA_CALENDAR overrides.
CAMPAIGN_CALENDAR = ("2024-W35", "2025-W02")
ARRIVAL_CLOCKS = ("storage", "mtime")
VOTING_DAY = date(2024, 11, 27)
# Kab/kota where some TPS are reached only by river (reference README).
RIVER_KABKOTA = frozenset({"6407", "6408", "6411"})


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    tls: str  # starttls | ssl | none
    sender: str
    ca_file: str | None = None  # a private CA to trust (default: the system's)
    password_block: str | None = None  # name of a Prefect Secret block holding the password

    def resolve_password(self) -> str | None:
        """The password from the environment, else from the Prefect Secret block (read only
        when needed, so no secret is loaded, logged or stored unless a login happens)."""
        if self.password or not self.password_block:
            return self.password
        from prefect.blocks.system import Secret

        return Secret.load(self.password_block).get()


# Every 15 minutes in working hours (WITA) when a mailbox is configured: at :15, :30 and :45, since
# the hourly ingest already runs on the hour (flows/deployments.py). PILKADA_MAIL_CRON overrides.
MAIL_CRON = "15,30,45 7-17 * * 1-6"


@dataclass(frozen=True)
class ImapSettings:
    """The desks' mailbox (issue 22): optional; without it only the folder inbox is read."""

    host: str
    port: int
    user: str
    password: str | None = field(repr=False)
    tls: str  # ssl | starttls | none
    folder: str = "INBOX"
    ca_file: str | None = None
    password_block: str | None = None  # name of a Prefect Secret block holding the password
    max_message_bytes: int = 60 * 1024 * 1024  # larger messages are set aside unread
    cron: str = MAIL_CRON

    def resolve_password(self) -> str:
        """As `SmtpSettings.resolve_password`: the Secret block is read only when logging in."""
        if self.password or not self.password_block:
            return self.password or ""
        from prefect.blocks.system import Secret

        return Secret.load(self.password_block).get()


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    inbox: str
    archive: Path
    outbox: Path
    province: str
    deadline_weekday: int  # 0 = Monday … 5 = Saturday
    deadline_time: time
    max_file_bytes: int
    max_rows: int
    smtp: SmtpSettings | None
    recipients: Path
    arrival: str = "storage"  # storage | mtime (replaying a recorded campaign: docs/operations.md)
    calendar: tuple[str, str] = CAMPAIGN_CALENDAR  # first and last reporting week accepted
    imap: ImapSettings | None = None  # the desks' mailbox, pulled before the folder
    # where parse + validation batches run: None in-process, "local" a local Dask cluster of
    # processes, "tcp://host:8786" an existing Dask scheduler (flows/runners.py)
    dask_address: str | None = None

    @property
    def lock_path(self) -> Path:
        return self.warehouse.with_suffix(".lock")


def _file_config() -> dict[str, str]:
    path = Path(os.environ.get("PILKADA_CONFIG", "pilkada.toml"))
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        data = tomllib.load(f)
    return {f"PILKADA_{k.upper()}": str(v) for k, v in data.items()}


def load_settings() -> Settings:
    """Read settings now (not at import), so tests and flows can change the environment."""
    env = {**_file_config(), **{k: v for k, v in os.environ.items() if k.startswith("PILKADA_")}}
    warehouse = Path(env.get("PILKADA_WAREHOUSE", "data/warehouse.duckdb"))
    smtp = None
    if env.get("PILKADA_SMTP_HOST"):
        tls = env.get("PILKADA_SMTP_TLS", "starttls").lower()
        smtp = SmtpSettings(
            host=env["PILKADA_SMTP_HOST"],
            port=int(env.get("PILKADA_SMTP_PORT", "465" if tls == "ssl" else "587")),
            user=env.get("PILKADA_SMTP_USER") or None,
            password=env.get("PILKADA_SMTP_PASSWORD") or None,
            tls=tls,
            sender=env.get("PILKADA_SMTP_FROM", "desk-pilkada@localhost"),
            ca_file=env.get("PILKADA_SMTP_CA_FILE") or None,
            password_block=env.get("PILKADA_SMTP_PASSWORD_BLOCK") or None,
        )
        if smtp.tls not in ("starttls", "ssl", "none"):
            raise ValueError(f"PILKADA_SMTP_TLS='{smtp.tls}' harus starttls, ssl, atau none")
    hh, mm = env.get("PILKADA_DEADLINE_TIME", "12:00").split(":")
    arrival = env.get("PILKADA_ARRIVAL", "storage").strip().lower()
    if arrival not in ARRIVAL_CLOCKS:
        raise ValueError(f"PILKADA_ARRIVAL='{arrival}' harus salah satu dari: "
                         + ", ".join(ARRIVAL_CLOCKS))
    return Settings(
        warehouse=warehouse,
        inbox=env.get("PILKADA_INBOX", "data/inbox"),
        archive=Path(env.get("PILKADA_ARCHIVE", str(warehouse.parent / "archive"))),
        outbox=Path(env.get("PILKADA_OUTBOX", "data/outbox")),
        province=check_scope(env.get("PILKADA_PROVINCE", "64")),
        deadline_weekday=int(env.get("PILKADA_DEADLINE_WEEKDAY", "5")),
        deadline_time=time(int(hh), int(mm)),
        max_file_bytes=int(env.get("PILKADA_MAX_FILE_BYTES", str(20 * 1024 * 1024))),
        max_rows=int(env.get("PILKADA_MAX_ROWS", "200000")),
        smtp=smtp,
        recipients=Path(env.get("PILKADA_RECIPIENTS", str(CONFIG_DIR / "recipients.toml"))),
        arrival=arrival,
        calendar=_calendar(env.get("PILKADA_CALENDAR")),
        imap=_imap(env),
        dask_address=env.get("PILKADA_DASK_ADDRESS", "").strip() or None,
    )


def _imap(env: dict[str, str]) -> ImapSettings | None:
    """The mailbox from PILKADA_IMAP_*, or None when PILKADA_IMAP_HOST is not set."""
    if not env.get("PILKADA_IMAP_HOST"):
        return None
    tls = env.get("PILKADA_IMAP_TLS", "ssl").strip().lower()
    if tls not in ("ssl", "starttls", "none"):
        raise ValueError(f"PILKADA_IMAP_TLS='{tls}' harus ssl, starttls, atau none")
    if not env.get("PILKADA_IMAP_USER"):
        raise ValueError("PILKADA_IMAP_USER wajib diisi bila PILKADA_IMAP_HOST diatur")
    return ImapSettings(
        host=env["PILKADA_IMAP_HOST"],
        port=int(env.get("PILKADA_IMAP_PORT", "993" if tls == "ssl" else "143")),
        user=env["PILKADA_IMAP_USER"],
        password=env.get("PILKADA_IMAP_PASSWORD") or None,
        tls=tls,
        folder=env.get("PILKADA_IMAP_FOLDER", "INBOX"),
        ca_file=env.get("PILKADA_IMAP_CA_FILE") or None,
        password_block=env.get("PILKADA_IMAP_PASSWORD_BLOCK") or None,
        max_message_bytes=int(env.get("PILKADA_IMAP_MAX_MESSAGE_BYTES", str(60 * 1024 * 1024))),
        cron=env.get("PILKADA_MAIL_CRON", MAIL_CRON),
    )


def _calendar(spec: str | None) -> tuple[str, str]:
    """`2024-W35:2025-W02` → the first and last week a submission may be for."""
    from tasks.weeks import parse_week

    if not spec:
        return CAMPAIGN_CALENDAR
    first, _, last = spec.strip().partition(":")
    first, last = first.strip().upper(), (last or first).strip().upper()
    for label in (first, last):
        parse_week(label)  # ValueError with the reason, in Indonesian
    if parse_week(last) < parse_week(first):
        raise ValueError(f"PILKADA_CALENDAR='{spec}': minggu akhir sebelum minggu awal")
    return first, last

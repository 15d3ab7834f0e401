"""Settings from the environment (architecture §8) and an optional `pilkada.toml`.

The environment wins over the file so that a scheduled deployment can override a checked-in
default without editing it. Paths are resolved against the working directory.

`Environment` is the documented surface: one field per `PILKADA_*` variable (README
"Configuration"), parsed and checked by pydantic-settings, so a bad value is refused when the
settings are read, with one line that names the variable. `Settings` is what the pipeline
carries: plain frozen dataclasses (picklable for Dask workers, `dataclasses.replace` for a
changed copy). Of the project this module imports only `tasks.resources`: the checks that need
the region reference or the week calendar (`check_scope`, `check_calendar`) run where those
rules live, and the CLI runs them when it reads the settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tasks.resources import CONFIG_DIR

WITA = ZoneInfo("Asia/Makassar")
# Reporting weeks a submission may be for: candidate registration (27–29 Aug 2024, W35) to the
# end of the results' recapitulation and disputes (early January 2025). PILKADA_CALENDAR overrides.
CAMPAIGN_CALENDAR = ("2024-W35", "2025-W02")
VOTING_DAY = date(2024, 11, 27)
# Kab/kota where some TPS are reached only by river (reference README).
RIVER_KABKOTA = frozenset({"6407", "6408", "6411"})
# Every 15 minutes in working hours (WITA) when a mailbox is configured: at :15, :30 and :45, since
# the hourly ingest already runs on the hour (flows/deployments.py). PILKADA_MAIL_CRON overrides.
MAIL_CRON = "15,30,45 7-17 * * 1-6"
PREFIX = "PILKADA_"


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message is one line naming the variable."""


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
    # when a week's reports are due; None = the contract's Saturday 12:00 (tasks/weeks.py)
    deadline_weekday: int | None  # 0 = Monday … 6 = Sunday
    deadline_time: time | None
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


def _lower(v: Any) -> Any:
    return v.strip().lower() if isinstance(v, str) else v


class Environment(BaseSettings):
    """Every `PILKADA_*` setting as documented in the README (field = variable without the
    prefix; the same keys in `pilkada.toml`). A value that is unset or empty means the default;
    `None` means "not configured"."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, extra="ignore",
                                      coerce_numbers_to_str=True, frozen=True)

    warehouse: Path = Path("data/warehouse.duckdb")
    inbox: str = "data/inbox"
    archive: Path | None = None  # default: <warehouse dir>/archive
    outbox: Path = Path("data/outbox")
    # a province code or `all`; whether that code exists is reference.check_scope's to say
    province: str = "64"
    # unset: the contract's deadline, weeks.DEADLINE_WEEKDAY and DEADLINE_TIME (Saturday 12:00)
    deadline_weekday: int | None = Field(None, ge=0, le=6)  # 0 = Monday … 6 = Sunday
    deadline_time: time | None = None
    max_file_bytes: int = Field(20 * 1024 * 1024, ge=1)
    max_rows: int = Field(200_000, ge=1)
    # `pilkada query`'s bounds; tasks/query.QueryLimits says what a usable value is
    query_timeout: float | None = None
    query_memory: str | None = None
    query_max_rows: int | None = None
    alert_webhook_url: str | None = None
    alert_webhook_block: str | None = None
    calendar: str | None = None  # `2024-W35:2025-W02`; weeks.check_calendar judges the weeks
    arrival: Literal["storage", "mtime"] = "storage"
    dask_address: str | None = None
    recipients: Path = CONFIG_DIR / "recipients.toml"
    smtp_host: str | None = None
    smtp_port: int | None = Field(None, ge=1, le=65535)  # default 465 with ssl, else 587
    smtp_user: str | None = None
    smtp_password: str | None = Field(None, repr=False)
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_from: str = "desk-pilkada@localhost"
    smtp_ca_file: str | None = None
    smtp_password_block: str | None = None
    imap_host: str | None = None
    imap_port: int | None = Field(None, ge=1, le=65535)  # default 993 with ssl, else 143
    imap_user: str | None = None
    imap_password: str | None = Field(None, repr=False)
    imap_password_block: str | None = None
    imap_tls: Literal["ssl", "starttls", "none"] = "ssl"
    imap_folder: str = "INBOX"
    imap_ca_file: str | None = None
    imap_max_message_bytes: int = Field(60 * 1024 * 1024, ge=1)
    mail_cron: str = MAIL_CRON

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment first, then `pilkada.toml` (or the file PILKADA_CONFIG names), read
        when the settings are (not at import), so tests and flows can change either."""
        toml = Path(os.environ.get("PILKADA_CONFIG", "pilkada.toml"))
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml)

    @field_validator("province", "arrival", "smtp_tls", "imap_tls", mode="before")
    @classmethod
    def _words(cls, v: Any) -> Any:
        return _lower(v)

    @field_validator("deadline_time", mode="before")
    @classmethod
    def _clock(cls, v: Any) -> Any:
        """`12:00` or `9:30` (hours and minutes, as documented)."""
        if not isinstance(v, str):
            return v
        hh, sep, mm = v.strip().partition(":")
        if not (sep and hh.isdigit() and mm.isdigit()):
            raise ValueError("tulis jam:menit, mis. 12:00 (expected HH:MM)")
        return time(int(hh), int(mm))

    @field_validator("mail_cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        """Checked by the cron parser Prefect schedules with; the default needs no check (and
        no import of Prefect)."""
        if v != MAIL_CRON:
            from prefect._internal.schemas.validators import validate_cron_string

            validate_cron_string(v)
        return v

    def to_settings(self) -> Settings:
        """The settings the pipeline carries, with the defaults that depend on other values."""
        smtp = None
        if self.smtp_host:
            smtp = SmtpSettings(
                host=self.smtp_host,
                port=self.smtp_port or (465 if self.smtp_tls == "ssl" else 587),
                user=self.smtp_user, password=self.smtp_password, tls=self.smtp_tls,
                sender=self.smtp_from, ca_file=self.smtp_ca_file,
                password_block=self.smtp_password_block)
        imap = None
        if self.imap_host:
            if not self.imap_user:
                raise SettingsError("PILKADA_IMAP_USER wajib diisi bila PILKADA_IMAP_HOST diatur")
            imap = ImapSettings(
                host=self.imap_host,
                port=self.imap_port or (993 if self.imap_tls == "ssl" else 143),
                user=self.imap_user, password=self.imap_password, tls=self.imap_tls,
                folder=self.imap_folder, ca_file=self.imap_ca_file,
                password_block=self.imap_password_block,
                max_message_bytes=self.imap_max_message_bytes, cron=self.mail_cron)
        return Settings(
            warehouse=self.warehouse,
            inbox=self.inbox,
            archive=self.archive or self.warehouse.parent / "archive",
            outbox=self.outbox,
            province=self.province,
            deadline_weekday=self.deadline_weekday,
            deadline_time=self.deadline_time,
            max_file_bytes=self.max_file_bytes,
            max_rows=self.max_rows,
            smtp=smtp,
            recipients=self.recipients,
            arrival=self.arrival,
            calendar=_calendar(self.calendar),
            imap=imap,
            dask_address=(self.dask_address or "").strip() or None,
        )


def _calendar(spec: str | None) -> tuple[str, str]:
    """`2024-W35:2025-W02` → the first and last week labels (`weeks.check_calendar` judges
    them); one week alone means that week only."""
    if not spec:
        return CAMPAIGN_CALENDAR
    first, _, last = spec.strip().partition(":")
    return first.strip().upper(), (last or first).strip().upper()


def read_environment() -> Environment:
    """The documented variables, read now; a bad value raises SettingsError (one line)."""
    try:
        return Environment()
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None
    except ValueError as exc:  # pilkada.toml that is not TOML
        path = os.environ.get("PILKADA_CONFIG", "pilkada.toml")
        raise SettingsError(f"{path} tidak dapat dibaca: {exc}".replace("\n", " ")) from None


def _one_line(exc: ValidationError) -> str:
    """`PILKADA_SMTP_PORT='abc' tidak valid: Input should be a valid integer …`, every bad
    variable in one line (pydantic's reason is English; the frame around it Indonesian)."""
    parts = []
    for e in exc.errors(include_url=False):
        name = PREFIX + "_".join(str(p) for p in e["loc"]).upper()
        reason = e["msg"].removeprefix("Value error, ")
        parts.append(f"{name}={e['input']!r} tidak valid: {reason}")
    return "; ".join(parts).replace("\n", " ")


def load_settings() -> Settings:
    """Read settings now (not at import), so tests and flows can change the environment."""
    return read_environment().to_settings()

"""Configuration: every documented variable is a setting, and a bad value ends the command in one
line that names it (exit code 2), never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tasks.config import Environment, SettingsError, load_settings
from tests import REPO

BIN = Path(sys.executable).parent


def _documented() -> set[str]:
    """The variables of README's Configuration table; `_PORT` after `PILKADA_SMTP_HOST` is
    `PILKADA_SMTP_PORT`."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    table = section[section.index("| variable"):].split("\n\n", 1)[0]
    names: set[str] = set()
    for row in table.splitlines()[2:]:
        base = ""
        for token in re.findall(r"`([A-Z_]+)`", row.split("|")[1]):
            if token.startswith("PILKADA_"):
                names.add(token)
                base = token.rsplit("_", 1)[0]
            elif token.startswith("_") and base:
                names.add(base + token)
    return names


def test_every_documented_variable_is_a_setting_and_every_setting_is_documented():
    fields = {"PILKADA_" + name.upper() for name in Environment.model_fields}
    documented = _documented()
    assert len(documented) > 30
    assert documented == fields


@pytest.fixture
def clean_env(tmp_path, monkeypatch) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith("PILKADA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PILKADA_CONFIG", str(tmp_path / "no-pilkada.toml"))
    monkeypatch.setenv("PILKADA_WAREHOUSE", str(tmp_path / "w.duckdb"))
    return dict(os.environ)


STATUS, QUERY, INGEST = ["status"], ["query", "select 1"], ["ingest"]


@pytest.mark.parametrize(("name", "value", "command"), [
    ("PILKADA_SMTP_PORT", "abc", INGEST),
    ("PILKADA_IMAP_PORT", "99999", STATUS),
    ("PILKADA_MAX_ROWS", "banyak", QUERY),
    ("PILKADA_PROVINCE", "99", INGEST),
    ("PILKADA_DEADLINE_WEEKDAY", "7", STATUS),
    ("PILKADA_DEADLINE_TIME", "siang", STATUS),
    ("PILKADA_ARRIVAL", "kemarin", INGEST),
    ("PILKADA_SMTP_TLS", "tls1.3", STATUS),
    ("PILKADA_CALENDAR", "2024-W48:2024-W40", INGEST),
    ("PILKADA_CALENDAR", "2024-W60", STATUS),
    ("PILKADA_MAIL_CRON", "tiap jam", STATUS),
    ("PILKADA_QUERY_TIMEOUT", "lama", QUERY),
])
def test_a_bad_value_ends_the_command_in_one_line_naming_it(clean_env, name, value, command):
    done = subprocess.run([str(BIN / "pilkada"), *command], env={**clean_env, name: value},
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("Gagal: konfigurasi: ") and f"{name}=" in lines[0]
    assert repr(value) in lines[0] or value in lines[0]


def test_the_file_sets_what_the_environment_does_not(clean_env, tmp_path, monkeypatch):
    toml = tmp_path / "pilkada.toml"
    toml.write_text('warehouse = "file/w.duckdb"\nsmtp_host = "mail.example"\nsmtp_tls = "SSL"\n'
                    'province = 64\nmax_rows = 10\nlain = "diabaikan"\n', encoding="utf-8")
    monkeypatch.setenv("PILKADA_CONFIG", str(toml))
    monkeypatch.delenv("PILKADA_WAREHOUSE")
    monkeypatch.setenv("PILKADA_MAX_ROWS", "20")
    s = load_settings()
    assert s.warehouse == Path("file/w.duckdb") and s.archive == Path("file/archive")
    assert s.smtp is not None and (s.smtp.tls, s.smtp.port) == ("ssl", 465)
    assert s.province == "64" and s.max_rows == 20  # the environment wins
    toml.write_text("max_rows = [", encoding="utf-8")
    with pytest.raises(SettingsError, match="tidak dapat dibaca"):
        load_settings()


def test_settings_are_plain_frozen_values(clean_env):
    s = load_settings()
    assert replace(s, inbox="lain").inbox == "lain" and s.inbox == "data/inbox"
    assert s.smtp is None and s.imap is None and s.dask_address is None

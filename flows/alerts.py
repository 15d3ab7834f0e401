"""Alerting that does not depend on the mail: Prefect automations that call a webhook.

The bulletin's own delivery is e-mail, so "the mail failed" must be heard some other way. The
rules live in `config/automations.yaml` (code, reviewed like code); `pilkada serve` installs them
on its Prefect server with `install()`, and the Prefect server evaluates them and makes the
webhook calls itself. That is deliberate: a run that crashed, or one that nobody picked up
because `serve` is down, cannot report on itself, but the server that holds its state can.

Configuration (environment, or `pilkada.toml` without the prefix):

- `PILKADA_ALERT_WEBHOOK_URL`: the receiver (a generic JSON webhook; Slack and Teams incoming
  webhooks read its `text` field). `install()` saves it in a Prefect Webhook block.
- `PILKADA_ALERT_WEBHOOK_BLOCK`: the name of that block (default `pilkada-alert`). Set only the
  name to use a block made by hand (UI or `Webhook(...).save(...)`), so the URL, which usually
  carries a secret token, never sits in the environment of `serve`.

Without either, `install()` removes the rules it manages, so that "alerts are off" is true.

Run as `python -m flows.alerts` to install the rules on the server of PREFECT_API_URL without
`serve` (deployments run by workers from prefect.yaml).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from tasks.resources import CONFIG_DIR

if TYPE_CHECKING:
    from prefect.automations import Automation
    from prefect.client.orchestration import SyncPrefectClient

CONFIG = CONFIG_DIR / "automations.yaml"
DEFAULT_BLOCK = "pilkada-alert"
URL_VAR, BLOCK_VAR = "PILKADA_ALERT_WEBHOOK_URL", "PILKADA_ALERT_WEBHOOK_BLOCK"
MANAGED_TAG = "siaga-pilkada"  # the automations install() owns, found again by this tag

# Names every rule's `message` may use, read from the event that fired the rule (its labels, not
# API look-ups: the event carries the run's name and state message as they were at that moment,
# and the run may be gone or changed by the time the action renders).
_PREAMBLE = (
    '{% set run_name = event.resource.name | default("?", true) %}'
    '{% set run_id = event.resource.id | replace("prefect.flow-run.", "") %}'
    '{% set state_name = event.resource["prefect.state-name"] | default("?", true) %}'
    '{% set reason = event.resource["prefect.state-message"] | default("(tanpa pesan)", true)'
    ' | truncate(1500) %}'
    '{% set flow_name = event.resource_in_role["flow"].name | default("?", true) %}'
    '{% set deployment_name = event.resource_in_role["deployment"].name'
    ' | default("-", true) %}'
)


class AlertConfigError(RuntimeError):
    """Alerting is asked for but cannot be set up; the message says what to do."""


@dataclass(frozen=True)
class AlertStatus:
    """What `install()` did, for the one line `serve` prints."""

    enabled: bool
    block: str | None = None
    receiver: str | None = None  # scheme://host of the webhook, never its path or token
    names: tuple[str, ...] = ()
    removed: int = 0

    def line(self) -> str:
        """One line in Bahasa Indonesia that claims only what is set up: no call has been made
        yet, so it says where a webhook *will* go and when."""
        if not self.enabled:
            gone = (f" ({self.removed} automation lama dihapus)" if self.removed else "")
            return (f"Alert mati: {URL_VAR} tidak diatur, jadi run yang gagal, terlambat, atau "
                    f"buletin yang belum selesai tidak diberitahukan ke siapa pun{gone}.")
        return (f"Alert aktif: webhook akan dikirim ke {self.receiver} (blok Prefect "
                f"'{self.block}') bila run gagal/crash, run terjadwal terlambat, atau buletin "
                f"Senin belum selesai 07:30 WITA ({len(self.names)} automation).")


def alert_env() -> dict[str, str]:
    """PILKADA_ALERT_* from `pilkada.toml` and the environment (the environment wins)."""
    from tasks.config import _file_config

    env = {**_file_config(), **os.environ}
    return {k: env[k].strip() for k in (URL_VAR, BLOCK_VAR) if env.get(k, "").strip()}


def receiver_of(url: str) -> str:
    """Where a webhook goes, without the path or query that carry its secret (Slack and Teams
    put the token in the path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "(URL tidak valid)"


def load_rules(path: Path = CONFIG) -> list[dict[str, Any]]:
    """The rules as written in the YAML file (name, description, trigger, message)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = data.get("automations") if isinstance(data, dict) else None
    if not rules:
        raise AlertConfigError(f"{path} tidak berisi daftar `automations`.")
    return rules


def payload_template(message: str, rule_name: str, ui_url: str | None) -> str:
    """The Jinja template of the webhook body: one JSON object, built with `tojson` so a state
    message with quotes or new lines can never break the JSON."""
    ui = json.dumps(ui_url.rstrip("/") if ui_url else "")
    return (
        _PREAMBLE
        + f"{{% set ui = {ui} %}}"
        + "{% set text %}" + message.strip() + "{% endset %}"
        + '{{ {"text": text | trim, "kejadian": ' + json.dumps(rule_name)
        + ', "flow_run": run_name, "flow_run_id": run_id, "flow": flow_name,'
        ' "deployment": deployment_name, "state": state_name, "alasan": reason,'
        ' "ui": (ui ~ "/runs/flow-run/" ~ run_id) if ui else ""} | tojson }}'
    )


def build(block_id: Any, ui_url: str | None = None, path: Path = CONFIG) -> list[Automation]:
    """The automations of `path`, each calling the webhook block `block_id` once per firing."""
    from prefect.automations import Automation, CallWebhook, EventTrigger

    out = []
    for rule in load_rules(path):
        out.append(Automation(
            name=rule["name"],
            description=" ".join(str(rule.get("description", "")).split()),
            enabled=True,
            tags=[MANAGED_TAG],
            trigger=EventTrigger.model_validate(rule["trigger"]),
            actions=[CallWebhook(block_document_id=block_id,
                                 payload=payload_template(rule["message"], rule["name"], ui_url))],
        ))
    return out


def _managed(client: SyncPrefectClient, names: set[str]) -> list:
    """Automations this module owns: tagged by it, or named like one of its rules."""
    return [a for a in client.read_automations()
            if MANAGED_TAG in (a.tags or []) or a.name in names]


def _webhook_block(env: dict[str, str]) -> tuple[Any, str, str]:
    """(block id, block name, receiver) of the webhook block, saving it first when the URL is
    given."""
    from prefect.blocks.webhook import Webhook
    from pydantic import SecretStr, ValidationError

    name = env.get(BLOCK_VAR, DEFAULT_BLOCK)
    if url := env.get(URL_VAR):
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise AlertConfigError(f"{URL_VAR} harus URL http(s) lengkap, mis. "
                                   "https://hooks.slack.com/services/…; alert tidak dipasang.")
        try:
            block = Webhook(url=SecretStr(url), method="POST",
                            headers={"Content-Type": "application/json"})
            block_id = block.save(name, overwrite=True)
        except ValidationError as exc:
            raise AlertConfigError(f"Blok webhook '{name}' tidak valid: {exc}") from exc
        return block_id, name, receiver_of(url)
    try:
        block = Webhook.load(name)
    except ValueError as exc:
        raise AlertConfigError(
            f"{BLOCK_VAR}={name}, tetapi blok Webhook bernama '{name}' tidak ada di server "
            f"Prefect; buat blok itu (UI: Blocks → Webhook) atau atur {URL_VAR}.") from exc
    return block._block_document_id, name, receiver_of(block.url.get_secret_value())


def install(ui_url: str | None = None, env: dict[str, str] | None = None,
            path: Path = CONFIG) -> AlertStatus:
    """Make the server's automations match `path`, on the API this process points at.

    Idempotent: a rule that exists (by name) is updated in place, a missing one is created, and
    a managed automation no longer in the file (or any, when alerting is off) is deleted. So
    every `serve` start leaves exactly one automation per rule, with the current webhook.
    """
    from prefect import get_client
    from prefect.automations import AutomationCore

    env = alert_env() if env is None else env
    rules = load_rules(path)
    names = {r["name"] for r in rules}
    with get_client(sync_client=True) as client:
        existing = _managed(client, names)
        if not env:
            for a in existing:
                client.delete_automation(a.id)
            return AlertStatus(enabled=False, removed=len(existing))
        block_id, block_name, receiver = _webhook_block(env)
        wanted = build(block_id, ui_url, path)
        by_name: dict[str, list] = {}
        for a in existing:
            by_name.setdefault(a.name, []).append(a)
        for automation in wanted:
            # owner_resource left unset: the update endpoint refuses it, even as null
            core = AutomationCore(**automation.model_dump(exclude={"id", "owner_resource"}))
            found = by_name.pop(automation.name, [])
            if found:
                client.update_automation(found[0].id, core)
                for extra in found[1:]:
                    client.delete_automation(extra.id)
            else:
                client.create_automation(core)
        for stale in by_name.values():
            for a in stale:
                client.delete_automation(a.id)
    return AlertStatus(enabled=True, block=block_name, receiver=receiver,
                       names=tuple(a.name for a in wanted))


def main() -> int:
    """`python -m flows.alerts`: install on the server of PREFECT_API_URL (workers' setup)."""
    from flows.deployments import configured_api_url, ui_url_for

    url = configured_api_url()
    if not url:
        print("Gagal: PREFECT_API_URL tidak diatur; arahkan ke server Prefect yang menjalankan "
              "deployment (serve memasang alert sendiri).", file=sys.stderr)
        return 2
    try:
        status = install(ui_url_for(url))
    except AlertConfigError as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 1
    print(status.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

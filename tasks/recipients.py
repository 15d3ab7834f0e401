"""The recipients registry: who gets which message, in which language, for which kab/kota.

A TOML file (format in docs/delivery.md) so the data team can review changes like code. Scoping
is decided here, once: a kab/kota desk gets only the annex and feedback of its own kab/kota.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROLES = ("province", "kabkota", "data_team")
EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    role: str
    scope: tuple[str, ...] = ()
    lang: str = "id"


def load_recipients(path: Path, kabkota_codes: set[str]) -> list[Recipient]:
    """Read and check the registry; every problem is reported with the entry it is in."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegistryError(
            f"Daftar penerima {path} tidak ditemukan (atur PILKADA_RECIPIENTS).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"Daftar penerima {path} tidak sah: {exc}") from exc
    out: list[Recipient] = []
    for n, entry in enumerate(data.get("recipient", []), start=1):
        where = f"{path} penerima ke-{n}"
        email = str(entry.get("email", "")).strip()
        role = entry.get("role")
        scope = tuple(str(c) for c in entry.get("scope", []))
        lang = entry.get("lang", "id")
        if not EMAIL_RE.match(email):
            raise RegistryError(f"{where}: alamat email '{email}' tidak sah")
        if role not in ROLES:
            raise RegistryError(f"{where}: role '{role}' harus salah satu dari {', '.join(ROLES)}")
        if lang not in ("id", "en"):
            raise RegistryError(f"{where}: lang '{lang}' harus id atau en")
        unknown = [c for c in scope if c not in kabkota_codes]
        if unknown:
            raise RegistryError(f"{where}: kode kab/kota tidak dikenal: {', '.join(unknown)}")
        if role == "kabkota" and not scope:
            raise RegistryError(f"{where}: desk kab/kota harus punya scope (kode kab/kota)")
        if role != "kabkota" and scope:
            raise RegistryError(f"{where}: hanya desk kab/kota yang menerima lampiran (scope)")
        out.append(Recipient(str(entry.get("name", email)), email, role, scope, lang))
    emails = [r.email.lower() for r in out]
    dupes = sorted({e for e in emails if emails.count(e) > 1})
    if dupes:
        raise RegistryError(f"{path}: alamat muncul lebih dari sekali: {', '.join(dupes)}")
    return out

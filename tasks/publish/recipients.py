"""The recipients registry: who gets which message, in which language, for which sender.

A TOML file (format in docs/delivery.md) so the data team can review changes like code. Scoping
is decided here, once: a kab/kota desk gets only the annex and feedback of its own kab/kota, and
the provincial desk, which sends its reports under the province's code (`64/64_tindak_lanjut_…`),
gets the feedback of those files only: a province has no kab/kota annex to receive.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

ROLES = ("province", "kabkota", "province_desk", "data_team")
# Roles with a scope, and which codes it holds: kab/kota codes for a kab/kota desk (annex and
# feedback), province codes for the provincial desk (feedback of the files sent under them).
DESKS = ("kabkota", "province_desk")
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


def _scope_problem(role: str, scope: tuple[str, ...], kabkota_codes: Collection[str],
                   province_codes: Collection[str]) -> str | None:
    """Why `scope` does not fit `role`, or None. A province code in a kab/kota desk's scope (or
    the reverse) is named as such, with the role that would take it, since it is the likely slip."""
    if role not in DESKS:
        return "hanya desk (kabkota, province_desk) yang punya scope" if scope else None
    if not scope:
        return ("desk kab/kota harus punya scope (kode kab/kota)" if role == "kabkota" else
                "desk provinsi harus punya scope (kode provinsi, mis. \"64\")")
    own, other = ((kabkota_codes, province_codes) if role == "kabkota"
                  else (province_codes, kabkota_codes))
    misplaced = [c for c in scope if c in other]
    if misplaced and role == "kabkota":
        return (f"{', '.join(misplaced)} adalah kode provinsi; desk provinsi didaftarkan dengan "
                "role = \"province_desk\"")
    if misplaced:
        return (f"{', '.join(misplaced)} adalah kode kab/kota; desk provinsi hanya menerima "
                "umpan balik kiriman dengan kode provinsi")
    unknown = [c for c in scope if c not in own]
    if unknown:
        what = "kab/kota" if role == "kabkota" else "provinsi"
        return f"kode {what} tidak dikenal: {', '.join(unknown)}"
    return None


def load_recipients(path: Path, kabkota_codes: Collection[str],
                    province_codes: Collection[str] = ()) -> list[Recipient]:
    """Read and check the registry against the warehouse's kab/kota and province codes; every
    problem is reported with the entry it is in."""
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
        problem = _scope_problem(role, scope, kabkota_codes, province_codes)
        if problem:
            raise RegistryError(f"{where}: {problem}")
        out.append(Recipient(str(entry.get("name", email)), email, role, scope, lang))
    emails = [r.email.lower() for r in out]
    dupes = sorted({e for e in emails if emails.count(e) > 1})
    if dupes:
        raise RegistryError(f"{path}: alamat muncul lebih dari sekali: {', '.join(dupes)}")
    return out

"""Personal data: find civil servants' NIPs and names in submitted text and keep them out.

The contract asks for pseudonyms (`ref_subjek`) and says nothing personal goes anywhere, but a
desk's free text (narasi, ringkasan, jabatan, instansi, catatan, ids, even a number typed into a
code column) can carry a NIP or a name, and everything stored is later shown: in the bulletin,
the annexes, the feedback and the ledger. So every text column of every kind is scrubbed right
after typing and *before* validation: the GX messages that echo a cell value (`nilai '…' tidak
dikenal`) and everything loaded then only ever see the redacted text. The raw archive keeps what
was sent, as evidence, for the data team only.

What is detected (docs/submission-format.md, "Data pribadi", says the same for the desks):
- NIP, 18 digits `YYYYMMDD YYYYMM G NNN` (birth date, appointment year-month or PPPK's `21`,
  gender 1/2, number), contiguous or with one space, dot or dash between the groups;
- NIK, 16 digits (a plausible province code and birth day, women's day + 40), contiguous or 6-6-4;
- any number of 6 or more digits after a `NIP`, `NIK`, `NRP`, `NUPTK` or `NI PPPK` label (so the
  old 9-digit NIP is found when labelled);
- names after an honorific or a label (`Bapak`, `Ibu`, `Pak`, `Bu`, `Sdr.`, `Sdri.`, `Saudara`,
  `Tn.`, `Ny.`, `a.n.`, `atas nama`, `nama:`, `bernama`, `inisial`) or a title (`Drs.`, `Dr.`,
  `dr.`, `Ir.`, `H.`, `Hj.`, `Prof.`), and capitalised words followed by an academic degree
  (`, S.Pd.`, `, M.Si.`, `S.H.`, `A.Md.`).
Not redacted: a role after the honorific (`Bapak Bupati`, `Ibu Kota Nusantara`, `Pak Camat`), a
title before a street name (`Jl. Dr. Sutomo`), a name right after a candidate word (`calon bupati
H. …`, `paslon nomor urut 2 …`): the campaign's candidates are public figures, not ASN.
Not detected: a bare name without honorific, title or degree (that needs a list of names or a
language model), an unlabelled old 9-digit NIP, phone numbers, addresses.

The hot path is vectorised: one polars `str.contains` per column over a loose prefilter; only
the rare cells it selects are read by Python's `re` (which has the look-arounds this needs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

from tasks.contract.finding import Finding

NIP_MARK = "[NIP/NIK disamarkan]"
NAME_MARK = "[nama disamarkan]"
NIP_RULE, NAME_RULE = "nip_disamarkan", "nama_disamarkan"
MESSAGES = {
    NIP_RULE: "isian tampak memuat NIP/NIK; bagian itu disamarkan dan tidak disimpan. Jangan "
              "tulis NIP/NIK pegawai di laporan",
    NAME_RULE: "isian tampak memuat nama orang; bagian itu disamarkan dan tidak disimpan. Jangan "
               "tulis nama pegawai; sebut jabatannya atau kode samaran",
}

# Columns whose personal data the suites refuse outright (rule -> the value is not stored at all,
# the row is flagged): a pseudonym column is all subject, nothing to keep once it is a name.
REFUSED: dict[str, dict[str, frozenset[str]]] = {
    "netralitas": {"ref_subjek": frozenset({"bukan_nip", "bukan_nama"})},
}

_SEP = r"[ .\-]?"
_DAY = r"(?:0[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0[1-9]|1[0-2])"
_NIP = (rf"(?:19[4-9]\d|200\d){_MONTH}{_DAY}{_SEP}(?:19[6-9]\d|20[0-3]\d)(?:{_MONTH}|21)"
        rf"{_SEP}[12]{_SEP}\d{{3}}")
_NIK = rf"(?:1[1-9]|[2-9]\d)\d{{4}}{_SEP}(?:{_DAY}|[4-6]\d|7[01]){_MONTH}\d\d{_SEP}\d{{4}}"
_LABELLED = (r"\b(?i:nip|nik|nrp|nuptk|ni\s?pppk|nipppk)(?![A-Za-z])\.?\s*(?:[:=]\s*)?"
             r"\d(?:[ .\-/]?\d){5,}")
NUMBER = re.compile(rf"{_LABELLED}|(?<!\d)(?:{_NIP}|{_NIK})(?!\d)")

_CUE = (r"\b(?:(?i:bapak|bpk\.?|bp\.|ibu|pak|bu|sdri?\.?|saudara|saudari|tn\.|ny\.|nn\.|"
        r"atas\s+nama|nama(?:nya)?\s*:|bernama|(?:ber)?inisial)|a\.\s?n\.|A\.N\.)(?!\w)")
_TITLE = r"\b(?:Drs?\.|Dra\.|dr\.|Ir\.|Hj?\.|Prof\.|KH\.)"
_WORD = rf"(?:{_TITLE}|[A-Z][a-z'’`\-]+|[A-Z][a-z]{{0,3}}\.|[A-Z]{{2,}})"
_DEGREE = (r"(?:[SMDA]\.[A-Z][A-Za-z]{0,5}\.?(?:\s?[A-Z][a-z]{0,3}\.)?|Ph\.\s?D\.?|Lc\.?)"
           r"(?!\w)")
_DEGREES = rf"{_DEGREE}(?:,\s?{_DEGREE})*"
NAME = re.compile(
    rf"(?P<cue>{_CUE}\s*|{_TITLE} ?)(?P<name>{_WORD}(?: {_WORD}){{0,4}})(?P<deg>,? {_DEGREES})?"
    rf"|(?P<name2>{_WORD}(?: {_WORD}){{0,3}}),? (?P<deg2>{_DEGREES})")

# A role, office or place after an honorific is not a name ("Ibu Kota", "Bapak Bupati").
_ROLE_WORDS = """
kota negara pertiwi bupati wabup wakil wali walikota gubernur wagub camat sekcam lurah kades
kepala ketua sekretaris sekda sekdes kapolres kapolresta kapolsek kapolda kapolri dandim danramil
danrem pangdam presiden menteri direktur kadis kabid kasi kabag kasubag kasubbag kasat plt pj pjs
penjabat rt rw guru dokter bidan perawat kepsek anggota komisioner babinsa bhabinkamtibmas
pengawas panwascam pps ppk kpps kpu kpud bawaslu asn pns pppk dprd dinas desa kelurahan kecamatan
kabupaten kab kec provinsi pemerintah pemkab pemkot pemprov polri tni polisi linmas satpol staf
pegawai pejabat pkk dharma puskesmas kapuskesmas sekolah rektor dekan jl jln jalan gg gang
"""
_NOT_NAMES = frozenset(_ROLE_WORDS.split())
_CANDIDATE = (r"(?i:\b(?:paslon|pasangan\s+calon|calon|cagub|cawagub|cabup|cawabup|cawali|"
              r"cawawali|cawalkot|kandidat|petahana)\b)")
_CANDIDATE_BEFORE = re.compile(
    rf"{_CANDIDATE}(?:\s+(?i:wakil\s+)?(?i:gubernur|bupati|wali\s?kota))?(?:\s+[A-Z][a-z]+){{0,3}}"
    r"(?:\s+(?i:nomor\s+urut|no\.?\s*urut|nomor|no\.))?(?:\s*0?\d)?[\s,:()\-]*$")
_CANDIDATE_AFTER = re.compile(rf"^[\s,(\-]*{_CANDIDATE}")
_STREET_BEFORE = re.compile(r"\b(?:Jl|Jln|Jalan|Gg|Gang)\.?\s*$")
_HARI_BEFORE = re.compile(r"\b[Hh]ari\s$")

# A superset of both patterns in the Rust regex dialect polars speaks (no look-arounds): a cell
# it does not match cannot hold anything `redact` would change.
PREFILTER = (
    rf"{_NIP}|{_NIK}|"
    r"(?i:\bnip|\bnik|\bnrp|\bnuptk|\bni\s?pppk|\bbapak\b|\bbpk\b|\bbp\.|\bibu\b|\bpak\b|"
    r"\bbu\b|\bsdri?\b|\bsaudar|\btn\.|\bny\.|\bnn\.|\ba\.\s?n\.|atas\s+nama|\bnama|bernama|"
    r"inisial)|\bDrs?\.|\bDra\.|\bdr\.|\bIr\.|\bHj?\.|\bProf\.|\bKH\.|[SMDA]\.[A-Z]|Ph\.\s?D|"
    r"\bLc\b"
)


def _is_role(word: str) -> bool:
    return word.rstrip(".,").lower() in _NOT_NAMES


def _keep_name(text: str, m: re.Match[str]) -> bool:
    """Whether a name-shaped match is not personal data: a role, a street, a candidate."""
    before, after = text[max(0, m.start() - 80):m.start()], text[m.end():m.end() + 30]
    if m.group("cue") is not None:
        if _is_role(m.group("name").split()[0]) or _STREET_BEFORE.search(before):
            return True
        if m.group("cue").startswith("H") and _HARI_BEFORE.search(before):
            return True  # "hari H. Pada …" is election day, not Haji Pada
    return bool(_CANDIDATE_BEFORE.search(before) or _CANDIDATE_AFTER.search(after))


def _name_span(m: re.Match[str]) -> tuple[int, int]:
    """The part to hide: the name with its degrees, not the cue; after a cue the name stops at
    the first role word ("Bapak Budi Kepala Dinas"), before a degree it starts after the last
    ("Kepala Dinas Budi, S.Pd.")."""
    group = "name" if m.group("cue") is not None else "name2"
    start = m.start(group)
    words = list(re.finditer(r"\S+", m.group(group)))
    if group == "name2":
        cut = max((i for i, w in enumerate(words) if _is_role(w.group())), default=-1)
        return (start + words[cut + 1].start(), m.end()) if cut + 1 < len(words) else (0, 0)
    end = start
    for w in words:
        if _is_role(w.group()):
            return start, end
        end = start + w.end()
    return start, m.end()


def redact(text: str) -> tuple[str, frozenset[str]]:
    """The text with every NIP/NIK and name replaced by a marker, and which rules fired."""
    rules: set[str] = set()
    if NUMBER.search(text):
        text = NUMBER.sub(NIP_MARK, text)
        rules.add(NIP_RULE)
    spans = []
    for m in NAME.finditer(text):
        if _keep_name(text, m):
            continue
        start, end = _name_span(m)
        if end > start:
            spans.append((start, end))
    if spans:
        rules.add(NAME_RULE)
        for start, end in reversed(spans):
            text = text[:start] + NAME_MARK + text[end:]
    return text, frozenset(rules)


def text_columns(kind: str, frame: pl.DataFrame) -> list[str]:
    """Every submitted text column (codes and enumerations included: a value in an unknown-value
    message is echoed too), except the ones the suites refuse outright."""
    refused = REFUSED.get(kind, {})
    return [c for c, t in frame.schema.items()
            if t == pl.String and not c.startswith("_") and c not in refused]


def scrub(kind: str, frame: pl.DataFrame,
          row_column: str = "_row") -> tuple[pl.DataFrame, list[tuple[int, str, str, str]]]:
    """The frame with personal data redacted in every text column, and one (row, column, rule,
    message) finding per redacted cell and kind of data, the value itself never echoed."""
    columns = text_columns(kind, frame)
    if not columns or frame.height == 0:
        return frame, []
    hits = frame.select(pl.col(c).str.contains(PREFILTER).fill_null(False) for c in columns)
    findings: list[tuple[int, str, str, str]] = []
    replaced = []
    for column in columns:
        at = hits[column].arg_true()
        if at.len() == 0:
            continue
        values = frame[column].gather(at).to_list()
        rows = frame[row_column].gather(at).to_list()
        changed_at, new = [], []
        for i, row, value in zip(at.to_list(), rows, values, strict=True):
            text, rules = redact(value)
            if rules:
                changed_at.append(i)
                new.append(text)
                findings += [(row, column, r, MESSAGES[r]) for r in sorted(rules)]
        if changed_at:
            series = frame[column].clone()
            series.scatter(changed_at, new)
            replaced.append(series)
    return (frame.with_columns(replaced) if replaced else frame), sorted(findings)


def unechoed(value: str | None, message: str) -> str:
    """A message that quotes `value` (or its first characters), with the quote hidden when the
    value holds personal data; for findings made before `scrub` ran (unreadable cells)."""
    if not value or not redact(value)[1]:
        return message
    for quoted in (value, value[:40]):  # tasks.ingest.parse quotes at most 40 characters
        if quoted in message:
            return message.replace(quoted, "[disamarkan]")
    return redact(message)[0]


def withhold(kind: str, rows: pl.DataFrame, findings: Iterable[Finding],
             row_column: str = "_row") -> pl.DataFrame:
    """Null the refused columns (`REFUSED`) on the rows whose findings say they hold a name or
    NIP: the row stays (flagged) so the desk's case count is right, the value is never stored."""
    findings = list(findings)
    for column, rules in REFUSED.get(kind, {}).items():
        leaked = sorted({f.row for f in findings if f.rule in rules and f.row is not None})
        if leaked:
            rows = rows.with_columns(pl.when(pl.col(row_column).is_in(leaked)).then(None)
                                     .otherwise(pl.col(column)).alias(column))
    return rows

"""A flag removes only what is wrong (issue 21): every rule names its effect, and each effect
class does exactly that to the figures while the desk still hears of every finding.

- `nothing`: the desk is told, the value counts;
- `values`: the cells the rule is about stop counting, the rest of the row counts (the ballot
  reserve case: a requirement without the 2.5 % reserve leaves the deliveries counted in full);
- `row`: the row's identity is wrong (unknown code, key used twice): the row does not count.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tasks.config import WITA
from tasks.contract.finding import EFFECTS
from tasks.contract.submission import COLUMNS, IDENTITY, KINDS
from tasks.ingest.validate import suite_document
from tasks.resources import EXPECTATIONS_DIR
from tests import REPO
from tests.pipeline import ingest
from tests.test_load import KAB, LOGISTIK, logistik_rows, one, put, query, to_csv

BALLOTS = ("ss_gubernur", "ss_bupati_walikota")
# Rules about a whole row or its key, whatever column they name.
ROW_RULES = {"kabkota_sesuai_folder", "baris_unik", "id_unik", "satu_baris"}


def _expectations() -> list[tuple[str, dict]]:
    return [(kind, e) for kind in KINDS for e in suite_document(kind)["expectations"]]


@pytest.mark.parametrize(("kind", "expectation"), _expectations(),
                         ids=lambda v: v if isinstance(v, str) else v["meta"]["rule"])
def test_every_rule_names_an_effect_that_removes_only_what_it_is_about(kind, expectation):
    meta = expectation["meta"]
    assert meta["effect"] in EFFECTS
    columns = meta.get("columns") or [meta["column"]]
    assert set(columns) <= {c.name for c in COLUMNS[kind]}, "effects name contract columns"
    if meta["effect"] == "row":
        # a rule about one column's value never removes the row's other values
        assert meta["rule"] in ROW_RULES or set(columns) <= IDENTITY[kind], meta
    if meta["effect"] == "values":
        assert not set(columns) & IDENTITY[kind], "a bad key cannot leave the row counted"


def test_every_rule_is_in_the_documented_effect_table():
    doc = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    table = doc[doc.index("## Rule effects"):]
    for kind, e in _expectations():
        assert f"`{e['meta']['rule']}`" in table, (kind, e["meta"]["rule"])
    for rule in ("format_nilai", "lengkap", "tindak_lanjut_hilang"):  # parse and whole-file
        assert f"`{rule}`" in table


@pytest.mark.parametrize(("kind", "column"), [
    (kind, c.name) for kind in KINDS for c in COLUMNS[kind] if c.name not in IDENTITY[kind]])
def test_an_excluded_value_is_blank_in_the_current_view_and_the_row_stays(warehouse, kind,
                                                                        column):
    """Every non-identity column can be excluded on its own (a format finding can hit any)."""
    warehouse.execute(
        "INSERT INTO raw.file (file_id, source_path, file_name, sha256, size_bytes, received_at, "
        "ingested_at, archive_path, kabkota_code, kind, week) VALUES (1, 'x', 'x', 'x', 1, now(), "
        "now(), '', ?, ?, '2024-W47')", [KAB, kind])
    warehouse.execute("INSERT INTO audit.submission (file_id, verdict, version) "
                      "VALUES (1, 'accepted_with_flags', 1)")
    names = [c.name for c in COLUMNS[kind]]
    value = {"int": 7, "date": "2024-11-20", "datetime": "2024-11-20 10:00"}
    row = [value.get(c.type, "x") for c in COLUMNS[kind]]
    warehouse.execute(
        f"INSERT INTO core.{kind} (file_id, row_number, flagged, excluded, excluded_columns, "
        f"{', '.join(names)}) VALUES (1, 2, true, false, [?], {', '.join('?' * len(names))})",
        [column, *row])
    (got,) = query(warehouse, f"SELECT * FROM core.{kind}_current")
    assert got[column] is None
    assert all(got[c] is not None for c in names if c != column)


def test_a_row_whose_identity_is_rejected_does_not_count(warehouse):
    warehouse.execute(
        "INSERT INTO raw.file (file_id, source_path, file_name, sha256, size_bytes, received_at, "
        "ingested_at, archive_path, kabkota_code, kind, week) VALUES (1, 'x', 'x', 'x', 1, now(), "
        "now(), '', ?, 'keamanan', '2024-W47')", [KAB])
    warehouse.execute("INSERT INTO audit.submission (file_id, verdict, version) "
                      "VALUES (1, 'accepted_with_flags', 1)")
    for n, excluded in ((2, True), (3, False)):
        warehouse.execute("INSERT INTO core.keamanan (file_id, row_number, flagged, excluded, "
                          "kode_kabkota, jumlah_tps) VALUES (1, ?, ?, ?, ?, 5)",
                          [n, excluded, excluded, KAB])
    assert warehouse.execute("SELECT row_number FROM core.keamanan_current").fetchall() == [(3,)]


def _reserve_short(rows: list[dict]) -> list[dict]:
    """The national case: ballot requirement as DPT without the 2.5 % reserve, everything
    delivered in full to the kab/kota warehouse and the PPK."""
    for r in rows:
        if r["barang"] in BALLOTS:
            r["jumlah_kebutuhan"] = r["jumlah_kebutuhan"] * 40 // 41 - 1  # dpt, never above
    return rows


def test_ballot_reserve_finding_leaves_the_deliveries_counted_in_full(warehouse, settings_env,
                                                                      prefect_harness):
    rows = _reserve_short(logistik_rows())
    put(settings_env, LOGISTIK, to_csv(rows))
    (verdict,) = ingest(settings_env)
    file_id = verdict.file_id
    ballots = [i + 2 for i, r in enumerate(rows) if r["barang"] in BALLOTS]

    # the desk gets every finding, row, column, reason and effect
    assert one(warehouse, LOGISTIK)["status"] == "accepted_with_flags"
    found = query(warehouse, "SELECT row_number, \"column\", rule, effect, message "
                             "FROM audit.row_issue WHERE file_id = ? ORDER BY row_number",
                  [file_id])
    assert [(f["row_number"], f["column"], f["rule"], f["effect"]) for f in found] == [
        (n, "jumlah_kebutuhan", "cadangan_surat_suara", "values") for n in ballots]
    assert all("cadangan 2,5%" in f["message"] for f in found)
    (written,) = Path(settings_env.outbox, "feedback").rglob("*.temuan.csv")  # by the run
    table = written.read_text(encoding="utf-8-sig")
    assert table.count("cadangan_surat_suara") == len(ballots)
    assert table.count("nilai ini tidak dihitung") == len(ballots)
    assert verdict.reason.startswith(
        f"Diterima dengan catatan: {len(ballots)} baris dihitung tanpa nilai yang ditandai")

    # ... and the deliveries count in full, against the reference requirement
    items = {r["barang"]: r for r in query(
        warehouse, "SELECT * FROM mart.logistik_item_weekly WHERE kabkota_code = ?", [KAB])}
    for barang in BALLOTS:
        item = items[barang]
        assert item["pct_kabkota"] == item["pct_ppk"] == 1.0
        assert item["di_kabkota"] == item["kebutuhan"]
        assert (item["cakupan_kabkota"], item["baris_tidak_dihitung"]) == (1.0, 0)
    # the desk's own requirement column is what stopped counting
    assert warehouse.execute(
        "SELECT count(*) FILTER (WHERE jumlah_kebutuhan IS NULL), count(*) "
        "FROM core.logistik_current WHERE barang IN ('ss_gubernur', 'ss_bupati_walikota')"
    ).fetchall() == [(len(ballots), len(ballots))]


def test_a_rule_with_effect_nothing_tells_the_desk_and_the_value_counts(warehouse, settings_env,
                                                                        prefect_harness):
    """kumulatif_tidak_turun: a quantity lower than last week without a note is the desk's
    latest statement (a recount or damage); it counts, and the desk is asked for a note."""
    week46, week47 = f"{KAB}/{KAB}_logistik_2024-W46.csv", LOGISTIK
    before = logistik_rows()
    for r in before:
        r["per_tanggal"] = "2024-11-13"
    put(settings_env, week46, to_csv(before), datetime(2024, 11, 15, 10, tzinfo=WITA))
    ingest(settings_env)
    now = logistik_rows()
    now[0]["diterima_kabkota"] -= 3
    now[0]["diterima_ppk"] -= 3
    put(settings_env, week47, to_csv(now))
    (verdict,) = ingest(settings_env)
    assert [(f.row, f.rule, f.effect) for f in verdict.findings] == [
        (2, "kumulatif_tidak_turun", "nothing")]
    assert verdict.reason.startswith("Diterima dengan catatan: 1 baris ditandai, nilainya "
                                     "tetap dihitung")
    assert warehouse.execute(
        "SELECT diterima_kabkota, flagged FROM core.logistik_current "
        "WHERE week = '2024-W47' AND row_number = 2").fetchall() == [
        (now[0]["diterima_kabkota"], True)]


def test_an_unknown_village_removes_its_row_only(warehouse, settings_env, prefect_harness):
    rows = logistik_rows()
    extra = {**rows[0], "kode_desa": rows[0]["kode_kecamatan"] + "999"}
    put(settings_env, LOGISTIK, to_csv([*rows, extra]))
    (verdict,) = ingest(settings_env)
    assert [(f.row, f.rule, f.effect) for f in verdict.findings] == [
        (len(rows) + 2, "kode_desa_valid", "row")]
    assert verdict.reason.startswith("Diterima dengan catatan: 1 baris tidak dihitung")
    assert warehouse.execute("SELECT count(*) FROM core.logistik_current").fetchall() == [
        (len(rows),)]


def test_suites_name_effects_in_the_stored_json():
    """The effect lives next to the rule, once (not in code)."""
    for kind in KINDS:
        doc = json.loads((EXPECTATIONS_DIR / f"{kind}.json").read_text(encoding="utf-8"))
        assert all("effect" in e["meta"] for e in doc["expectations"]), kind


def test_a_rule_without_a_known_effect_stops_the_suite(tmp_path, monkeypatch):
    """An unknown effect would count as `nothing` by default: refuse to load the suite."""
    import tasks.ingest.validate as validate

    doc = json.loads((EXPECTATIONS_DIR / "keamanan.json").read_text(encoding="utf-8"))
    doc["expectations"][3]["meta"]["effect"] = "value"  # a typo of `values`
    (tmp_path / "keamanan.json").write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setattr(validate, "EXPECTATIONS_DIR", tmp_path)
    with pytest.raises(ValueError, match="not one of nothing, values, row"):
        validate.suite_document("keamanan")

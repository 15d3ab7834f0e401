"""The weekly-bulletin flow delivering a real week to a real SMTP server (STARTTLS + AUTH)."""

from __future__ import annotations

import os
import re
from datetime import datetime

import pytest

from flows.bulletin import weekly_bulletin
from flows.ingest import ingest_submissions
from samples.kaltim import generate
from tasks.config import WITA
from tasks.contract.regions import provinces, regions
from tasks.publish.recipients import load_recipients
from tests import REPO as ROOT
from tests.pipeline import site
from tests.smtp_server import PASSWORD, USER, smtp_server
from tests.test_feedback import to_csv

pytestmark = pytest.mark.flow
WEEK = "2024-W46"  # Kutai Barat's incident file has a flagged row that week: feedback to send
PROVINCE_DESK = "desk-64@desk-pilkada.example.org"
# The provincial desk's follow-ups of the week, sent under the province code; one names an agency
# outside the list, so the file is accepted with flags and its feedback has to reach the desk.
PROVINCE_FILE = f"64_tindak_lanjut_{WEEK}_uji.csv"
FOLLOW_UPS = [
    {"kode_kabkota": "6411", "id_tindak_lanjut": "TL-64-001", "tanggal_keputusan": "2024-11-11",
     "forum": "rakor_forkopimda", "bidang": "logistik", "isu": "Logistik Mahulu terlambat",
     "tindakan": "Sewa perahu untuk distribusi", "instansi": "kpu", "tenggat": "2024-11-20",
     "status": "berjalan", "tanggal_status": "2024-11-14", "catatan": ""},
    {"kode_kabkota": "64", "id_tindak_lanjut": "TL-64-002", "tanggal_keputusan": "2024-11-11",
     "forum": "rakor_forkopimda", "bidang": "keamanan", "isu": "Patroli gabungan",
     "tindakan": "Jadwal patroli gabungan", "instansi": "Kodim 0908", "tenggat": "2024-11-29",
     "status": "baru", "tanggal_status": "2024-11-14", "catatan": ""},
]


def _put_province_file(inbox) -> None:
    path = inbox / "64" / PROVINCE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_csv(FOLLOW_UPS, "tindak_lanjut"))
    # Sunday night, after anything the sample may send under 64 that week: this file is the
    # current version whatever the sample holds
    when = datetime(2024, 11, 17, 20, 0, tzinfo=WITA).timestamp()
    os.utime(path, (when, when))


@pytest.fixture(scope="module")
def delivered(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("delivery")
    mp = pytest.MonkeyPatch()
    site(root, mp)
    generate(root / "inbox", ["2024-W45", WEEK])
    _put_province_file(root / "inbox")
    with smtp_server(root, tls=True) as (handler, port, ca):
        for k, v in {"PILKADA_SMTP_HOST": "127.0.0.1", "PILKADA_SMTP_PORT": port,
                     "PILKADA_SMTP_TLS": "starttls", "PILKADA_SMTP_USER": USER,
                     "PILKADA_SMTP_PASSWORD": PASSWORD, "PILKADA_SMTP_CA_FILE": ca,
                     "PILKADA_SMTP_FROM": "Desk Pilkada Kaltim <desk@kaltim.example.org>"}.items():
            mp.setenv(k, str(v))
        ingest_submissions()
        plan = weekly_bulletin(week=WEEK, dry_run=True)
        after_plan = len(handler.received)
        first = weekly_bulletin(week=WEEK, send=True)
        after_first = list(handler.received)
        second = weekly_bulletin(week=WEEK, send=True)
        yield {"plan": plan, "after_plan": after_plan, "first": first, "second": second,
               "received": after_first, "all": list(handler.received), "root": root}
    mp.undo()


def _recipients():
    codes = set(regions()["kabkota"]["kabkota_code"].to_list())
    return load_recipients(ROOT / "config" / "recipients.toml", codes,
                           set(provinces()["provinsi_code"].to_list()))


def _is_bulletin(subject: str) -> bool:
    return WEEK in subject and not subject.startswith(("Lampiran", "Umpan Balik"))


def test_dry_run_shows_who_gets_what_and_sends_nothing(delivered):
    people = _recipients()
    desks = [r for r in people if r.role == "kabkota"]
    assert delivered["after_plan"] == 0
    # one bulletin each, one annex per kab/kota desk, the provincial desk's feedback
    assert len(delivered["plan"]["plan"]) == len(people) + len(desks) + 1


def test_every_recipient_gets_the_bulletin_and_desks_only_their_annex(delivered):
    people = _recipients()
    names = dict(zip(regions()["kabkota"]["kabkota_code"], regions()["kabkota"]["kabkota_name"],
                     strict=True))
    got: dict[str, list] = {}
    for r in delivered["received"]:
        assert len(r.rcpt) == 1
        got.setdefault(r.rcpt[0], []).append(r.message)
    assert set(got) == {p.email for p in people}
    for p in people:
        subjects = [m["Subject"] for m in got[p.email]]
        assert sum(_is_bulletin(s) for s in subjects) == 1  # one bulletin
        annexes = [s for s in subjects if "Lampiran" in s]
        if p.role == "kabkota":
            [annex] = annexes
            whose = re.match(r"Lampiran Desk Pilkada (Kab\.|Kota) (.+) — Minggu", annex)
            assert whose and whose[2] == names[p.scope[0]].split(" ", 1)[1]
        else:
            assert annexes == []


def test_mime_structure_text_html_inline_images_and_pdf(delivered):
    bulletin = next(r.message for r in delivered["received"]
                    if "Lampiran" not in r.message["Subject"])
    types = [p.get_content_type() for p in bulletin.walk()]
    assert types[0] == "multipart/mixed"
    for t in ("multipart/alternative", "text/plain", "multipart/related", "text/html",
              "image/png", "application/pdf"):
        assert t in types
    html = bulletin.get_body(("html",)).get_content()
    cids = {p["Content-ID"].strip("<>") for p in bulletin.walk()
            if p.get_content_type() == "image/png"}
    assert cids and all(f"cid:{c}" in html for c in cids)
    assert bulletin["From"] == "Desk Pilkada Kaltim <desk@kaltim.example.org>"


def test_desk_feedback_travels_with_its_annex(delivered):
    kubar = next(r.message for r in delivered["received"]
                 if r.rcpt[0] == "desk-6407@desk-pilkada.example.org"
                 and "Lampiran" in r.message["Subject"])
    files = [p.get_filename() for p in kubar.iter_attachments()]
    assert any(f.startswith("6407_insiden_2024-W46.csv") and f.endswith("umpan-balik.txt")
               for f in files)
    assert any(f.endswith(".pdf") for f in files)


def test_rerun_sends_nothing_twice_and_the_log_tells_it(delivered):
    assert len(delivered["all"]) == len(delivered["received"])
    assert {d["status"] for d in delivered["first"]["deliveries"]} == {"sent"}
    assert {d["status"] for d in delivered["second"]["deliveries"]} == {"skipped_sent"}


def test_the_provincial_desk_gets_its_feedback_once_and_no_annex(delivered):
    """Its file sent under the province code was accepted with flags: the desk gets the note and
    findings table in a message of its own, once over two runs; no kab/kota desk gets them."""
    mine = [r.message for r in delivered["all"] if r.rcpt == [PROVINCE_DESK]]
    [bulletin, feedback] = sorted(mine, key=lambda m: not _is_bulletin(m["Subject"]))
    assert _is_bulletin(bulletin["Subject"])
    assert feedback["Subject"] == f"Umpan Balik Kiriman Desk Pilkada Provinsi (64) — Minggu {WEEK}"
    files = sorted(p.get_filename() for p in feedback.iter_attachments())
    assert [f.removeprefix(PROVINCE_FILE).split(".", 2)[2] for f in files] == [
        "temuan.csv", "umpan-balik.txt"]  # <file>.<file_id>.temuan.csv, and the note
    body = feedback.get_body(("plain",)).get_content()
    assert "DITERIMA DENGAN CATATAN" in body and "Kodim 0908" in body
    assert "Provinsi      : 64 (desk provinsi)" in body
    others = [r for r in delivered["all"] if r.rcpt != [PROVINCE_DESK]]
    assert not [r.rcpt for r in others
                if r.message["Subject"].startswith("Umpan Balik")
                or any(PROVINCE_FILE in (p.get_filename() or "")
                       for p in r.message.iter_attachments())]
    logged = [(d["pesan"], d["kab/kota"], d["status"]) for run in ("first", "second")
              for d in delivered[run]["deliveries"] if d["penerima"] == PROVINCE_DESK]
    assert logged == [("bulletin", "", "sent"), ("feedback", "64", "sent"),
                      ("bulletin", "", "skipped_sent"), ("feedback", "64", "skipped_sent")]

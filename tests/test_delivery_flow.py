"""The weekly-bulletin flow delivering a real week to a real SMTP server (STARTTLS + AUTH)."""

from __future__ import annotations

import re

import pytest
from prefect.testing.utilities import prefect_test_harness

from flows.bulletin import weekly_bulletin
from flows.ingest import ingest_submissions
from tasks.config import ROOT
from tasks.recipients import load_recipients
from tasks.reference import regions
from tasks.sample import generate
from tests.smtp_server import PASSWORD, USER, smtp_server

pytestmark = pytest.mark.flow
WEEK = "2024-W46"  # Kutai Barat's incident file has a flagged row that week: feedback to send


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    root = tmp_path_factory.mktemp("delivery")
    mp = pytest.MonkeyPatch()
    for k, v in {"PILKADA_WAREHOUSE": root / "w.duckdb", "PILKADA_INBOX": root / "inbox",
                 "PILKADA_OUTBOX": root / "outbox"}.items():
        mp.setenv(k, str(v))
    generate(root / "inbox", ["2024-W45", WEEK])
    with prefect_test_harness(server_startup_timeout=120), \
            smtp_server(root, tls=True) as (handler, port, ca):
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
    return load_recipients(ROOT / "config" / "recipients.toml", codes)


def test_dry_run_shows_who_gets_what_and_sends_nothing(delivered):
    people = _recipients()
    desks = [r for r in people if r.role == "kabkota"]
    assert delivered["after_plan"] == 0
    assert len(delivered["plan"]["plan"]) == len(people) + len(desks)


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
        assert sum(WEEK in s and "Lampiran" not in s for s in subjects) == 1  # one bulletin
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

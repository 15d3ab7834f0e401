"""How a mailed attachment is filed (no server needed): its name never becomes a path, the
sender's kab/kota decides the folder, and a name for another kab/kota is refused."""

from __future__ import annotations

from datetime import UTC, datetime

from tasks.ingest.mailbox import Mail, _file
from tasks.ingest.pull import identify
from tasks.publish.recipients import Recipient

DESK = Recipient("Desk Pilkada Kab. Kutai Kartanegara", "desk-6402@contoh.example", "kabkota",
                 ("6402",))


def _mail() -> Mail:
    return Mail("7", "<m@x>#abc", "<m@x>", "", DESK.email, "s", datetime.now(UTC), DESK)


def test_a_hostile_name_is_one_component_under_the_senders_folder(tmp_path):
    mail = _mail()
    att = _file(mail, 1, "../../etc/6402_ringkasan_2024-W47\n.csv", b"a,b\n", tmp_path)
    assert att.source_path == "6402/.._.._etc_6402_ringkasan_2024-W47\\x0a.csv"
    [f] = mail.files
    staged = list(tmp_path.rglob("*"))
    assert all(p.is_relative_to(tmp_path) for p in staged)
    assert [p.name for p in staged if p.is_file()] == ["001"]
    assert f.fingerprint == "mail:<m@x>#abc:1" and f.size == 4
    assert identify(f.source_path).problem  # judged: rejected for its name, with the reason


def test_name_without_code_is_filed_under_the_sender_and_another_code_refused(tmp_path):
    mail = _mail()
    assert _file(mail, 1, "laporan.xlsx", b"x", tmp_path).source_path == "6402/laporan.xlsx"
    other = _file(mail, 2, "6401_2024-W47.xlsx", b"x", tmp_path)
    assert other.source_path is None and "menyebut kode 6401" in other.note
    photo = _file(mail, 3, "foto.jpg", b"x", tmp_path)
    assert photo.source_path is None and "Bukan berkas laporan" in photo.note
    assert len(mail.files) == 1

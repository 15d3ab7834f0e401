"""Bulletin rendering: content, escaping, email safety, MIME structure, English."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import io
import re
from datetime import datetime

import html5lib
import pytest
from pypdf import PdfReader

from reports.i18n import STATUS_SYMBOLS, STATUS_WORDS
from reports.render import RenderedBulletin, build_message, render_bulletin, render_pdf
from reports.theme import STATUS_COLORS, contrast_ratio
from tests.render_context import make_ctx


@pytest.fixture(scope="module")
def ctx() -> dict:
    return make_ctx()


@pytest.fixture(scope="module")
def bulletin(ctx: dict) -> RenderedBulletin:
    return render_bulletin(ctx)


def test_every_kabkota_and_status_word_appears(bulletin: RenderedBulletin, ctx: dict) -> None:
    """Those needing action by full name in the decision block, the Siap ones by short name."""
    for part in (bulletin.html, bulletin.text):
        for k in ctx["kabkota"]:
            name = k["kabkota_name"] if k["status"] != "Siap" else k["short_name"]
            assert name in part
        for status, symbol in STATUS_SYMBOLS.items():
            assert f"{symbol} {status}" in part


def test_untrusted_text_is_escaped(bulletin: RenderedBulletin) -> None:
    html = bulletin.html
    assert "<script" not in html.lower()
    assert not re.search(r"<[^>]*\sonerror=", html, re.IGNORECASE)
    assert not re.search(r"<[^>]*\sonmouseover=", html, re.IGNORECASE)
    # desk text the email shows: a request from a narrative, a follow-up's action, an incident
    # (the whole narratives go to the PDF: tests/test_pdf.py checks them there)
    assert "Mohon dukungan &lt;script&gt;alert(5)&lt;/script&gt; angkutan udara" in html
    assert "Klarifikasi camat &lt;script&gt;alert(4)&lt;/script&gt; &amp; kepala desa" in html
    # an incident summary, listed in the email when the incident is serious
    ctx = make_ctx()
    for i in ctx["keamanan"]["insiden"]:
        i["tingkat"] = "tinggi"
    serious = render_bulletin(ctx).html
    assert "&lt;b onmouseover=" in serious
    assert not re.search(r"<[^>]*\sonmouseover=", serious, re.IGNORECASE)


def test_html_parses_without_errors(bulletin: RenderedBulletin) -> None:
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(bulletin.html)
    assert parser.errors == []


def test_images_match_cid_references_and_have_alt(bulletin: RenderedBulletin) -> None:
    cids = set(re.findall(r'src="cid:([^"]+)"', bulletin.html))
    assert len(cids) >= 2
    assert cids == set(bulletin.images)
    for png in bulletin.images.values():
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    for tag in re.findall(r"<img\b[^>]*>", bulletin.html):
        assert re.search(r'\balt="[^"]+"', tag)
        assert re.search(r'\bwidth="\d+"', tag) and re.search(r'\bheight="\d+"', tag)


def test_chart_alt_text_states_the_numbers(bulletin: RenderedBulletin) -> None:
    """Alt texts open with the chart's headline and list every share with the precision the
    tables use (one decimal, truncated)."""
    assert "Mahulu 100,0% / 53,0% / 41,0% / 5,0%" in bulletin.html
    assert "Kutim — / — / — / —" in bulletin.html  # no logistics report
    assert "Target H-3: PPK 100,0%, PPS 75,0%" in bulletin.html
    assert 'alt="Logistik: 9 dari 10 kab/kota di bawah target PPK H-3, 1 tanpa laporan.' in (
        bulletin.html)



def test_email_safe_markup_and_size(bulletin: RenderedBulletin) -> None:
    html = bulletin.html.lower()
    assert "data:" not in html
    assert "<svg" not in html
    assert "<script" not in html
    assert '<html lang="id">' in html
    assert "@media (max-width:620px)" in html
    assert "prefers-color-scheme:dark" in html
    assert 'style="' in html  # CSS was inlined
    assert len(bulletin.html.encode()) < 90 * 1024


def test_numbers_and_dates_use_indonesian_format(bulletin: RenderedBulletin) -> None:
    assert "82,3%" in bulletin.html  # Kukar at PPS
    assert "1,40 ▼" in bulletin.text  # Mahulu's Linmas per TPS: decimals with a comma
    assert "26 November 2024" in bulletin.html  # Kubar's projected completion
    assert "27 November 2024" in bulletin.html
    assert "07.00 WITA" in bulletin.html


def test_text_part_has_same_headline(bulletin: RenderedBulletin, ctx: dict) -> None:
    for status, n in ctx["counts"].items():
        line = f"{STATUS_SYMBOLS[status]} {status}: {n}"
        assert line in bulletin.text
        tile = rf"{n}</span><br>{STATUS_SYMBOLS[status]} {status}</td>"
        assert re.search(tile, bulletin.html)
    assert "H-3" in bulletin.text
    for action in ctx["actions"]:
        assert action["kabkota_name"] in bulletin.text
    assert "<script>alert(5)</script>" in bulletin.text  # plain text needs no escaping


def test_size_stays_under_limit_with_long_free_text() -> None:
    """Gmail clips HTML over ~102 KB; maximal narasi and many incidents must still fit."""
    ctx = make_ctx()
    for k in ctx["kabkota"]:
        k["narasi"] = ("Kondisi wilayah aman, distribusi berjalan. " * 50)[:2000]
    incident = ctx["keamanan"]["insiden"][1]
    ctx["keamanan"]["insiden"] = [{**incident, "ringkasan": "Kejadian & penanganan. " * 22}] * 20
    assert len(render_bulletin(ctx).html.encode()) < 90 * 1024


def test_subject(bulletin: RenderedBulletin) -> None:
    assert bulletin.subject == (
        "[H-3] 1 Kritis: Mahulu · 3 Waspada: Kukar, Kubar, Kutim — Buletin Kesiapan Pilkada "
        "Kaltim 2024-W47")


def test_build_message_mime_structure(bulletin: RenderedBulletin) -> None:
    msg = build_message(bulletin, "desk@siaga-pilkada.local", ["a@kaltim.go.id", "b@kaltim.go.id"])
    assert msg.get_content_type() == "multipart/alternative"
    assert "2024-W47" in str(msg["Subject"])
    assert msg["To"] == "a@kaltim.go.id, b@kaltim.go.id"
    assert msg["Date"] and msg["Message-ID"].endswith("@siaga-pilkada.local>")
    plain, related = msg.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().rstrip("\n") == bulletin.text.rstrip("\n")
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert html_part.get_content().rstrip("\n") == bulletin.html.rstrip("\n")
    assert {p["Content-ID"].strip("<>") for p in images} == set(bulletin.images)
    for p in images:
        assert p.get_content_type() == "image/png"
        assert p.get_content_disposition() == "inline"
        assert p.get_filename().endswith(".png")
        assert p.get_content() == bulletin.images[p["Content-ID"].strip("<>")]
    assert msg.as_bytes()  # serialises under the SMTP policy
    assert bulletin.pdf is None and bulletin.name == "buletin-2024-W47-id"


def test_build_message_attaches_the_pdf_in_multipart_mixed(bulletin: RenderedBulletin) -> None:
    """With a PDF the message becomes mixed(alternative(plain, related(html, png…)), pdf)."""
    with_pdf = dataclasses.replace(bulletin, pdf=b"%PDF-1.7 stand-in")
    msg = build_message(with_pdf, "desk@siaga-pilkada.local", ["a@kaltim.go.id"])
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    assert [p.get_content_type() for p in related.get_payload()] == ["text/html"] + [
        "image/png"
    ] * len(bulletin.images)
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "buletin-2024-W47-id.pdf"
    assert attachment.get_content() == b"%PDF-1.7 stand-in"
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert [p.get_content_type() for p in parsed.walk()][:3] == [
        "multipart/mixed", "multipart/alternative", "text/plain"]


def test_english_rendering() -> None:
    b = render_bulletin(make_ctx("en"))
    assert '<html lang="en">' in b.html
    for heading in ("Logistics", "Security", "Data quality"):
        assert f">{heading}</h2>" in b.html
        assert heading.upper() in b.text or heading in b.text
    # the email's method note is a paragraph above the footer; the PDF keeps the section
    assert "Status uses thresholds by days to the vote" in b.html
    assert "METHOD NOTE" in b.text
    assert "✖ Critical" in b.html and "▲ Watch" in b.html
    assert "82.3%" in b.html and "1.40" in b.text
    # alasan_en is used where the reasons are printed in full (the PDF's kab/kota pages)
    pdf = PdfReader(io.BytesIO(render_pdf(make_ctx("en"))))
    assert "supplies at PPS" in "".join(p.extract_text() for p in pdf.pages)
    assert b.subject == (
        "[D-3] 1 Critical: Mahulu · 3 Watch: Kukar, Kubar, Kutim — Pilkada Readiness Bulletin "
        "Kaltim 2024-W47")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="bahasa"):
        render_bulletin(make_ctx("fr"))


@pytest.mark.parametrize("status", list(STATUS_WORDS))
def test_status_badges_meet_contrast(status: str) -> None:
    background, text = STATUS_COLORS[status]
    assert contrast_ratio(text, background) >= 4.5


def test_quiet_week_and_voting_day_render() -> None:
    """Empty lists, missing figures and H = 0 must render, not crash or print 'None'."""
    ctx = make_ctx()
    ctx.update(h=0, actions=[], provenance=[])
    ctx["logistik"].update(desa_kurang=[], desa_kurang_total=0, desa_kurang_terpencil=0)
    ctx["keamanan"].update(insiden=[], insiden_baru=0, insiden_terbuka=0)
    ctx["netralitas"].update(tahap=[], median_hari_ke_rekomendasi=None)
    for k in ctx["kabkota"]:
        k.update(status_prev=None, narasi=None, alasan=None, jumlah_tps=None, kasus_asn_kumulatif=0)
    ctx["perubahan"] = []
    b = render_bulletin(ctx)
    for part in (b.html, b.text):
        assert "None" not in part
        assert "Tidak ada tindakan mendesak" in part
        assert "Tidak ada insiden baru atau terbuka." in part
        assert "Tidak ada perubahan status." in part
    assert b.subject.startswith("[H] ") and "hari pemungutan suara 27 November 2024" in b.html


def test_naive_times_are_read_as_wita() -> None:
    ctx = make_ctx()
    ctx["keamanan"]["insiden"][0]["waktu_kejadian"] = datetime(2024, 11, 22, 21, 40)
    assert "22 Nov 21.40" in render_bulletin(ctx).text


def test_first_week_after_the_vote_does_not_read_as_an_improvement() -> None:
    """Readiness is not judged after voting day, so "Kritis → Siap" across that line would read
    as a recovery; the bulletin says why statuses are not compared instead."""
    ctx = make_ctx()
    ctx.update(h=-4, fase="pasca_pemungutan", batas_fase=True, perubahan=[])
    b = render_bulletin(ctx)
    for part in (b.html, b.text.replace("\n", " ")):
        assert "penilaian kesiapan (logistik, Linmas) berakhir pada hari pemungutan" in " ".join(
            part.split())
        assert "Tidak ada perubahan status." not in part


def test_after_the_vote_level_zero_is_not_called_ready() -> None:
    """Readiness is not judged after voting day: the same level reads "Kondusif", in the tiles,
    the text and the map's alt text, never "Siap"."""
    ctx = make_ctx()
    ctx.update(h=-4, fase="pasca_pemungutan", batas_fase=True, perubahan=[])
    b = render_bulletin(ctx)
    for part in (b.html, b.text):
        assert "✔ Kondusif" in part
        assert "✔ Siap" not in part
    assert re.search(r'alt="[^"]*Kondusif', b.html)
    en = render_bulletin({**ctx, "lang": "en"})
    assert "✔ Calm" in en.text and "✔ Ready" not in en.text


def test_email_lists_only_incidents_that_may_need_a_decision() -> None:
    """High severity or casualties are listed; the rest are counted and in the PDF."""
    ctx = make_ctx()
    incidents = ctx["keamanan"]["insiden"]
    for n, i in enumerate(incidents):
        i.update(tingkat="rendah", korban_meninggal=0, korban_luka=0,
                 ringkasan=f"Ringkasan kejadian uji nomor {n}.")
    quiet = render_bulletin(ctx).html
    assert "Tidak ada yang bertingkat tinggi atau menimbulkan korban" in quiet
    entries = [i["ringkasan"] for i in incidents]
    assert not any(e in quiet for e in entries)
    incidents[0]["korban_luka"] = 2
    listed = render_bulletin(ctx).html
    assert entries[0] in listed
    assert not any(e in listed for e in entries[1:])


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(("lang", "partial", "absent"), [
    ("id", "dihitung dari 8 dari 10 kecamatan", "belum melapor"),
    ("en", "counted from 8 of 10 subdistricts", "not reported"),
])
def test_figures_from_part_of_the_data_and_missing_reports_say_so(lang, partial, absent):
    """Issue 21: a figure counted from part of the data says so next to it, and a report not
    received reads "belum melapor", never 0, in the key figures of the plain text and the PDF
    (render_context: Kukar's Linmas from 8 of its 10 kecamatan and PPS from 98 of 101
    villages; Kutim sent no ASN report)."""
    ctx = make_ctx(lang)
    villages = ("dihitung dari 98 dari 101 desa/kelurahan" if lang == "id"
                else "counted from 98 of 101 villages")
    rendered = render_bulletin(ctx)
    pdf = _words(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(ctx))).pages))
    for text in (_words(rendered.text), pdf):
        assert partial in text and villages in text and absent in text
    kukar = next(k for k in ctx["kabkota"] if k["short_name"] == "Kukar")
    kukar["kecamatan_dihitung_linmas"] = kukar["kecamatan_total"]
    kukar["desa_dihitung_pps"] = kukar["desa_total"]
    for k in ctx["kabkota"]:
        k["netralitas_dilaporkan"] = True
    complete = _words(render_bulletin(ctx).text)
    assert partial not in complete and villages not in complete and absent not in complete

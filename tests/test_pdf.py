"""The print bulletin (WeasyPrint): A4, numbered pages, every kab/kota, escaped text, offline."""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Iterator

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from reports.render import OfflineFetcher, build_message, render_bulletin, render_pdf
from tests import REPO
from tests.render_context import make_ctx

A4_PT = (595, 842)
HOSTILE_NARASI = (
    'Aman. <img src="http://10.0.0.1/x.png"> <link rel="stylesheet" href="http://10.0.0.1/s.css">'
    ' <script>alert(1)</script>'
)


def _words(text: str) -> str:
    """Extracted text with line breaks and runs of spaces collapsed, so a wrapped cell matches."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def ctx() -> dict:
    return make_ctx()


@pytest.fixture(scope="module")
def pdf(ctx: dict) -> bytes:
    return render_pdf(ctx)


@pytest.fixture(scope="module")
def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


@pytest.fixture(scope="module")
def text(reader: PdfReader) -> str:
    return _words(" ".join(page.extract_text() for page in reader.pages))


def test_is_an_a4_pdf(pdf: bytes, reader: PdfReader) -> None:
    assert pdf.startswith(b"%PDF")
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - A4_PT[0]) <= 1
        assert abs(float(box.height) - A4_PT[1]) <= 1


def test_pages_are_numbered_in_indonesian(reader: PdfReader) -> None:
    n = len(reader.pages)
    assert n >= 2
    assert f"Halaman 1 dari {n}" in _words(reader.pages[0].extract_text())
    assert f"Halaman {n} dari {n}" in _words(reader.pages[-1].extract_text())


def test_running_header_names_the_week(reader: PdfReader, ctx: dict) -> None:
    """Page 1 has the title block; every later page repeats document and week at the top."""
    subject = render_bulletin(ctx).subject
    for page in reader.pages[1:]:
        assert ctx["week"] in _words(page.extract_text())
    assert reader.metadata.title == subject


def test_every_kabkota_appears(text: str, ctx: dict) -> None:
    for k in ctx["kabkota"]:
        assert k["kabkota_name"] in text


def test_malicious_narasi_is_printed_as_text(text: str) -> None:
    assert "<script>alert(1)</script>" in text
    assert "<img src=x onerror=alert(2)>" in text


def test_english_pdf() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(make_ctx("en"))))
    first = _words(reader.pages[0].extract_text())
    assert f"Page 1 of {len(reader.pages)}" in first
    assert "Pilkada Readiness Bulletin" in first and "✖ Critical" in first
    assert reader.trailer["/Root"]["/Lang"] == "en"


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.1/x.png", "https://example.org/s.css", "file:///etc/passwd", "ftp://h/x"],
)
def test_fetcher_refuses_anything_but_data_uris(url: str) -> None:
    with pytest.raises(ValueError, match="ditolak"):
        OfflineFetcher()(url)


def test_fetcher_decodes_data_uris() -> None:
    png = OfflineFetcher()("data:image/png;base64,iVBORw0KGgo=")
    assert png.read() == b"\x89PNG\r\n\x1a\n" and png.content_type == "image/png"
    assert OfflineFetcher()("data:text/plain,a%20b").read() == b"a b"


def test_markup_in_regency_text_fetches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Escaped, an <img src=http://…> is only text: the renderer asks for the two chart data:
    URIs and nothing else, and no socket is ever opened."""
    requested: list[str] = []
    fetch = OfflineFetcher.fetch

    def spy(self: OfflineFetcher, url: str, headers: dict | None = None):
        requested.append(url)
        return fetch(self, url, headers)

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(OfflineFetcher, "fetch", spy)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    ctx = make_ctx()
    ctx["kabkota"][0]["narasi"] = HOSTILE_NARASI
    reader = PdfReader(io.BytesIO(render_pdf(ctx)))
    assert len(requested) >= 2  # the charts the print layout shows, nothing else
    assert all(url.startswith("data:image/png;base64,") for url in requested)
    text = _words(" ".join(page.extract_text() for page in reader.pages))
    assert '<img src="http://10.0.0.1/x.png">' in text


def test_bulletin_with_pdf_goes_into_the_message() -> None:
    b = render_bulletin(make_ctx(), with_pdf=True)
    assert b.pdf is not None and b.pdf.startswith(b"%PDF")
    msg = build_message(b, "desk@siaga-pilkada.local", ["a@kaltim.go.id"])
    attachment = msg.get_payload()[1]
    assert attachment.get_filename() == "buletin-2024-W47-id.pdf"
    assert attachment.get_content() == b.pdf


def _elements(node: object, depth: int = 0) -> Iterator[DictionaryObject]:
    """Every element of the PDF's structure tree under `node`, depth first."""
    node = node.get_object() if isinstance(node, IndirectObject) else node
    if isinstance(node, ArrayObject):
        for kid in node:
            yield from _elements(kid, depth + 1)
    elif isinstance(node, DictionaryObject) and depth < 200:
        if "/S" in node:
            yield node
        if "/K" in node:
            yield from _elements(node["/K"], depth + 1)


def test_pdf_is_tagged_for_screen_readers(reader: PdfReader, ctx: dict) -> None:
    """PDF/UA-1: a structure tree with headings, tables and figures, marked content, the
    document's language and a title that viewers show instead of the file name."""
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"])  # a pypdf BooleanObject
    assert root["/Lang"] == "id"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == render_bulletin(ctx).subject
    kinds = {str(e["/S"]) for e in _elements(root["/StructTreeRoot"])}
    assert {"/H1", "/H2", "/H3", "/Table", "/Figure"} <= kinds


def test_figures_carry_the_charts_alt_text(reader: PdfReader) -> None:
    alts = [str(e["/Alt"]) for e in _elements(reader.trailer["/Root"]["/StructTreeRoot"])
            if e["/S"] == "/Figure" and "/Alt" in e]
    assert any(a.startswith("Logistik: ") and "Mahulu 100,0% / 53,0%" in a for a in alts)
    assert any(a.startswith("Keamanan: ") for a in alts)


# Attributes WeasyPrint would map to CSS with its presentational hints (img's width and height
# are the image's own size, not hints).
PRESENTATIONAL = re.compile(
    r'<(?!img\b)([a-z]+)\b[^>]*?\b(align|valign|cellpadding|cellspacing|border|width|height|'
    r'bgcolor|nowrap)="([^"{]*)"')
PRINT_TEMPLATES = ("bulletin_print.html.j2", "_bulletin_body.html.j2", "_annex_body.html.j2",
                   "_masthead.html.j2", "_macros.html.j2")


def test_every_presentational_attribute_of_the_print_templates_has_its_rule() -> None:
    """The print layout does not ask WeasyPrint for presentational hints (reports.render._pdf):
    each align/valign/cellpadding/... an email-minded template carries must have its CSS rule in
    bulletin_print.html.j2, or the PDF would silently lay that table out differently from the
    email (tests/test_annex.py compares the two layouts box by box on real contexts)."""
    folder = REPO / "reports"
    css = (folder / "bulletin_print.html.j2").read_text(encoding="utf-8")
    found = {m.groups() for name in PRINT_TEMPLATES
             for m in PRESENTATIONAL.finditer((folder / name).read_text(encoding="utf-8"))}
    assert ("table", "cellpadding", "4") in found  # the pattern sees what the templates carry
    missing = sorted(f'{tag}[{attr}="{value}"]' for tag, attr, value in found
                     if f'{tag}[{attr}="{value}"]' not in css)
    assert not missing, f"no print rule for {missing}"

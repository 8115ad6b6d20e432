"""What a borrower sees (查阅: pages rendered and watermarked) and takes away (复制: copies marked
as copies), made from originals as the archive's workers make them."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter

from archive.adapters.rendering import marked_copy, render_page
from archive.domain.watermark import NotRenderable, Watermark
from devkit.pki import Authority, first_signature, sign_pdf, stamps
from devkit.samples import PDF

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
pytestmark = pytest.mark.skipif(
    not FONT.exists(), reason="needs Debian's fonts-wqy-microhei (make infra-up installs it)"
)
AT = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
GRANT = uuid.uuid4()


def mark(use: str = "page", grant: uuid.UUID | None = GRANT) -> Watermark:
    return Watermark(use, "liuyang", AT, grant, "Q001-2025-D30-PZ-000001")  # type: ignore[arg-type]


def red_in_foot(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    foot = image.crop((0, image.height - 40, image.width, image.height)).tobytes()
    return sum(
        1 for i in range(0, len(foot), 3) if foot[i] > 150 and foot[i + 1] < 90 and foot[i + 2] < 90
    )


def test_a_pdf_page_is_rendered_with_the_watermark_on_it() -> None:
    page = render_page("application/pdf", PDF, 1, mark(), str(FONT))
    image = Image.open(io.BytesIO(page.png))
    assert page.count == 1 and image.format == "PNG"
    assert image.info["AAP-Watermark"] == (
        f"查阅 VIEW · Q001-2025-D30-PZ-000001 / liuyang · 2026-12-08 03:00:00 UTC · 授权 {GRANT}"
    )
    assert red_in_foot(page.png) > 50  # drawn on the page, not only said in its metadata
    by_role = render_page("application/pdf", PDF, 1, mark(grant=None), str(FONT))
    assert "依职权 by role" in Image.open(io.BytesIO(by_role.png)).info["AAP-Watermark"]


def test_pages_that_are_not_there_and_formats_not_rendered_are_named() -> None:
    for number in (0, 2):
        with pytest.raises(NotRenderable, match=f"has 1 page\\(s\\); there is no page {number}"):
            render_page("application/pdf", PDF, number, mark(), str(FONT))
    with pytest.raises(NotRenderable, match="application/ofd cannot be shown as pages yet"):
        render_page("application/ofd", b"PK\x03\x04", 1, mark(), str(FONT))
    with pytest.raises(NotRenderable, match="the PDF cannot be rendered"):
        render_page("application/pdf", b"%PDF-1.7 not really", 1, mark(), str(FONT))


def test_structured_data_is_shown_as_its_text_paged() -> None:
    xml = "\n".join(f"<行 序号='{n}'>差旅费</行>" for n in range(120)).encode("gb18030")
    page = render_page("application/xml", xml, 3, mark(), str(FONT))
    assert page.count == 3  # 56 lines a page
    assert red_in_foot(page.png) > 50
    # A line wider than the page goes on in the next: 100 Chinese characters take three lines.
    wide = ("差" * 100 + "\n") * 56
    assert render_page("application/json", wide.encode(), 1, mark(), str(FONT)).count == 3


def test_a_signed_pdf_copied_keeps_the_signed_revision_and_carries_the_stamp() -> None:
    authority = Authority.root("AAP 复制测试根证书")
    signed = sign_pdf(PDF, authority.issue("上海浦东发展银行 电子回单专用", "上海浦东发展银行"))
    copy = marked_copy("回单.pdf", "application/pdf", signed, mark("copy"), str(FONT))
    assert (copy.filename, copy.media_type) == ("回单-复制件.pdf", "application/pdf")
    assert copy.data.startswith(signed) and len(copy.data) > len(signed)
    status = asyncio.run(first_signature(copy.data, authority.certificate))
    assert status is not None and (status.intact, status.valid, status.trusted) == (True,) * 3
    assert stamps(copy.data) == [mark("copy").text()]
    assert mark("copy").text().startswith("复制件 COPY · 不作原件使用 · Q001-2025-D30-PZ-000001")


def test_every_page_of_a_copy_is_stamped() -> None:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    copy = marked_copy("账簿.pdf", "application/pdf", out.getvalue(), mark("copy"), str(FONT))
    assert len(stamps(copy.data)) == 3


def test_another_format_is_copied_in_a_package_naming_the_same() -> None:
    xml = "<电子回单><金额>56500.00</金额></电子回单>".encode()
    copy = marked_copy("回单.xml", "application/xml", xml, mark("copy"), str(FONT))
    assert (copy.filename, copy.media_type) == ("回单-复制件.xml.zip", "application/zip")
    with zipfile.ZipFile(io.BytesIO(copy.data)) as package:
        assert package.read("回单.xml") == xml
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["sha256"] == hashlib.sha256(xml).hexdigest()
    assert manifest["watermark"] == mark("copy").text()
    assert manifest["copy_of"] == "回单.xml"

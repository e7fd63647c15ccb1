"""QR codes: on the live-code page, on posters and in the printable live code."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image


def qr_image(text: str, border: int = 2, box: int = 10) -> Image.Image:
    """A black-on-white QR code of `text` (error correction M: survives a little print wear)."""
    import qrcode  # type: ignore[import-untyped]  # loaded with the first code drawn

    qr = qrcode.QRCode(
        border=border, box_size=box, error_correction=qrcode.constants.ERROR_CORRECT_M
    )
    qr.add_data(text)
    qr.make(fit=True)
    image: Image.Image = qr.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("RGB")


@lru_cache(maxsize=1024)
def qr_png(text: str, box: int = 8, border: int = 2) -> bytes:
    """The QR code as PNG bytes (cached: a group's link rarely changes)."""
    out = io.BytesIO()
    qr_image(text, border, box).convert("1").save(out, format="PNG")  # 1 bit: a small file
    return out.getvalue()

"""Small pictures for tests of question images, made with Pillow."""

from __future__ import annotations

import base64
import io

from PIL import Image


def picture(fmt: str = "PNG", size: tuple[int, int] = (3, 2), color: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

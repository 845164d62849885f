"""Question images: checked with Pillow, stored under MEDIA_ROOT by their content's hash.

A name made from the content means a file never changes under its URL, so browsers and proxies may
cache it for a year (see views.media). The same picture uploaded again is stored again: the storage
never overwrites a name, it adds "_" and 7 letters to the new copy's.
"""

from __future__ import annotations

import hashlib
import os

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # 40 megapixels: far more than a projector needs, far less than a bomb
# Pillow's format name -> the file extension it is stored with.
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
IMAGE_MIME_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


def image_format(upload) -> str:
    """The file's extension by its content ("png", "jpg", "gif", "webp"); ValidationError otherwise."""
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(_("The image is larger than 5 MB."), code="image_size")
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            fmt = image.format
            width, height = image.size
            image.verify()  # reads the whole file: a truncated or corrupt one fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("The file is not an image that can be read."), code="image_format") from None
    finally:
        upload.seek(position)
    if fmt not in IMAGE_FORMATS:
        raise ValidationError(_("Images must be PNG, JPEG, GIF or WebP."), code="image_format")
    if width * height > MAX_IMAGE_PIXELS:
        raise ValidationError(_("The image has too many pixels (over 40 megapixels)."), code="image_size")
    return IMAGE_FORMATS[fmt]


def validate_question_image(field_file) -> None:
    """Model-field validator: PNG, JPEG, GIF or WebP, at most 5 MB, readable by Pillow."""
    if getattr(field_file, "_committed", False):
        # Already stored: it was checked when it came in. (Reading `.file` would open it from storage.)
        return
    image_format(getattr(field_file, "file", field_file))


def question_image_path(instance, filename: str) -> str:
    """questions/<sha256 of the content>.<ext>, the extension from the content, not the name."""
    upload = instance.image.file
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(64 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    try:
        ext = image_format(upload)
    except ValidationError:
        ext = os.path.splitext(filename)[1].lstrip(".").lower() or "bin"
    return f"questions/{digest.hexdigest()}.{ext}"

"""Question images served by the app itself (quizzes_app.views.media), with or without a proxy."""

from __future__ import annotations

import hashlib
import runpy

import pytest
from django.conf import settings
from django.utils.http import http_date

import knewit.settings
from quizzes_app.io import quiz_from_dict
from quizzes_app.tests.pictures import data_url, picture

PNG = picture()
NAME = hashlib.sha256(PNG).hexdigest()


@pytest.fixture
def stored(media_root):
    """A question image as question_image_path names it, and a file beside the questions folder."""
    (media_root / "questions").mkdir(parents=True)
    path = media_root / "questions" / f"{NAME}.png"
    path.write_bytes(PNG)
    (media_root / "secret.png").write_bytes(PNG)
    return path


def test_image_is_served_with_its_headers(client, stored):
    response = client.get(f"/media/questions/{NAME}.png")
    assert response.status_code == 200
    assert response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(PNG))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == f'"{NAME}"'
    assert response["Last-Modified"] == http_date(int(stored.stat().st_mtime))
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.parametrize(
    "headers",
    [{"If-None-Match": f'"{NAME}"'}, {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}],
    ids=["etag", "date"],
)
def test_unchanged_image_is_not_sent_again(client, stored, headers):
    response = client.get(f"/media/questions/{NAME}.png", headers=headers)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == f'"{NAME}"'
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


def test_other_etag_gets_the_image(client, stored):
    response = client.get(f"/media/questions/{NAME}.png", headers={"If-None-Match": '"other"'})
    assert response.status_code == 200
    assert response.content == PNG


def test_head_sends_headers_only(client, stored):
    response = client.head(f"/media/questions/{NAME}.png")
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == str(len(PNG))


@pytest.mark.parametrize(("fmt", "ext", "mime"), [("JPEG", "jpg", "image/jpeg"), ("GIF", "gif", "image/gif"),
                                                   ("WEBP", "webp", "image/webp")])  # fmt: skip
def test_each_format_has_its_content_type(client, media_root, fmt, ext, mime):
    (media_root / "questions").mkdir(parents=True)
    (media_root / "questions" / f"{NAME}_aB3dE9z.{ext}").write_bytes(picture(fmt))
    response = client.get(f"/media/questions/{NAME}_aB3dE9z.{ext}")
    assert (response.status_code, response["Content-Type"]) == (200, mime)


def test_uploaded_question_image_is_served_at_its_url(client, host):
    data = {
        "title": "T",
        "questions": [{"prompt": "P?", "options": ["a", "b"], "correct_idx": 0, "image": data_url(PNG)}],
    }
    url = quiz_from_dict(data, owner=host).questions.get().image.url
    assert url == f"/media/questions/{NAME}.png"
    assert client.get(url).content == PNG


async def test_served_over_asgi_as_daphne_does(async_client, stored):
    response = await async_client.get(f"/media/questions/{NAME}.png")
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert response.content == PNG


@pytest.mark.parametrize(
    "path",
    [
        "secret.png",  # MEDIA_ROOT itself, beside questions/
        "questions/../secret.png",
        "questions/%2e%2e/secret.png",
        "questions/..%2fsecret.png",
        "questions/..%5csecret.png",
        "questions//etc/passwd",
        "questions/%2fetc%2fpasswd",
        "questions/sub/x.png",
        f"questions/{NAME}.png/",
        f"questions/{NAME}.PNG",
        f"questions/{NAME}.txt",
        f"questions/{NAME}",
        "questions/",
        "questions/unknown.png",
        "../knewit/settings.py",
        "%2e%2e/knewit/settings.py",
    ],
)
def test_anything_else_is_not_found(client, stored, path):
    (stored.parent / f"{NAME}.txt").write_text("not an image")
    assert client.get(f"/media/{path}").status_code == 404


def test_only_safe_methods(client, stored):
    assert client.post(f"/media/questions/{NAME}.png").status_code == 405


def test_media_root_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DJANGO_MEDIA_ROOT", str(tmp_path / "pictures"))
    assert runpy.run_path(knewit.settings.__file__)["MEDIA_ROOT"] == tmp_path / "pictures"
    monkeypatch.delenv("DJANGO_MEDIA_ROOT")
    fresh = runpy.run_path(knewit.settings.__file__)
    assert fresh["MEDIA_ROOT"] == fresh["BASE_DIR"] / "media"
    assert fresh["MEDIA_URL"] == "/media/"


def test_pages_may_show_images_from_the_site():
    assert "'self'" in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"]

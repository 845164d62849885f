"""What deploy/ ships is usable as shipped: Django's deployment checks pass with the environment file, and
nginx accepts the site file with its snippet (tests/test_tls_proxy.py runs the snippet for real)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from tests.tls_proxy import DEPLOY, NGINX, ROOT, read_env_file, require_nginx, self_signed_certificate


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_passes_with_the_environment_file_and_a_secret_key():
    env = read_env_file(DEPLOY / "knewit.env")
    assert env["DJANGO_SECRET_KEY"] == ""  # no secret ships; deploy/README.md says how to make one
    forgotten = check_deploy(env)
    assert forgotten.returncode != 0 and "security.W009" in forgotten.stderr, forgotten.stderr
    done = check_deploy({**env, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_nginx_accepts_the_site_and_its_snippet(tmp_path):
    require_nginx()
    cert, key = self_signed_certificate(tmp_path)
    site = (DEPLOY / "nginx" / "sites-available" / "knewit").read_text()
    site = site.replace("/etc/letsencrypt/live/quiz.example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/quiz.example.org/privkey.pem", str(key))
    site = site.replace("snippets/knewit.conf", str(DEPLOY / "nginx" / "snippets" / "knewit.conf"))
    (tmp_path / "site").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ include /etc/nginx/mime.types; include {tmp_path}/site; }}\n"
    )
    command = [NGINX, "-t", "-p", tmp_path, "-c", tmp_path / "nginx.conf", "-e", tmp_path / "error.log"]
    tested = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert tested.returncode == 0, tested.stderr
    assert "test is successful" in tested.stderr

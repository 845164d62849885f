"""Project checks run by `manage.py check` (and `check --deploy`)."""

from __future__ import annotations

from importlib.metadata import version

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

MIN_DAPHNE = (4, 2, 3)  # 4.2.2 and 4.2.3 fix unbounded message size and upgrade-header smuggling


@register(Tags.security)
def allowed_hosts_not_wildcard(app_configs, **kwargs):
    if "*" in settings.ALLOWED_HOSTS:
        return [
            Error(
                "ALLOWED_HOSTS contains '*', which also switches off the WebSocket origin check.",
                id="knewit.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def content_security_policy_is_strict(app_configs, **kwargs):
    directives = getattr(settings, "CONTENT_SECURITY_POLICY", {}).get("DIRECTIVES", {})
    problems = []
    for name in ("script-src", "style-src", "default-src"):
        values = directives.get(name, [])
        if not values or any(v in ("'unsafe-inline'", "'unsafe-eval'", "*") for v in values):
            problems.append(
                Warning(f"CSP `{name}` is missing or allows inline/eval/any source.", id="knewit.W001")
            )
    return problems


@register(Tags.security, deploy=True)
def daphne_is_patched(app_configs, **kwargs):
    installed = tuple(int(part) for part in version("daphne").split(".")[:3])
    if installed < MIN_DAPHNE:
        return [
            Error(
                f"daphne {version('daphne')} is older than 4.2.3 (message size and header smuggling fixes).",
                id="knewit.E002",
            )
        ]
    return []


MIN_SQLITE = (3, 35, 0)  # answers are inserted with ON CONFLICT DO NOTHING ... RETURNING


@register(Tags.database)
def sqlite_takes_returning(app_configs, databases=None, **kwargs):
    import sqlite3

    return sqlite_problems(settings.DATABASES["default"]["ENGINE"], sqlite3.sqlite_version_info)


def sqlite_problems(engine: str, version_info: tuple) -> list:
    if engine != "django.db.backends.sqlite3" or tuple(version_info) >= MIN_SQLITE:
        return []
    found, needed = ".".join(map(str, version_info)), ".".join(map(str, MIN_SQLITE))
    return [
        Error(
            f"SQLite {found} is too old: answers need {needed} or later (RETURNING). "
            "Use a newer Python build, or PostgreSQL.",
            id="knewit.E003",
        )
    ]

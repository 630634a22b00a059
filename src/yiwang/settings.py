"""Django settings. Everything is configured by YIWANG_* environment variables with working defaults,
so the demo needs no setting at all."""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE as CSP_UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("YIWANG_VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


# Where this instance runs: "demo" (the default: `make run`), "development", or "production". In production
# `yiwang serve` refuses to start while core/deploy.py finds a problem (built-in secret key, cookies or HSTS
# missing over HTTPS...); `yiwang check --deploy` lists them. See docs/security.md.
YIWANG_ENV = os.environ.get("YIWANG_ENV", "demo").strip().lower()
BUILTIN_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-7f3a9c"
SECRET_KEY = os.environ.get("YIWANG_SECRET_KEY", BUILTIN_SECRET_KEY)
DEBUG = env_bool("YIWANG_DEBUG", False)
# Served over HTTPS (directly or behind a TLS-terminating proxy): secure cookies, HSTS and the redirect follow.
YIWANG_HTTPS = env_bool("YIWANG_HTTPS", False)
ALLOWED_HOSTS = os.environ.get("YIWANG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("YIWANG_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "huey.contrib.djhuey",
    "yiwang.core",
    "yiwang.catalog",
    "yiwang.cases",
    "yiwang.licences",
    "yiwang.incidents",
    "yiwang.datahub",
    "yiwang.collab",
    "yiwang.credit",
    "yiwang.web",
    "yiwang.demo",  # the demo district: above every app, last, owns `yiwang demo`
]

MIDDLEWARE = [
    "yiwang.core.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "yiwang.core.csp_policy.CSPMiddleware",  # django-csp's, plain policies built once; every response, static too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "yiwang.incidents.open311_format.Open311ErrorMiddleware",  # every error under /open311/ in GeoReport form
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yiwang.core.caching.PersonalNoStoreMiddleware",
    "yiwang.core.edge.EdgeMiddleware",  # bad input refused before any view reads it; /api/ errors as problem+json
    "yiwang.core.identity.SessionIdleTimeoutMiddleware",
    "yiwang.collab.middleware.StaffActivityMiddleware",  # 一网协同 adoption: one row per staff member and day
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "yiwang.core.ratelimit.RateLimitMiddleware",
]

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"
ASGI_APPLICATION = "yiwang.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.web.context.navigation",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "yiwang.sqlite3"
DATABASE_URL = os.environ.get("YIWANG_DATABASE_URL", f"sqlite:///{SQLITE_PATH}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("YIWANG_DB_CONN_MAX_AGE", "60")))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two writers
    # queue on busy_timeout instead of failing with "database is locked" halfway through a transaction.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    _db["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- identity ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.Account"
AUTHENTICATION_BACKENDS = ["yiwang.core.identity.AccountBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "core:login"
SESSION_COOKIE_AGE = int(os.environ.get("YIWANG_SESSION_AGE", str(8 * 3600)))  # absolute: one working day
SESSION_IDLE_SECONDS = int(os.environ.get("YIWANG_SESSION_IDLE", str(30 * 60)))  # idle logout
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("YIWANG_SECURE_COOKIES", YIWANG_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if YIWANG_HTTPS:
    SECURE_HSTS_SECONDS = int(os.environ.get("YIWANG_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("YIWANG_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("YIWANG_HSTS_PRELOAD", False)
    SECURE_SSL_REDIRECT = env_bool("YIWANG_SSL_REDIRECT", True)
    if env_bool("YIWANG_BEHIND_TLS_PROXY", False):
        # The proxy terminates TLS and says so in this header; only set when the proxy strips it from clients.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- rate limits (core/ratelimit.py; docs/security.md) ------------------------------------------------------
# Per-scope rates override the defaults in core.ratelimit.DEFAULT_LIMITS, e.g.
# YIWANG_RATE_LIMITS="licence_verify=120/minute;open311_write=20/minute". Counted in Redis when
# YIWANG_REDIS_URL is set, in process memory otherwise.
YIWANG_RATE_LIMITS = {
    scope.strip(): rate.strip()
    for scope, _sep, rate in (
        part.partition("=") for part in os.environ.get("YIWANG_RATE_LIMITS", "").split(";") if "=" in part
    )
}
YIWANG_RATE_LIMITS_ENABLED = env_bool("YIWANG_RATE_LIMITS_ENABLED", True)
YIWANG_RATE_LIMIT_STORAGE = os.environ.get("YIWANG_RATE_LIMIT_STORAGE", "")  # a `limits` storage URI
# Reverse proxies whose X-Forwarded-For is believed (their own address as REMOTE_ADDR).
YIWANG_TRUSTED_PROXIES = [a for a in os.environ.get("YIWANG_TRUSTED_PROXIES", "").split(",") if a]
YIWANG_API_TOKEN_HOURS = int(os.environ.get("YIWANG_API_TOKEN_HOURS", "8"))
# Who a bearer token acts as is remembered briefly (core/principal_cache.py; docs/performance.md): revocation
# reaches every node within a second through an epoch in Redis (read every POLL seconds), or — without Redis —
# because an entry lives at most one second. SECONDS: the lifetime with Redis (default 5).
YIWANG_PRINCIPAL_CACHE = env_bool("YIWANG_PRINCIPAL_CACHE", True)
YIWANG_PRINCIPAL_CACHE_SECONDS = float(os.environ.get("YIWANG_PRINCIPAL_CACHE_SECONDS", "5"))
YIWANG_PRINCIPAL_CACHE_POLL = float(os.environ.get("YIWANG_PRINCIPAL_CACHE_POLL", "0.5"))

# --- keys and audit --------------------------------------------------------------------------------
YIWANG_KEYSTORE = Path(os.environ.get("YIWANG_KEYSTORE", VAR_DIR / "keystore.json"))
# Evidence log (core/evidence): the sequencer integrates pending entries every SEQUENCER_INTERVAL seconds and
# signs a tree head every SIGN_EVERY new entries and at least every SIGN_INTERVAL_SECONDS.
YIWANG_EVIDENCE_SIGN_EVERY = int(os.environ.get("YIWANG_EVIDENCE_SIGN_EVERY", "1000"))
YIWANG_EVIDENCE_SIGN_INTERVAL_SECONDS = float(os.environ.get("YIWANG_EVIDENCE_SIGN_INTERVAL_SECONDS", "60"))
YIWANG_EVIDENCE_SEQUENCER_INTERVAL = float(os.environ.get("YIWANG_EVIDENCE_SEQUENCER_INTERVAL", "1.0"))
# Witnessing (core/evidence/witness.py): base URLs of other nodes whose signed tree heads a Huey task checks every
# minute (comma-separated; empty: none), and the keys their heads must be signed with ("KEY_ID=HEX,..." or one
# bare HEX; empty: this node's own platform keys, as the nodes of one deployment share the keystore).
YIWANG_EVIDENCE_WITNESS_URLS = [
    u.strip() for u in os.environ.get("YIWANG_EVIDENCE_WITNESS_URLS", "").split(",") if u.strip()
]
YIWANG_EVIDENCE_WITNESS_KEYS = os.environ.get("YIWANG_EVIDENCE_WITNESS_KEYS", "")

# --- i18n -----------------------------------------------------------------------------------------
# Source strings are Chinese (the default language is always complete); English lives in locale/en.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- static ---------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [
    ("vendor/echarts", PROJECT_DIR / "node_modules" / "echarts" / "dist"),
    ("vendor/swagger-ui", PROJECT_DIR / "node_modules" / "swagger-ui-dist"),  # /api/docs without a CDN
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Per applicant account: unfinished applications and bytes stored across all their cases (docs/security.md).
# 一网协同: the department that numbers, seals and archives the district's documents (the government office),
# and the public address printed in documents sealed outside a request (the QR code to /collab/verify/).
YIWANG_DISTRICT_OFFICE = os.environ.get("YIWANG_DISTRICT_OFFICE", "ZFB")
YIWANG_PUBLIC_URL = os.environ.get("YIWANG_PUBLIC_URL", "http://127.0.0.1:8000")

YIWANG_MAX_DRAFTS_PER_ACCOUNT = int(os.environ.get("YIWANG_MAX_DRAFTS_PER_ACCOUNT", "20"))
YIWANG_MAX_STORED_BYTES_PER_ACCOUNT = int(
    os.environ.get("YIWANG_MAX_STORED_BYTES_PER_ACCOUNT", str(200 * 1024 * 1024))
)  # a body without its files; larger: 413 (core/edge.py)
# The edge (core/edge.py; docs/security.md "Bad input at the edge"): a whole request, files included, and how
# deep a JSON body may nest.
YIWANG_MAX_REQUEST_BYTES = int(os.environ.get("YIWANG_MAX_REQUEST_BYTES", str(64 * 1024 * 1024)))
YIWANG_MAX_JSON_DEPTH = int(os.environ.get("YIWANG_MAX_JSON_DEPTH", "32"))
# 数据质量 on a PostgreSQL table: how many Soda sessions verify a resource's rules side by side, each on its own
# connection (datahub/quality/evaluate.py). PostgreSQL runs each query on one core; 1 runs them one by one.
YIWANG_QUALITY_POSTGRES_SESSIONS = max(1, int(os.environ.get("YIWANG_QUALITY_POSTGRES_SESSIONS", "2")))
CSRF_FAILURE_VIEW = (
    "yiwang.core.views.errors.csrf_failure"  # problem+json under /api/, Django's page elsewhere
)

# --- background work, cache, MQTT ------------------------------------------------------------------
REDIS_URL = os.environ.get("YIWANG_REDIS_URL", "")
MQTT_URL = os.environ.get("YIWANG_MQTT_URL", "mqtt://127.0.0.1:1883")
# `yiwang mqtt-consume` keeps a persistent session (incidents/mqtt.py): one stable client id per consumer (the
# command's --client-id wins; default yiwang-mqtt-<host>-<group>) and how long the broker keeps the session
# (and queues its readings) while the consumer is away.
MQTT_CLIENT_ID = os.environ.get("YIWANG_MQTT_CLIENT_ID", "")
MQTT_SESSION_EXPIRY = int(os.environ.get("YIWANG_MQTT_SESSION_EXPIRY", str(24 * 3600)))
if REDIS_URL:
    HUEY = {
        "huey_class": "yiwang.core.queue.ClusterRedisHuey",
        "name": "yiwang",
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": 4, "worker_type": "thread"},
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "yiwang",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": env_bool("YIWANG_HUEY_IMMEDIATE", False),
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- logging: one JSON object per line, with the request id -----------------------------------------
LOG_LEVEL = os.environ.get("YIWANG_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "yiwang.core.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "yiwang.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # run_huey adds its own plain handler unless the logger has one: give it ours, once.
        "huey": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}

MESSAGE_STORAGE = (
    "django.contrib.messages.storage.session.SessionStorage"  # one-time secrets never ride in a cookie
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# HSTS preload (security.W021) is a decision about the whole domain, taken by its owner: YIWANG_HSTS_PRELOAD=1.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Content-Security-Policy (django-csp; docs/security.md) --------------------------------------------------
# Scripts only from this origin, plus inline <script nonce="{{ request.csp_nonce }}"> blocks; no eval, no inline
# event handlers, no third-party origin. <style> elements likewise need the nonce; style *attributes* are allowed
# (ECharts' tooltips and a few templates set them; they cannot run script). The nonce enters the header only
# on responses whose template used it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_NONCE],
        "style-src-elem": [CSP_SELF, CSP_NONCE],
        "style-src-attr": [CSP_UNSAFE_INLINE],
        "img-src": [CSP_SELF, "data:"],  # data: for Swagger UI's icons and inline SVG backgrounds
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "form-action": [CSP_SELF],
    }
}
X_FRAME_OPTIONS = "DENY"
NINJA_PAGINATION_PER_PAGE = 50

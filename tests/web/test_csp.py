"""Content-Security-Policy and script from data (issue 11, section 4; docs/security.md).

- every response carries the policy: scripts from this origin plus a per-request nonce, no 'unsafe-inline' or
  'unsafe-eval' for scripts, no third-party origin, object-src 'none', base-uri, frame-ancestors, form-action;
- every inline <script> and <style> of every template carries the nonce, no template has an inline event
  handler or a javascript: URL, and a rendered page's nonce is the one in its header;
- every script of the project (static files and inline template scripts) builds HTML from data only through
  the one escaper, web/static/web/yiwang.js: ECharts tooltip formatters call it, nothing writes innerHTML;
- /api/docs is served from this origin (swagger-ui-dist from npm), with no inline script.
The browser side (a hostile grid name in every map tooltip, no violation in any journey) is in
tests/e2e/test_script_from_data_journey.py and tests/e2e/conftest.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.incidents.factories import build_incident_world

SRC = Path(settings.BASE_DIR)
TEMPLATES = sorted(SRC.glob("*/templates/**/*.html"))
STATIC_JS = sorted(p for p in SRC.glob("*/static/**/*.js") if "vendor" not in p.parts)


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _assert_strict(policy: dict[str, list[str]]) -> None:
    assert policy.get("default-src") == ["'self'"], policy
    script = policy.get("script-src", [])
    assert script[0] == "'self'" and all(s.startswith("'nonce-") for s in script[1:]), script
    for directive, sources in policy.items():
        # no third-party origin anywhere, no inline script by any other name, no eval
        assert not [s for s in sources if "://" in s or s.startswith(("http:", "https:", "*"))], directive
        assert "'unsafe-eval'" not in sources, directive
        if directive.startswith("script-src") or directive in {"default-src", "style-src", "style-src-elem"}:
            assert "'unsafe-inline'" not in sources, directive
    assert policy.get("object-src") == ["'none'"]
    assert policy.get("base-uri") == ["'self'"]
    assert policy.get("frame-ancestors") == ["'none'"]
    assert policy.get("form-action") == ["'self'"]


# --- the header -----------------------------------------------------------------------------------------------
PUBLIC_URLS = [
    "/about/",
    "/login/",
    "/services/",
    "/api/docs",
    "/api/openapi.json",
    "/api/no-such-operation",
    "/open311/v2/services.json",
    "/admin/login/",
    "/healthz",
    "/no-such-page/",
    "/static/web/yiwang.js",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_every_response_carries_the_policy(client, url):
    response = client.get(url)
    assert "Content-Security-Policy" in response.headers, (url, response.status_code)
    _assert_strict(_policy(response))


STAFF_PAGES = [
    ("operator", "/incidents/hotline/"),
    ("dispatcher", "/incidents/ops/"),
    ("dispatcher", "/org/?code=440199001002"),
    ("citizen", "/incidents/report/"),
    ("cgj_handler", "/incidents/work/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "url"), STAFF_PAGES)
def test_pages_with_inline_scripts_use_the_nonce_of_their_own_header(client, who, url):
    world = build_incident_world()
    account = world.citizen if who == "citizen" else getattr(world, who).account
    client.force_login(account)
    response = client.get(url)
    assert response.status_code == 200
    policy = _policy(response)
    _assert_strict(policy)
    html = response.content.decode()
    inline = re.findall(r"<(script|style)\b(?![^>]*\bsrc=)([^>]*)>", html)
    inline = [(tag, attrs) for tag, attrs in inline if "application/json" not in attrs]
    nonces = {
        re.search(r'nonce="([^"]*)"', attrs).group(1) if "nonce=" in attrs else "" for _, attrs in inline
    }
    if inline:
        assert len(nonces) == 1 and "" not in nonces, inline
        (nonce,) = nonces
        assert f"'nonce-{nonce}'" in policy["script-src"]
        assert f"'nonce-{nonce}'" in policy["style-src-elem"]
    assert not re.search(r"\son[a-z]+\s*=", html), "an inline event handler"


def test_two_responses_never_share_a_nonce(client, db):
    world = build_incident_world()
    client.force_login(world.operator.account)
    first = _policy(client.get("/incidents/hotline/"))["script-src"]
    second = _policy(client.get("/incidents/hotline/"))["script-src"]
    assert len(first) == 2 and len(second) == 2 and first[1] != second[1]


# --- the templates --------------------------------------------------------------------------------------------
def _relative(path: Path) -> str:
    return str(path.relative_to(SRC))


@pytest.mark.parametrize("template", TEMPLATES, ids=_relative)
def test_templates_mark_inline_code_with_the_nonce_and_have_no_inline_handlers(template):
    text = re.sub(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", template.read_text(), flags=re.S)
    problems = []
    for match in re.finditer(r"<(script|style)\b([^>]*)>", text):
        tag, attrs = match.groups()
        if "src=" in attrs or 'type="application/json"' in attrs or "application/ld+json" in attrs:
            continue
        if 'nonce="{{ request.csp_nonce }}"' not in attrs:
            problems.append(f"inline <{tag}> without the nonce: {match.group(0)}")
    problems += [
        f"inline event handler: {m.group(0)}" for m in re.finditer(r"<[^>]*\son[a-z]+\s*=[^>]*>", text)
    ]
    problems += [f"javascript: URL: {m.group(0)}" for m in re.finditer(r"javascript:", text, flags=re.I)]
    problems += [
        f"third-party asset: {m.group(0)}"
        for m in re.finditer(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"(?:https?:)?//[^\"]*\"", text)
    ]
    assert not problems, problems


# --- the scripts ----------------------------------------------------------------------------------------------
def _scripts() -> list[tuple[str, str]]:
    """Every script of the project: static files and the inline scripts of the templates."""
    found = [(_relative(p), p.read_text()) for p in STATIC_JS]
    for template in TEMPLATES:
        for n, match in enumerate(
            re.finditer(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", template.read_text(), re.S)
        ):
            found.append((f"{_relative(template)}#{n + 1}", match.group(1)))
    return found


def _enclosing_key(code: str, position: int) -> str:
    """The option key whose object literal encloses `position` (`tooltip` for `tooltip: { formatter: ... }`)."""
    depth = 0
    for i in range(position - 1, -1, -1):
        if code[i] == "}":
            depth += 1
        elif code[i] == "{":
            if depth == 0:
                key = re.search(r"([A-Za-z_$][\w$]*)\s*:\s*$", code[:i])
                return key.group(1) if key else ""
            depth -= 1
    return ""


def _function_body(code: str, start: int) -> str:
    open_at = code.index("{", start)
    depth = 0
    for i in range(open_at, len(code)):
        depth += {"{": 1, "}": -1}.get(code[i], 0)
        if depth == 0:
            return code[open_at : i + 1]
    return code[open_at:]


SCRIPTS = _scripts()


def _without_comments(code: str) -> str:
    return re.sub(r"/\*.*?\*/|(?:^|(?<=\s))//[^\n]*", "", code, flags=re.S | re.M)


@pytest.mark.parametrize(("name", "code"), SCRIPTS, ids=[name for name, _ in SCRIPTS])
def test_scripts_make_html_from_data_only_through_the_one_escaper(name, code):
    code = _without_comments(code)
    problems = []
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        for match in re.finditer(re.escape(sink), code):
            line = code[code.rfind("\n", 0, match.start()) + 1 : code.find("\n", match.end())]
            if "yiwang.html" not in line and "yiwang.escapeHtml" not in line:
                problems.append(f"{sink} without yiwang.html/escapeHtml: {line.strip()}")
    for match in re.finditer(r"formatter\s*:\s*function\b", code):
        if _enclosing_key(code, match.start()) != "tooltip":
            continue  # label and axis formatters draw canvas text, not HTML
        body = _function_body(code, match.end())
        if "yiwang.html" not in body and "yiwang.escapeHtml" not in body:
            problems.append(f"a tooltip formatter builds HTML without yiwang.html/escapeHtml: {body[:120]}")
    assert not problems, problems


def test_the_escaper_is_loaded_before_every_page_script():
    base = (SRC / "web/templates/web/base.html").read_text()
    head = base.split("</head>")[0]
    assert (
        "{% static 'web/yiwang.js' %}" in head and "defer" not in head.split("web/yiwang.js")[1].split(">")[0]
    )
    escaper = (SRC / "web/static/web/yiwang.js").read_text()
    for char, entity in {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}.items():
        assert f'"{char}": "{entity}"' in escaper or f"'{char}': \"{entity}\"" in escaper, char


# --- /api/docs ------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_api_docs_reference_no_third_party_origin(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), "a third-party origin in /api/docs"
    assert re.search(r'<script src="/static/vendor/swagger-ui/swagger-ui-bundle[^"]*\.js"', html)
    assert re.search(r'<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui[^"]*\.css"', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html), "an inline script"
    _assert_strict(_policy(response))
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200

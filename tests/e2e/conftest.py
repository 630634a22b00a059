"""Browser journeys: Playwright driving Debian's chromium against pytest-django's live server."""

from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
# The live server runs in a thread of this process; Django refuses sync ORM calls from a thread with a
# running event loop unless told the loop belongs to Playwright, not to Django.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"browser journeys need Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


# Every journey doubles as a Content-Security-Policy check: the browser reports each violation (an inline script
# without the nonce, an inline handler, eval, a third-party origin) as a `securitypolicyviolation` event and a
# console error; the page fixture collects both and fails the test that caused any (docs/security.md).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__yiwangCspViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
    (e.sourceFile || location.href) + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""


@pytest.fixture
def csp_violations() -> list[str]:
    """What the browser refused under the Content-Security-Policy while the test ran (see `page`)."""
    return []


@pytest.fixture
def page(browser, csp_violations):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.expose_binding("__yiwangCspViolation", lambda _source, text: csp_violations.append(text))
    context.add_init_script(_CSP_LISTENER)

    def console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    context.on("console", console)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


def log_in_with_totp(page, base: str, account) -> None:
    """Logs `account` in through the login page, answering the TOTP step when its roles need one."""
    import pyotp
    from django.utils import timezone

    from tests.factories import PASSWORD

    secret = pyotp.random_base32()
    account.totp_secret = secret
    account.totp_confirmed_at = timezone.now()
    account.save(update_fields=["totp_secret", "totp_confirmed_at"])
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    if page.locator("input[name=code]").count():
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.click("main button[type=submit]")
        page.wait_for_selector("h1")
    assert "/login" not in page.url, account.username

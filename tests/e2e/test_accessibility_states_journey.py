"""Accessibility states an axe scan of the resting pages does not reach (issue 11, section 6), in a browser:

- the hotline category suggestions (arriving by HTMX) are readable: every text in them has at least 4.5:1
  contrast with what is behind it, at rest and under the pointer;
- the application pages do not scroll sideways on a 320 px wide screen (WCAG 1.4.10 reflow), before and after a
  failed submission;
- after a failed submission the error summary lists every error, each field's as a link to the field, and has the
  focus; following a link puts the focus in that field."""

from __future__ import annotations

import pytest

from tests.bundles.conftest import FORM_A, FORM_C, make_bundle, make_item
from tests.cases.factories import build_world
from tests.e2e.conftest import log_in_with_totp
from tests.incidents.factories import build_incident_world
from yiwang.incidents.services.classify import classifier_train

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def places(settings, tmp_path):
    """A published item (the case tests' world) and a 一件事 over two more items, for one citizen."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_world()
    shared = ("id_card", "身份证明", True, False)
    make_item(
        world.item_dept, "TST-QR-001", "营业执照登记", FORM_A, [shared, ("plan", "场所平面图", True, False)]
    )
    make_item(
        world.other_dept, "TST-XK-002", "招牌设置备案", FORM_C, [shared, ("sign", "招牌效果图", True, False)]
    )
    make_bundle("snack-shop", world.item_dept, [("TST-QR-001", []), ("TST-XK-002", [])])
    return world


log_in = log_in_with_totp


# WCAG 2.x relative luminance and contrast of each text node against the first opaque background behind it.
CONTRASTS = """root => {
  const parse = c => { const p = c.match(/[\\d.]+/g).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const over = (fg, bg) => ({r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a),
                             b: fg.b * fg.a + bg.b * (1 - fg.a), a: 1});
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                     return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
                             if (c.a > 0) return c.a < 1 ? over(c, {r: 255, g: 255, b: 255, a: 1}) : c; }
                             return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el.getClientRects().length) continue;
    const style = getComputedStyle(el), bg = background(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push([node.textContent.trim(), Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100, style.opacity]);
  }
  return out;
}"""


def test_hotline_category_suggestions_are_readable(page, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_incident_world()
    classifier_train(actor=None)  # from the catalogue's example complaints
    log_in(page, live_server.url, world.operator.account)
    page.goto(f"{live_server.url}/incidents/hotline/")
    page.fill("#id_description", "市场路口有流动摊贩占道卖水果，行人只能走机动车道")
    page.wait_for_selector("#suggestions .suggestions button")
    buttons = page.locator("#suggestions .suggestions button")
    assert buttons.count() >= 1
    page.mouse.move(0, 0)
    for state in ("at rest", "under the pointer"):
        if state == "under the pointer":
            buttons.first.hover()
            page.wait_for_timeout(100)
        found = page.locator("#suggestions").evaluate(CONTRASTS)
        assert any("%" in text for text, _ratio, _opacity in found), found  # the score text is measured
        poor = [(text, ratio) for text, ratio, opacity in found if ratio < 4.5 or float(opacity) < 1]
        assert not poor, f"{state}: {poor}"


def _fail_submission(page) -> None:
    page.click("form[data-case-form] button[name=intent][value=submit]")
    page.wait_for_selector("#form-errors")


PAGES_320 = {
    "apply": ("/cases/apply/11440199MB0000001XK/", False),
    "apply-after-errors": ("/cases/apply/11440199MB0000001XK/", True),
    "bundle-apply": ("/cases/bundles/apply/snack-shop/", False),
    "bundle-apply-after-errors": ("/cases/bundles/apply/snack-shop/", True),
    "catalogue": ("/services/", False),
}


# For the failure message: the outermost elements that stick out on the right (not those inside a scroller).
WIDER_THAN_THE_SCREEN = """() => {
  const width = document.scrollingElement.clientWidth;
  const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== "visible") return true; } return false; };
  return [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 0.5 && !clipped(e))
    .map(e => e.tagName + "." + e.className + "#" + e.id + " in " + e.parentElement.tagName + "." + e.parentElement.className + " right=" + Math.round(e.getBoundingClientRect().right) + " " + e.textContent.trim().slice(0, 30))
    .slice(0, 12);
}"""


@pytest.mark.parametrize("which", PAGES_320)
def test_application_pages_do_not_scroll_sideways_at_320px(page, live_server, places, which):
    path, after_errors = PAGES_320[which]
    log_in(page, live_server.url, places.citizen)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{live_server.url}{path}")
    if after_errors:
        _fail_submission(page)
    page.wait_for_load_state("networkidle")
    widths = page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    wide = page.evaluate(WIDER_THAN_THE_SCREEN)
    assert widths[0] <= widths[1], (widths, wide)


APPLY_FORMS = {
    "apply": "/cases/apply/11440199MB0000001XK/",
    "bundle-apply": "/cases/bundles/apply/snack-shop/",
}


@pytest.mark.parametrize("which", APPLY_FORMS)
def test_failed_submission_summary_lists_the_errors_as_links_and_has_the_focus(
    page, live_server, places, which
):
    log_in(page, live_server.url, places.citizen)
    page.goto(f"{live_server.url}{APPLY_FORMS[which]}")
    _fail_submission(page)
    summary = page.locator("#form-errors")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'form-errors'")
    assert summary.get_attribute("role") == "alert"

    # every error shown beside a field is in the summary, as a link to that field
    field_errors = page.locator("form[data-case-form] .field-error").all()
    assert field_errors, "the failed submission shows no field error"
    links = summary.locator("a[href^='#']")
    targets = [link.get_attribute("href")[1:] for link in links.all()]
    assert len(targets) == len(field_errors), (targets, [e.inner_text() for e in field_errors])
    for error in field_errors:
        assert error.inner_text().strip() in summary.inner_text()
    for target in targets:
        assert page.locator(f"[id='{target}']").count() == 1, target

    # following a link puts the focus in the field it names
    first = targets[0]
    links.first.click()
    assert page.evaluate("() => document.activeElement.id") == first

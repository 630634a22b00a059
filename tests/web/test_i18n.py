"""Language switch, the English catalogue and the polib-based i18n_compile command."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import NoReverseMatch, reverse

from tests.factories import AccountFactory, staff_with_roles

SRC = Path(django_settings.BASE_DIR)
PO_PATH = SRC / "locale" / "en" / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="session")
def compiled_catalogue(django_db_blocker):
    call_command("i18n_compile", verbosity=0)
    return PO_PATH.with_suffix(".mo")


@pytest.fixture
def english(compiled_catalogue, settings):
    # Re-assigning LOCALE_PATHS fires setting_changed, which drops Django's per-process translation cache, so
    # the freshly compiled catalogue is read even if another test loaded the language earlier.
    settings.LOCALE_PATHS = list(settings.LOCALE_PATHS)
    return compiled_catalogue


def h1_of(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, flags=re.S).group(1).strip()


# --- pages ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_chinese_is_the_default(client, english):
    html = client.get(reverse("web:about")).content.decode()
    assert '<html lang="zh-Hans">' in html
    assert h1_of(html) == "一网：开源数字政府平台"
    assert "跳到主要内容" in html


@pytest.mark.django_db
def test_language_switch_round_trip(client, english):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/about/"})
    assert response.status_code == 302 and response.url == "/about/"
    html = client.get("/about/").content.decode()
    assert '<html lang="en">' in html
    assert h1_of(html) == "Yiwang: an open-source digital-government platform"
    assert "Skip to main content" in html and "跳到主要内容" not in html
    assert 'aria-pressed="true">English<' in html

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/about/"})
    assert h1_of(client.get("/about/").content.decode()) == "一网：开源数字政府平台"


@pytest.mark.django_db
def test_home_in_english(client, english):
    staff = staff_with_roles("window_clerk")
    client.force_login(staff.account)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert h1_of(html) == "Intake workbench"
    assert "Window clerk" in html and ">Home<" in html and "Person lookup" in html
    assert "综合受理工作台" not in html
    assert f"Hello, {staff.name}." in html


@pytest.mark.django_db
def test_citizen_home_in_english_by_accept_language(client, english):
    client.force_login(AccountFactory(citizen=True))
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert h1_of(html) == "My services"
    assert "12345 requests" in html  # a card once marked "Coming soon" now links to reporting
    assert "My details" in html
    assert h1_of(client.get("/").content.decode()) == "个人服务首页"


@pytest.mark.django_db
def test_login_page_in_english(client, english):
    try:
        url = reverse("core:login")
    except NoReverseMatch:
        pytest.skip("the login page is not mounted in this checkout")
    zh = client.get(url).content.decode()
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "统一身份认证" in zh
    assert '<html lang="en">' in en and "Unified identity login" in en and "统一身份认证" not in en


# --- API errors -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_problem_json_follows_accept_language(client, english):
    zh = client.get("/api/ping").json()
    en = client.get("/api/ping", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["status"] == en["status"] == 401
    assert zh["title"] == "需要登录"
    assert en["title"] == "Authentication required"
    assert en["detail"] == "Provide a valid access token or log in first."


@pytest.mark.django_db
def test_field_errors_follow_accept_language(client, english):
    client.force_login(staff_with_roles("window_clerk").account)
    response = client.get("/api/org/grids/lookup", {"lon": "abc", "lat": "999"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    body = response.json()
    assert body["title"] == "Invalid request data"
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages == {"lon": "Enter a number.", "lat": "Must be at most 90.0."}


# --- the catalogue is complete for the shell, the validators and the API plumbing ------------------------------

_TEMPLATE_STRING = re.compile(r"""\{%\s*translate\s+(["'])(.+?)\1""")
_TEMPLATE_ATTR = re.compile(r"""\{%\s*translate\s+'(.+?)'""")
_BLOCK = re.compile(r"\{%\s*blocktranslate[^%]*%\}(.*?)\{%\s*endblocktranslate\s*%\}", re.S)


def _template_msgids(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    ids = {m.group(2) for m in _TEMPLATE_STRING.finditer(text)}
    for body in _BLOCK.findall(text):
        ids.add(re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", body))
    return ids


def _python_msgids(path: Path) -> set[str]:
    ids = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"_", "gettext", "gettext_lazy"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            ids.add(node.args[0].value)
    return ids


def _shell_msgids() -> set[str]:
    web = SRC / "web"
    ids: set[str] = set()
    for path in web.rglob("*.html"):
        ids |= _template_msgids(path)
    for path in [*web.glob("*.py"), SRC / "core" / "validators.py", SRC / "core" / "apiutils.py"]:
        ids |= _python_msgids(path)
    ids |= _python_msgids(SRC / "core" / "permissions.py")
    return ids


def test_english_catalogue_covers_the_shell():
    po = polib.pofile(str(PO_PATH))
    translated = {e.msgid: e.msgstr for e in po.translated_entries()}
    wanted = _shell_msgids()
    assert len(wanted) > 150, "the extractor found too few strings: it is broken"
    missing = sorted(wanted - set(translated))
    assert not missing, f"untranslated (run makemessages -l en and translate): {missing}"
    assert translated["身份证号校验位错误，请核对后重新输入。"].startswith("The ID number")


def test_catalogue_has_no_fuzzy_or_chinese_translations():
    po = polib.pofile(str(PO_PATH))
    assert not po.fuzzy_entries()
    han = re.compile(r"[\u4e00-\u9fff]")
    # A few msgstrs quote a Chinese product name on purpose (the authenticator label "Yiwang 一网").
    leftovers = [e.msgid for e in po.translated_entries() if han.search(e.msgstr) and "一网" not in e.msgstr]
    assert not leftovers


# --- the compile command --------------------------------------------------------------------------------------


def _write_po(directory: Path, entries: list[polib.POEntry]) -> Path:
    target = directory / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "en"}
    for entry in entries:
        po.append(entry)
    path = target / "django.po"
    po.save(str(path))
    return path


def test_i18n_compile_writes_mo_without_fuzzy_entries(tmp_path, settings):
    po_path = _write_po(
        tmp_path,
        [
            polib.POEntry(msgid="你好", msgstr="Hello"),
            polib.POEntry(msgid="草稿", msgstr="Draft", flags=["fuzzy"]),
            polib.POEntry(msgid="未译", msgstr=""),
            polib.POEntry(msgid="%(n)s 条", msgstr="%(n)s items", flags=["python-format"]),
        ],
    )
    settings.LOCALE_PATHS = [tmp_path]
    call_command("i18n_compile", "-l", "en", verbosity=0)
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    assert {e.msgid: e.msgstr for e in mo} == {"你好": "Hello", "%(n)s 条": "%(n)s items"}


def test_i18n_compile_refuses_mismatched_placeholders(tmp_path, settings):
    po_path = _write_po(
        tmp_path, [polib.POEntry(msgid="共 %(n)d 条", msgstr="%(count)d in total", flags=["python-format"])]
    )
    settings.LOCALE_PATHS = [tmp_path]
    with pytest.raises(CommandError, match="placeholders"):
        call_command("i18n_compile", verbosity=0)
    assert not po_path.with_suffix(".mo").exists()


def test_i18n_compile_never_writes_into_site_packages():
    from yiwang.web.management.commands.i18n_compile import catalogue_dirs

    project = SRC.resolve()
    assert all(d.is_relative_to(project) for d in catalogue_dirs())

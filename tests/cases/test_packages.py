"""The feature packages of cases (issue 13): each feature's models live in its package yet stay in app `cases`, and
the case core reaches a feature only through the registries (listeners, panels, routers, urls), apart from the
direct calls listed in CORE_CALLS_INTO_FEATURES. Source is parsed with `ast`; nothing is imported for the scan."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps

import yiwang.cases.models as case_models

CASES = Path(__file__).resolve().parents[2] / "src" / "yiwang" / "cases"
FEATURES = ("bundles", "instant", "pledges", "proactive", "reviews")

FEATURE_MODELS = {
    "bundles": ("BundleCase", "BundlePart"),
    "instant": ("InstantDecision",),
    "pledges": ("Pledge", "PledgeVerification"),
    "proactive": ("Entitlement", "PolicyRun"),
    "reviews": ("WindowReviewCode", "Review", "Rectification"),
}

# Modules of the core that wire the features in: they import every feature on purpose.
WIRING = {"models.py", "apps.py", "admin.py", "urls.py", "tasks.py", "panels.py"}

# Direct calls from the core into a feature that no registry covers yet, as (core file, feature package). Each
# is a known coupling to turn around with a hook; a new one fails the test.
CORE_CALLS_INTO_FEATURES = {
    ("services/submit.py", "pledges"),  # a submission files its 告知承诺
    ("services/submit.py", "instant"),  # 秒批 runs at submission
    ("schemas.py", "instant"),  # the case schema shows the 秒批 decision
    ("views_applicant.py", "pledges"),  # the apply form shows the pledge wording
}


@pytest.mark.parametrize("feature", FEATURES)
def test_feature_models_live_in_their_package_under_app_cases(feature):
    for name in FEATURE_MODELS[feature]:
        model = apps.get_model("cases", name)
        assert model.__module__ == f"yiwang.cases.{feature}.models"
        assert getattr(case_models, name) is model


def _imported_modules(path: Path, src: Path) -> set[str]:
    package = list(path.relative_to(src).parts[:-1])  # a module's package, or an __init__'s own
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _core_imports_of_features(root: Path = CASES) -> set[tuple[str, str]]:
    hits = set()
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        top = rel.split("/", 1)[0]
        if (
            top in FEATURES
            or top in {"migrations", "templatetags"}
            or rel in WIRING
            or top.startswith("demo")
        ):
            continue
        for module in _imported_modules(path, root.parent.parent):
            parts = module.split(".")
            if parts[:2] == ["yiwang", "cases"] and len(parts) > 2 and parts[2] in FEATURES:
                hits.add((rel, parts[2]))
    return hits


def test_the_case_core_reaches_features_only_through_the_registries():
    assert _core_imports_of_features() <= CORE_CALLS_INTO_FEATURES


def test_the_scan_sees_a_new_direct_import(tmp_path):
    root = tmp_path / "yiwang" / "cases"
    (root / "services").mkdir(parents=True)
    (root / "services" / "handling.py").write_text("def f():\n    from ..reviews.services import x\n")
    (root / "selectors.py").write_text("from yiwang.cases.bundles import selectors\n")
    assert _core_imports_of_features(root) == {
        ("services/handling.py", "reviews"),
        ("selectors.py", "bundles"),
    }

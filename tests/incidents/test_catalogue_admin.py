"""The catalogue admin: categories with their responsibility rules written through category_save (level derived,
field errors in Chinese instead of constraint errors, no active leaf without a route), the settings row, the
knowledge base and the classifier versions — all behind INCIDENT_MANAGE and audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiwang.core.models import AuditEntry
from yiwang.incidents.models import (
    ClassifierModel,
    IncidentCategory,
    IncidentSettings,
    KnowledgeAnswer,
    ResponsibilityRule,
)
from yiwang.incidents.services import classify
from yiwang.incidents.services.catalogue import category_save, category_tree
from yiwang.incidents.services.common import incident_settings
from yiwang.incidents.services.intake import IntakeReport, incident_intake

pytestmark = pytest.mark.django_db

ADD = "admin:incidents_incidentcategory_add"


@pytest.fixture(autouse=True)
def fresh_classifier():
    """No model or settings cached by another test (their rows were rolled back)."""
    from yiwang.incidents.services.common import incident_settings_invalidate

    classify.classifier_reset()
    incident_settings_invalidate()
    yield
    classify.classifier_reset()
    incident_settings_invalidate()


@pytest.fixture
def admin_client(client, iworld):
    account = iworld.admin.account
    account.is_staff = True
    account.save(update_fields=["is_staff"])
    client.force_login(account)
    return client


def category_data(iworld, rules: list[dict] | None = None, **overrides) -> dict:
    data = {
        "code": "SRHJ03",
        "name": "乱贴小广告",
        "parent": iworld.categories["SRHJ"].pk,
        "deadline_value": 2,
        "deadline_unit": "workdays",
        "handling": "department",
        "evidence_required": ["note", "photo"],
        "needs_verification": "on",
        "examples": "电线杆上贴满小广告\n楼道里有人乱贴广告",
        "is_active": "on",
        "sort": 0,
    }
    rules = rules if rules is not None else [{"division": iworld.district.pk, "department": iworld.cgj.pk}]
    data.update(
        {
            "rules-TOTAL_FORMS": len(rules),
            "rules-INITIAL_FORMS": sum(1 for r in rules if r.get("id")),
            "rules-MIN_NUM_FORMS": 0,
            "rules-MAX_NUM_FORMS": 1000,
        }
    )
    for n, rule in enumerate(rules):
        row = {"priority": 0, "is_active": "on", **rule}
        for key, value in row.items():
            if value is not None and value is not False:
                data[f"rules-{n}-{key}"] = value
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_add_a_category_with_its_rule_through_the_service(admin_client, iworld):
    response = admin_client.post(reverse(ADD), category_data(iworld))
    assert response.status_code == 302, errors_of(response)[:3000]
    category = IncidentCategory.objects.get(code="SRHJ03")
    assert category.level == 2 and category.evidence_required == ["note", "photo"]
    rule = category.rules.get()
    assert rule.department == iworld.cgj and not rule.to_grid
    entry = AuditEntry.objects.get(action="incident.category_save", object_id="SRHJ03")
    assert entry.after["rules"][0]["target"] == "CGJ"
    # it is a picker entry now
    srhj = next(node for node in category_tree() if node["code"] == "SRHJ")
    leaf = next(node for node in srhj["children"] if node["code"] == "SRHJ03")
    assert leaf["deadline"] == "2个工作日" and leaf["children"] == []


def test_no_active_leaf_without_a_route(admin_client, iworld):
    page = errors_of(admin_client.post(reverse(ADD), category_data(iworld, rules=[])))
    assert "至少需要一条启用的责任清单规则" in page
    inactive_rule = [{"division": iworld.district.pk, "department": iworld.cgj.pk, "is_active": None}]
    page = errors_of(admin_client.post(reverse(ADD), category_data(iworld, rules=inactive_rule)))
    assert "至少需要一条启用的责任清单规则" in page
    # an inactive category may be saved without (a 大类 about to get its 小类)
    response = admin_client.post(
        reverse(ADD), category_data(iworld, rules=[], code="WFJS", parent="", is_active=None)
    )
    assert response.status_code == 302
    assert IncidentCategory.objects.get(code="WFJS").level == 1
    assert not IncidentCategory.objects.filter(code="SRHJ03").exists()


def test_rule_constraints_become_field_errors(admin_client, iworld):
    both = [{"division": iworld.district.pk, "department": iworld.cgj.pk, "to_grid": "on"}]
    page = errors_of(admin_client.post(reverse(ADD), category_data(iworld, rules=both)))
    assert "二者只能选其一" in page
    neither = [{"division": iworld.district.pk}]
    page = errors_of(admin_client.post(reverse(ADD), category_data(iworld, rules=neither)))
    assert "请选择承办部门" in page
    half_window = [{"division": iworld.district.pk, "department": iworld.cgj.pk, "starts_at": "22:00"}]
    page = errors_of(admin_client.post(reverse(ADD), category_data(iworld, rules=half_window)))
    assert "须同时填写" in page
    assert not IncidentCategory.objects.filter(code="SRHJ03").exists()
    grid_rule = [{"division": iworld.district.pk, "to_grid": "on", "starts_at": "22:00", "ends_at": "06:00"}]
    assert admin_client.post(reverse(ADD), category_data(iworld, rules=grid_rule)).status_code == 302
    rule = ResponsibilityRule.objects.get(category__code="SRHJ03")
    assert rule.to_grid and rule.department is None and str(rule.ends_at) == "06:00:00"


def test_category_field_checks(admin_client, iworld):
    page = errors_of(admin_client.post(reverse(ADD), category_data(iworld, deadline_value=0)))
    assert "处置时限须为大于 0 的整数" in page
    page = errors_of(admin_client.post(reverse(ADD), category_data(iworld, code="bad code")))
    assert "分类编码须为" in page
    # a third level is allowed, a fourth is not
    level3 = category_save(
        actor=iworld.p(iworld.admin),
        category=None,
        values={
            "code": "SRHJ0101",
            "name": "早市占道",
            "parent": iworld.categories["SRHJ01"],
            "deadline_value": 1,
            "deadline_unit": "workdays",
            "handling": "department",
            "examples": "",
        },
        rules=[{"division": iworld.district, "department": iworld.cgj}],
    )
    assert level3.level == 3
    page = errors_of(admin_client.post(reverse(ADD), category_data(iworld, parent=level3.pk)))
    assert "Select a valid choice" in page or "选择一个有效的选项" in page or "最多三级" in page
    # a leaf that already has incidents cannot become a parent
    incident_intake(
        actor=None, report=IntakeReport(channel="web", description="井盖没了", category_code="AQYH01")
    )
    page = errors_of(
        admin_client.post(reverse(ADD), category_data(iworld, parent=iworld.categories["AQYH01"].pk))
    )
    assert "已有工单" in page


def test_changing_a_category_keeps_its_code_and_edits_rules(admin_client, iworld):
    category = iworld.categories["AQYH02"]  # no rule in the world
    url = reverse("admin:incidents_incidentcategory_change", args=[category.pk])
    assert admin_client.get(url).status_code == 200
    data = category_data(
        iworld,
        rules=[{"division": iworld.district.pk, "department": iworld.town_centres["440199001"].pk}],
        code=None,
        name="积水内涝",
        parent=iworld.categories["AQYH"].pk,
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, errors_of(response)[:2000]
    category.refresh_from_db()
    assert category.code == "AQYH02" and category.rules.count() == 1
    rule = category.rules.get()
    # deleting the only rule of an active leaf is refused
    data = category_data(
        iworld,
        rules=[
            {
                "id": rule.pk,
                "division": iworld.district.pk,
                "department": iworld.town_centres["440199001"].pk,
                "DELETE": "on",
            }
        ],
        code=None,
        name="积水内涝",
        parent=iworld.categories["AQYH"].pk,
    )
    assert "至少需要一条启用的责任清单规则" in errors_of(admin_client.post(url, data))
    assert category.rules.count() == 1


def test_changelist_lists_categories_without_a_route(admin_client, iworld):
    page = admin_client.get(reverse("admin:incidents_incidentcategory_changelist")).content.decode()
    assert "没有启用的责任清单规则" in page and "AQYH02" in page


def test_settings_single_row_validated_and_invalidated(admin_client, iworld):
    assert incident_settings().dedup_radius_m == 100  # cached now
    response = admin_client.get(reverse("admin:incidents_incidentsettings_changelist"))
    row = IncidentSettings.objects.get()
    url = reverse("admin:incidents_incidentsettings_change", args=[row.pk])
    assert response.status_code == 302 and response["Location"] == url
    form = admin_client.get(url).context["adminform"].form
    data = {name: form.initial[name] for name in form.fields}
    bad = {**data, "dedup_attach_score": 0.2, "dedup_suggest_score": 0.5, "dedup_radius_m": 9000}
    page = errors_of(admin_client.post(url, bad))
    assert "自动合并的相似度不能低于提示重复的相似度" in page and "5000" in page
    assert errors_of(admin_client.post(url, {**data, "classify_threshold": 1.5})).count("0 到 1") >= 1
    response = admin_client.post(url, {**data, "dedup_radius_m": 250})
    assert response.status_code == 302
    assert incident_settings().dedup_radius_m == 250  # the cached copy was dropped
    assert AuditEntry.objects.get(action="incident.settings_save").after["dedup_radius_m"] == 250


def test_knowledge_admin_saves_through_the_service(admin_client, iworld):
    url = reverse("admin:incidents_knowledgeanswer_add")
    data = {
        "question": "居住证怎么办理？",
        "answer": "携带身份证到派出所申领。",
        "keywords": "居住证 暂住",
        "category": iworld.categories["ZX01"].pk,
        "is_active": "on",
    }
    assert admin_client.post(url, data).status_code == 302
    row = KnowledgeAnswer.objects.get()
    assert " 居住证 " in row.tokens
    assert AuditEntry.objects.filter(action="incident.knowledge_save").count() == 1
    page = errors_of(admin_client.post(url, {**data, "answer": "长" * 4001}))
    assert "答复口径不能超过" in page


def test_classifier_admin_retrains_and_switches_versions(admin_client, iworld):
    changelist = reverse("admin:incidents_classifiermodel_changelist")
    page = admin_client.get(changelist).content.decode()
    assert "重新训练" in page
    retrain = reverse("admin:incidents_classifiermodel_retrain")
    assert "当前没有可用的模型" in admin_client.get(retrain).content.decode()
    assert admin_client.post(retrain).status_code == 302  # Huey runs at once in tests
    first = ClassifierModel.objects.get()
    assert first.version == 1 and first.trained_by == iworld.admin.account
    response = admin_client.post(changelist, {"action": "retrain", "_selected_action": [first.pk]})
    assert response.status_code == 302 and ClassifierModel.objects.count() == 2
    second = ClassifierModel.objects.get(version=2)
    admin_client.post(changelist, {"action": "deactivate", "_selected_action": [second.pk]})
    assert not ClassifierModel.objects.get(pk=second.pk).is_active
    assert classify.classifier_current().version == 1
    admin_client.post(changelist, {"action": "activate", "_selected_action": [second.pk]})
    assert classify.classifier_current().version == 2
    detail = admin_client.get(reverse("admin:incidents_classifiermodel_change", args=[first.pk]))
    assert detail.status_code == 200 and b"sm3" in detail.content.lower()


def test_without_incident_manage_the_admin_is_closed(client, iworld):
    account = iworld.operator.account
    account.is_staff = True
    account.save(update_fields=["is_staff"])
    client.force_login(account)
    for name in (
        "admin:incidents_incidentcategory_changelist",
        "admin:incidents_knowledgeanswer_changelist",
        "admin:incidents_classifiermodel_changelist",
        "admin:incidents_classifiermodel_retrain",
        "admin:incidents_incidentsettings_changelist",
    ):
        assert client.get(reverse(name)).status_code == 403, name
    assert client.post(reverse("admin:incidents_classifiermodel_retrain")).status_code == 403
    assert ClassifierModel.objects.count() == 0

"""The category classifier: training from the catalogue and confirmed incidents, SM3-checked loading, the
per-process cache, suggestions, and the intake pipeline auto-dispatching a clear text while an ambiguous one
waits for a dispatcher with its suggestions."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.core.models import AuditEntry
from yiwang.incidents.models import ClassifierModel, Incident, IncidentCategory
from yiwang.incidents.services import classify
from yiwang.incidents.services.classify import (
    classifier_current,
    classifier_set_active,
    classifier_train,
    classifier_training_set,
    classify_text,
    features,
    text_tokens,
)
from yiwang.incidents.services.intake import IntakeReport, incident_intake
from yiwang.incidents.services.routing import leaf_category, routing_invalidate

from .factories import point_in

pytestmark = pytest.mark.django_db

CLEAR = "路边有流动摊贩占道经营卖水果，影响行人通行"
AMBIGUOUS = "有东西坏了"


@pytest.fixture(autouse=True)
def fresh_classifier():
    """No model or settings cached by another test (their rows were rolled back)."""
    from yiwang.incidents.services.common import incident_settings_invalidate

    classify.classifier_reset()
    incident_settings_invalidate()
    yield
    classify.classifier_reset()
    incident_settings_invalidate()


def trained(iworld) -> ClassifierModel:
    return classifier_train(actor=iworld.p(iworld.admin))


def test_tokens_drop_punctuation_and_stop_words():
    words = text_tokens("请问，路边的井盖不见了！")
    assert "井盖" in words and "请问" not in words and "的" not in words and "，" not in words
    assert "#井盖" in features("井盖") and "井盖" in features("井盖")


def test_training_set_uses_examples_and_confirmed_incidents_only(iworld):
    lon, lat = point_in("440199001001001")
    incident_intake(
        actor=iworld.p(iworld.operator),
        report=IntakeReport(
            channel="hotline", description="菜市场门口小贩摆摊", category_code="SRHJ01", lon=lon, lat=lat
        ),
    )
    unconfirmed = incident_intake(
        actor=None, report=IntakeReport(channel="web", description="模型猜的工单", lon=lon, lat=lat)
    ).incident
    Incident.objects.filter(pk=unconfirmed.pk).update(
        category=iworld.categories["HJWR02"], classified_by="model"
    )
    texts, labels = classifier_training_set()
    assert set(labels) == {"SRHJ01", "SRHJ02", "HJWR01", "HJWR02", "AQYH01", "AQYH02", "ZX01"}
    assert any("菜市场门口小贩摆摊" in t for t in texts)
    assert not any("模型猜的工单" in t for t in texts)
    assert "占道经营" in texts  # the category name is a sample too
    # the per-category cap keeps the newest
    texts, labels = classifier_training_set(per_category=0)
    assert not any("菜市场" in t for t in texts)


def test_train_stores_an_sm3_checked_version_and_audits(iworld):
    model = trained(iworld)
    assert model.version == 1 and model.is_active
    assert model.labels == 7 and model.samples == 28
    assert model.accuracy is not None and 0 <= model.accuracy <= 1  # 28 samples: a hold-out is measured
    assert model.trained_by == iworld.admin.account
    entry = AuditEntry.objects.get(action="incident.classifier_train")
    assert entry.object_id == "1" and entry.after["labels"] == 7
    assert trained(iworld).version == 2
    loaded = classifier_current()
    assert loaded is not None and loaded.version == 2


def test_suggestions_are_ranked_probabilities_of_active_leaves(iworld):
    assert classify_text(CLEAR) == []  # no model yet
    trained(iworld)
    suggestions = classify_text(CLEAR)
    assert [s.category.code for s in suggestions][0] == "SRHJ01"
    assert len(suggestions) == 3 and suggestions[0].score > 0.6
    assert suggestions[0].score >= suggestions[1].score >= suggestions[2].score
    assert classify_text("楼下工地半夜施工噪音太大", top=1)[0].category.code == "HJWR01"
    assert classify_text("   ") == []
    # a category deactivated after training is never suggested (an edit through the catalogue's service makes
    # this process forget its remembered categories on commit: routing_invalidate)
    IncidentCategory.objects.filter(code="SRHJ01").update(is_active=False)
    routing_invalidate()
    assert "SRHJ01" not in [s.category.code for s in classify_text(CLEAR)]


def test_suggestions_read_no_category_once_remembered(iworld, django_assert_num_queries):
    trained(iworld)
    first = classify_text(CLEAR)
    with django_assert_num_queries(0):
        again = classify_text(CLEAR)
    assert [(s.category.code, s.score) for s in again] == [(s.category.code, s.score) for s in first]
    assert again[0].category.parent is not None  # the parent came with it, no query on use
    # a class deactivated since training (another process's edit: this one has not forgotten) is read once, then
    # remembered as missing like the categories found; an edit in this process is seen at once
    routing_invalidate()
    IncidentCategory.objects.filter(code=first[0].category.code).update(is_active=False)
    skipped = [s.category.code for s in classify_text(CLEAR)]
    assert first[0].category.code not in skipped
    with django_assert_num_queries(0):
        assert [s.category.code for s in classify_text(CLEAR)] == skipped
    # a code named by a caller (an intake's category_code) is still never remembered as missing
    assert leaf_category("NO-SUCH-CODE") is None
    with django_assert_num_queries(1):
        assert leaf_category("NO-SUCH-CODE") is None


def test_fewer_than_two_categories_is_a_clear_error(iworld):
    IncidentCategory.objects.exclude(code__in=["SRHJ", "SRHJ01"]).update(examples="")
    with pytest.raises(ValidationError) as exc:
        trained(iworld)
    assert "至少需要两个" in exc.value.message_dict["examples"][0]
    assert ClassifierModel.objects.count() == 0


def test_only_incident_managers_train(iworld):
    with pytest.raises(PermissionDenied):
        classifier_train(actor=iworld.p(iworld.operator))


def test_a_tampered_blob_is_ignored_and_logged(iworld, caplog):
    model = trained(iworld)
    blob = bytearray(bytes(model.blob))
    blob[-1] ^= 0xFF
    ClassifierModel.objects.filter(pk=model.pk).update(blob=bytes(blob))
    classify.classifier_reset()
    with caplog.at_level(logging.ERROR, logger="yiwang.incidents.classify"):
        assert classifier_current() is None
        assert classify_text(CLEAR) == []
    assert "SM3" in caplog.text


def test_the_cache_rechecks_the_newest_version_every_few_seconds(iworld, monkeypatch):
    first = trained(iworld)
    assert classifier_current().version == first.version
    # another process trains v2: this process sees it only after the stamp interval
    ClassifierModel.objects.create(
        version=2, samples=1, labels=2, blob=first.blob, sm3=first.sm3, is_active=True
    )
    assert classifier_current().version == 1
    monkeypatch.setattr(classify, "STAMP_CHECK_SECONDS", 0.0)
    assert classifier_current().version == 2


def test_deactivating_the_newest_falls_back_to_the_previous(iworld):
    trained(iworld)
    second = trained(iworld)
    classifier_set_active(actor=iworld.p(iworld.admin), model=second, active=False)
    assert classifier_current().version == 1
    assert AuditEntry.objects.filter(action="incident.classifier_deactivate", object_id="2").exists()
    classifier_set_active(actor=iworld.p(iworld.admin), model=second, active=True)
    assert classifier_current().version == 2


def test_nightly_training_skips_unchanged_data(iworld):
    from yiwang.incidents.tasks_intake import classifier_train_nightly, classifier_train_task

    assert classifier_train_nightly.call_local() == 1
    assert classifier_train_nightly.call_local() == 1  # same data: no new version
    IncidentCategory.objects.filter(code="ZX01").update(examples="请问怎么办理居住证\n咨询落户政策")
    assert classifier_train_nightly.call_local() == 2
    assert classifier_train_task(iworld.admin.account.pk).get() == 3  # enqueued (immediate in tests)
    assert ClassifierModel.objects.get(version=3).trained_by == iworld.admin.account


def test_intake_auto_classifies_and_dispatches_a_clear_hotline_text(iworld):
    trained(iworld)
    lon, lat = point_in("440199001002001")
    result = incident_intake(
        actor=iworld.p(iworld.operator),
        report=IntakeReport(
            channel="hotline", description=CLEAR, lon=lon, lat=lat, reporter_phone="13800001111"
        ),
    )
    incident = Incident.objects.get(pk=result.incident.pk)
    assert incident.category.code == "SRHJ01" and incident.classified_by == "model"
    assert incident.confidence >= 0.55
    assert result.auto_dispatched and incident.state == Incident.State.DISPATCHED
    assert incident.assigned_department == iworld.cgj
    assert incident.suggestions[0]["code"] == "SRHJ01"


def test_an_intake_left_to_the_classifier_costs_what_one_naming_its_category_does(iworld):
    """The suggestions' categories come from the process's memo: a warm intake the model classifies runs the
    13 statements of `tests/incidents/test_query_budget.py`'s hotline intake, none of them on the catalogue."""
    trained(iworld)
    operator = iworld.p(iworld.operator)

    def report(phone: str, dx: float) -> IntakeReport:
        lon, lat = point_in("440199001002001", dx=dx)
        return IntakeReport(channel="hotline", description=CLEAR, lon=lon, lat=lat, reporter_phone=phone)

    incident_intake(actor=operator, report=report("13800009999", 0.001))  # warm: settings, rules, the model
    with CaptureQueriesContext(connection) as captured:
        result = incident_intake(actor=operator, report=report("13800001111", 0.005))
    sql = [q["sql"] for q in captured.captured_queries]
    assert result.incident.classified_by == "model" and result.auto_dispatched
    assert not any("incidents_incidentcategory" in q for q in sql), "\n".join(sql)
    assert len(sql) == 13, "\n".join(sql)


def test_ambiguous_text_waits_for_a_dispatcher_with_suggestions(iworld):
    trained(iworld)
    lon, lat = point_in("440199001002001")
    result = incident_intake(
        actor=iworld.p(iworld.operator),
        report=IntakeReport(channel="hotline", description=AMBIGUOUS, lon=lon, lat=lat),
    )
    incident = Incident.objects.get(pk=result.incident.pk)
    assert incident.category is None and incident.state == Incident.State.PENDING
    assert not result.auto_dispatched
    assert incident.confidence is not None and incident.confidence < 0.55
    assert len(incident.suggestions) == 3
    assert {"code", "name", "score"} <= set(incident.suggestions[0])


def test_threshold_comes_from_the_settings(iworld):
    from yiwang.incidents.services.catalogue import incident_settings_save

    trained(iworld)
    incident_settings_save(actor=iworld.p(iworld.admin), values={"classify_threshold": 0.99})
    lon, lat = point_in("440199001002001")
    result = incident_intake(
        actor=iworld.p(iworld.operator),
        report=IntakeReport(channel="hotline", description=CLEAR, lon=lon, lat=lat),
    )
    assert result.incident.category is None and result.incident.state == Incident.State.PENDING

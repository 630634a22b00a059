"""The evaluation model and the credit check's read: records grade a file, a black-list entry caps the grade and
brings its measures' effects, the verdict reads them back in one query."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tests.factories import DepartmentFactory, OrganisationFactory, PersonFactory
from yiwang.cases.hooks import CreditEffect
from yiwang.credit.models import CreditRecord, ListEntry, ListType, Measure
from yiwang.credit.services.check import credit_verdict
from yiwang.credit.services.evaluation import credit_file_refresh
from yiwang.credit.services.measures import measures_install_defaults
from yiwang.credit.services.records import credit_record_add

pytestmark = pytest.mark.django_db


def test_records_lower_the_grade_and_the_verdict_reads_it(clock, django_assert_num_queries):
    org = OrganisationFactory()
    dept = DepartmentFactory()
    first = credit_record_add(
        actor=None,
        kind=CreditRecord.Kind.PENALTY,
        department=dept,
        title="未按规定公示年度报告",
        legal_basis="《企业信息公示暂行条例》第八条",
        occurred_on=date(2026, 3, 1),
        organisation=org,
        ref_type="penalty",
        ref_id="P1",
    )
    file = first.file
    file.refresh_from_db()
    assert (file.score, file.grade, file.records_active) == (85, "B", 1)
    assert file.reasons[0]["points"] == -15 and first.is_public
    again = credit_record_add(
        actor=None,
        kind=CreditRecord.Kind.PENALTY,
        department=dept,
        title="x",
        legal_basis="y",
        occurred_on=date(2026, 3, 1),
        organisation=org,
        ref_type="penalty",
        ref_id="P1",
    )
    assert again is None and CreditRecord.objects.count() == 1
    with django_assert_num_queries(1):
        verdict = credit_verdict(organisation_id=org.pk)
    assert verdict.checked and verdict.grade == "B" and not verdict.effects


def test_a_black_list_entry_caps_the_grade_and_brings_its_measures(clock):
    # The default catalogue comes with migration 0002, but a transactional test before this one may have
    # flushed it: install it again (idempotent).
    measures_install_defaults()
    org = OrganisationFactory()
    dept = DepartmentFactory()
    Measure.objects.create(
        code="B01",
        name="不适用告知承诺",
        list_type=ListType.BLACK,
        effect=CreditEffect.NO_PLEDGE,
        legal_basis="依据",
    )
    Measure.objects.create(
        code="R01", name="信易批", list_type=ListType.RED, effect=CreditEffect.FAST_TRACK, legal_basis="依据"
    )
    record = credit_record_add(
        actor=None,
        kind=CreditRecord.Kind.COMMENDATION,
        department=dept,
        title="守合同重信用企业",
        legal_basis="表彰决定",
        occurred_on=date(2026, 1, 5),
        organisation=org,
    )
    file = record.file
    ListEntry.objects.create(
        file=file,
        list_type=ListType.BLACK,
        reason="拒不履行法院判决",
        legal_basis="《关于加快推进失信被执行人信用监督、警示和惩戒机制建设的意见》",
        department=dept,
        starts_on=date(2026, 2, 1),
    )
    credit_file_refresh(file)
    assert file.grade == "D" and file.is_black and not file.is_red
    verdict = credit_verdict(organisation_id=org.pk)
    # the default catalogue (migration 0002) and the measure above: every black measure applies, no red one
    assert CreditEffect.NO_PLEDGE in verdict.effects and CreditEffect.NO_INSTANT in verdict.effects
    assert CreditEffect.FAST_TRACK not in verdict.effects
    assert "拒不履行法院判决" in verdict.reason(CreditEffect.NO_PLEDGE)


def test_a_person_without_a_file_is_checked_and_nothing_applies(clock):
    verdict = credit_verdict(person_id=PersonFactory().pk)
    assert verdict.checked and verdict.file_id is None and not verdict.effects


# --- model versions, publication, expiry (part A) ---------------------------------------------------------------
def _officer():
    from tests.factories import staff_with_roles
    from yiwang.core.principal import Principal

    return Principal.for_account(staff_with_roles("credit_officer").account)


def test_publishing_a_version_activates_it_and_regrades_every_file(clock):
    from yiwang.core.models import AuditEntry
    from yiwang.credit.models import CreditFile, CreditModel
    from yiwang.credit.services.evaluation import credit_model_active
    from yiwang.credit.services.models_admin import credit_model_new_version, credit_model_publish

    dept = DepartmentFactory()
    orgs = [OrganisationFactory() for _ in range(3)]
    for n, org in enumerate(orgs):
        credit_record_add(
            actor=None,
            kind=CreditRecord.Kind.PENALTY,
            department=dept,
            title="罚款",
            legal_basis="《行政处罚法》",
            occurred_on=date(2026, 2, 1),
            organisation=org,
            ref_type="t",
            ref_id=str(n),
        )
    assert set(CreditFile.objects.values_list("grade", "model_version")) == {("B", 0)}
    officer = _officer()
    draft = credit_model_new_version(actor=officer)
    assert draft.version == 1 and not draft.is_active and draft.weights["penalty"] == -15
    draft.weights = {**draft.weights, "penalty": -50}
    draft.save()
    credit_model_publish(actor=officer, model=draft, reevaluate="now")
    assert credit_model_active().version == 1
    assert set(CreditFile.objects.values_list("grade", "score", "model_version")) == {("D", 50, 1)}
    assert AuditEntry.objects.filter(action="credit.model_publish", object_id="1").exists()
    # a second version supersedes it; the first cannot be published again
    second = credit_model_new_version(actor=officer)
    assert second.version == 2 and second.weights["penalty"] == -50
    second.thresholds = {"A": 95, "B": 80, "C": 40}
    second.save()
    credit_model_publish(actor=officer, model=second, reevaluate="now")
    assert list(CreditModel.objects.filter(is_active=True).values_list("version", flat=True)) == [2]
    assert set(CreditFile.objects.values_list("grade", "model_version")) == {("C", 2)}
    with pytest.raises(ValidationError):
        credit_model_publish(actor=officer, model=CreditModel.objects.get(version=1), reevaluate="none")


def test_an_invalid_version_is_refused_and_nothing_changes(clock):
    from yiwang.credit.models import CreditModel
    from yiwang.credit.services.models_admin import credit_model_new_version, credit_model_publish

    officer = _officer()
    draft = credit_model_new_version(actor=officer)
    draft.weights = {"nonsense": 3}
    draft.thresholds = {"A": 50, "B": 80, "C": 60}
    draft.save()
    with pytest.raises(ValidationError) as exc:
        credit_model_publish(actor=officer, model=draft, reevaluate="none")
    assert {"weights", "thresholds"} <= set(exc.value.message_dict)
    assert not CreditModel.objects.filter(is_active=True).exists()


def test_publishing_needs_credit_manage(clock):
    from django.core.exceptions import PermissionDenied

    from tests.factories import staff_with_roles
    from yiwang.core.principal import Principal
    from yiwang.credit.services.models_admin import credit_model_new_version, credit_model_publish

    draft = credit_model_new_version(actor=_officer())
    inspector = Principal.for_account(staff_with_roles("inspector").account)
    with pytest.raises(PermissionDenied):
        credit_model_publish(actor=inspector, model=draft)


def test_the_nightly_job_regrades_files_whose_records_ran_out_yesterday(clock):
    from yiwang.credit.models import CreditFile
    from yiwang.credit.services.sweeps import credit_expiry_refresh

    dept = DepartmentFactory()
    expiring, lasting = OrganisationFactory(), OrganisationFactory()
    for org, until in ((expiring, date(2026, 3, 2)), (lasting, date(2026, 6, 1))):
        credit_record_add(
            actor=None,
            kind=CreditRecord.Kind.TAX,
            department=dept,
            title="欠税",
            legal_basis="《税收征收管理法》",
            occurred_on=date(2026, 1, 2),
            effective_until=until,
            organisation=org,
        )
    assert CreditFile.objects.get(organisation=expiring).grade == "B"
    clock.set(2026, 3, 3)  # the record was last in effect on 2 March
    assert credit_expiry_refresh() == 1
    file = CreditFile.objects.get(organisation=expiring)
    assert (file.grade, file.score, file.records_active) == ("A", 100, 0)
    assert CreditFile.objects.get(organisation=lasting).grade == "B"
    assert credit_expiry_refresh() == 1  # idempotent: the same file, same grade
    assert CreditFile.objects.get(organisation=expiring).grade == "A"


def test_a_list_entry_that_ended_yesterday_lifts_the_cap(clock):
    from yiwang.credit.models import CreditFile
    from yiwang.credit.services.sweeps import credit_expiry_refresh

    org, dept = OrganisationFactory(), DepartmentFactory()
    record = credit_record_add(
        actor=None,
        kind=CreditRecord.Kind.COMMENDATION,
        department=dept,
        title="表彰",
        legal_basis="决定",
        occurred_on=date(2026, 1, 5),
        organisation=org,
    )
    ListEntry.objects.create(
        file=record.file,
        list_type=ListType.BLACK,
        reason="失信",
        legal_basis="依据",
        department=dept,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 3, 2),
    )
    credit_file_refresh(record.file)
    assert CreditFile.objects.get(pk=record.file.pk).grade == "D"
    clock.set(2026, 3, 3)
    assert credit_expiry_refresh() == 1
    assert CreditFile.objects.get(pk=record.file.pk).grade == "A"

"""Uses of my data (Data Tracker): a citizen sees every use of their own data and nothing of anyone else's;
covert uses are hidden until their date and then shown marked; auditors see all, and each covert use they view is
audited; the holdings page reads one query per section."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tests.cases.factories import at
from tests.datahub.world_mydata import _mydata_fast, log_call, mw_fixture  # noqa: F401  (fixtures)
from tests.factories import OrganisationFactory
from yiwang.core.models import AuditEntry
from yiwang.datahub.selectors.mydata import holdings, uses_mine
from yiwang.datahub.services.mydata import data_uses_audit

pytestmark = pytest.mark.django_db


def ids(page) -> list[str]:
    return [r.request_id for r in page.items]


def test_a_citizen_sees_only_uses_of_their_own_data(mw):
    mine = log_call(mw, person=mw.citizen.person)
    in_batch = log_call(mw, person=mw.other.person, batch_subjects=[mw.citizen.person])
    theirs = log_call(mw, person=mw.other.person)
    org_call = log_call(mw, organisation=mw.enterprise.organisation)
    page = uses_mine(mw.p(mw.citizen))
    assert ids(page) == [str(in_batch.request_id), str(mine.request_id)]
    other = uses_mine(mw.p(mw.other))
    assert ids(other) == [str(theirs.request_id), str(in_batch.request_id)]
    assert str(org_call.request_id) not in ids(page) + ids(other)
    assert ids(uses_mine(mw.p(mw.enterprise))) == [str(org_call.request_id)]


def test_use_rows_name_who_when_fields_purpose_and_outcome(mw):
    log_call(mw, person=mw.citizen.person, fields=["name", "birth_date"], purpose="GX-办件-0042")
    (row,) = uses_mine(mw.p(mw.citizen)).items
    assert row.system == "高龄津贴系统" and row.department == mw.system.department.name
    assert row.fields == ["姓名", "出生日期"] and row.purpose == "GX-办件-0042"
    assert row.outcome_code == "ok" and row.resource == mw.person_res.name


def test_accounts_without_a_holder_get_404(mw):
    with pytest.raises(Http404):
        uses_mine(mw.p(mw.auditor.account))


def test_covert_use_hidden_until_the_date_then_marked(mw, clock):
    clock.moment = at(2026, 3, 2)
    covert = log_call(mw, person=mw.citizen.person, covert_until=at(2026, 3, 10).date())
    covert_batch = log_call(
        mw, person=mw.other.person, batch_subjects=[mw.citizen.person], covert_until=at(2026, 3, 10).date()
    )
    plain = log_call(mw, person=mw.citizen.person)
    assert ids(uses_mine(mw.p(mw.citizen))) == [str(plain.request_id)]
    clock.moment = at(2026, 3, 9, 23)
    assert ids(uses_mine(mw.p(mw.citizen))) == [str(plain.request_id)]
    clock.moment = at(2026, 3, 10, 9)
    page = uses_mine(mw.p(mw.citizen))
    assert ids(page) == [str(plain.request_id), str(covert_batch.request_id), str(covert.request_id)]
    shown = page.items[2]
    assert shown.covert_lifted and not shown.covert_hidden


def test_uses_are_keyset_paged(mw):
    calls = [log_call(mw, person=mw.citizen.person) for _ in range(3)]
    calls.insert(1, log_call(mw, person=mw.other.person, batch_subjects=[mw.citizen.person]))
    calls.append(log_call(mw, person=mw.other.person, batch_subjects=[mw.citizen.person]))
    calls.sort(key=lambda c: c.pk)
    first = uses_mine(mw.p(mw.citizen), limit=2)
    second = uses_mine(mw.p(mw.citizen), cursor=first.next_cursor, limit=2)
    third = uses_mine(mw.p(mw.citizen), cursor=second.next_cursor, limit=2)
    got = ids(first) + ids(second) + ids(third)
    assert got == [str(c.request_id) for c in reversed(calls)] and third.next_cursor is None
    with pytest.raises(ValidationError):
        uses_mine(mw.p(mw.citizen), cursor="garbage!")


def test_uses_query_count_does_not_grow_with_the_page(mw, django_assert_max_num_queries):
    for _ in range(10):
        log_call(mw, person=mw.citizen.person)
    principal = mw.p(mw.citizen)
    with django_assert_max_num_queries(4):  # own calls' ids, batch calls' ids, the calls, the field labels
        page = uses_mine(principal, limit=10)
    assert len(page.items) == 10


# --- the auditor ------------------------------------------------------------------------------------------
def test_auditor_sees_all_uses_and_each_covert_view_is_audited(mw, clock):
    clock.moment = at(2026, 3, 2)
    covert = log_call(mw, person=mw.citizen.person, covert_until=at(2026, 6, 1).date())
    plain = log_call(mw, person=mw.citizen.person)
    log_call(mw, person=mw.other.person)
    result = data_uses_audit(
        actor=mw.p(mw.auditor.account), id_number=mw.citizen.person.id_number, purpose="投诉核查 2026-11"
    )
    assert result.found
    assert [r.request_id for r in result.page.items] == [str(plain.request_id), str(covert.request_id)]
    assert result.page.items[1].covert_hidden
    assert mw.citizen.person.id_number not in result.subject_label
    search = AuditEntry.objects.get(action="datahub.data_uses_audit")
    assert search.purpose == "投诉核查 2026-11" and search.object_id == str(mw.citizen.person.public_id)
    covert_view = AuditEntry.objects.get(action="datahub.covert_use_view")
    assert covert_view.object_id == str(covert.request_id)
    assert mw.citizen.person.id_number not in str(search.after)


def test_auditor_by_uscc_and_not_found(mw):
    call = log_call(mw, organisation=mw.enterprise.organisation)
    result = data_uses_audit(
        actor=mw.p(mw.auditor.account), uscc=mw.enterprise.organisation.uscc, purpose="核查"
    )
    assert [r.request_id for r in result.page.items] == [str(call.request_id)]
    missing = data_uses_audit(
        actor=mw.p(mw.auditor.account), uscc=OrganisationFactory.build().uscc, purpose="核查"
    )
    assert not missing.found and missing.page.items == []
    assert AuditEntry.objects.filter(action="datahub.data_uses_audit").count() == 2


def test_audit_needs_the_permission_a_purpose_and_a_valid_number(mw):
    with pytest.raises(PermissionDenied):
        data_uses_audit(actor=mw.p(mw.citizen), id_number=mw.citizen.person.id_number, purpose="好奇")
    with pytest.raises(ValidationError) as exc:
        data_uses_audit(actor=mw.p(mw.auditor.account), id_number=mw.citizen.person.id_number, purpose="")
    assert "purpose" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        data_uses_audit(actor=mw.p(mw.auditor.account), id_number="440199199001011234", purpose="核查")
    assert "id_number" in exc.value.message_dict
    with pytest.raises(ValidationError):
        data_uses_audit(actor=mw.p(mw.auditor.account), purpose="核查")
    assert not AuditEntry.objects.filter(action="datahub.data_uses_audit").exists()


# --- holdings ---------------------------------------------------------------------------------------------
def test_holdings_sections_with_sources_in_few_queries(mw, django_assert_max_num_queries):
    principal = mw.p(mw.citizen)
    with django_assert_max_num_queries(6):
        sections = holdings(principal)
    keys = [s.key for s in sections]
    assert keys == ["registry", "licences", "cases", "entitlements"]
    registry = sections[0]
    assert registry.source == mw.person_res.provider.name
    values = {r["label"]: r["value"] for r in registry.rows}
    assert values["姓名"] == mw.citizen.person.name
    assert mw.citizen.person.id_number not in str(values)  # masked
    org_sections = holdings(mw.p(mw.enterprise))
    assert org_sections[0].title == "法人基础信息" and org_sections[0].source == mw.org_res.provider.name


def test_holdings_refused_without_a_holder(mw):
    with pytest.raises(Http404):
        holdings(mw.p(mw.auditor.account))


def test_covert_dates_are_platform_dates(mw, clock):
    clock.moment = at(2026, 3, 2)
    log_call(mw, person=mw.citizen.person, covert_until=(at(2026, 3, 2) + timedelta(days=1)).date())
    assert uses_mine(mw.p(mw.citizen)).items == []

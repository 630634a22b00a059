"""Credit records from the platform (a pledge found false, an overdue 容缺 promise, a licence revoked for cause, a
verified 举报), their idempotence, the manual record and the CSV import and API harvester."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.cases.factories import build_world
from tests.credit.test_files_world import FWorld, build_fworld, csv_upload
from tests.factories import AccountFactory, id_number_for
from tests.pledge.conftest import advance, submit_owing, submit_pledged
from yiwang.cases import services
from yiwang.cases.models import Case, PledgeVerification
from yiwang.cases.pledges.services import pledge_verify
from yiwang.cases.pledges.tasks import cases_owed_sweep
from yiwang.core.models import AuditEntry, Organisation
from yiwang.credit.models import CreditFile, CreditRecord, ImportBatch
from yiwang.credit.services.harvesters import credit_harvest_run
from yiwang.credit.services.imports import credit_import_csv
from yiwang.credit.services.listeners import credit_incident_listener, usccs_named
from yiwang.credit.services.records import credit_record_add_manual
from yiwang.credit.services.sweeps import credit_platform_sweep, licence_revocation_for_cause
from yiwang.incidents.models import Incident

pytestmark = pytest.mark.django_db
K = CreditRecord.Kind


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    pass


@pytest.fixture
def world(db, clock):
    w = build_world()
    w.id_card.pledge_allowed = True
    w.id_card.save(update_fields=["pledge_allowed"])
    w.item.pledge_verify_days = 20
    w.item.tolerant_days = 5
    w.item.save(update_fields=["pledge_verify_days", "tolerant_days"])
    return w


@pytest.fixture
def fw(db, clock) -> FWorld:
    return build_fworld()


def p(who):
    return FWorld.p(who)


# --- 告知承诺 found false -------------------------------------------------------------------------------------------
def test_a_false_pledge_writes_one_record_for_the_person_in_the_revocation(world):
    case = advance(world, submit_pledged(world), "approved")
    verification = PledgeVerification.objects.get(case=case)
    pledge_verify(
        actor=p(world.sub_approver), verification=verification, passed=False, result="身份证明系伪造"
    )
    record = CreditRecord.objects.get(kind=K.PLEDGE_FALSE)
    assert record.file.person_id == world.citizen.person_id and record.file.organisation_id is None
    assert (record.ref_type, record.ref_id) == ("pledge_verification", str(verification.public_id))
    assert record.department_id == verification.department_id
    assert "告知承诺" in record.legal_basis and "国办发〔2020〕42号" in record.legal_basis
    assert case.number in record.title and record.detail == "身份证明系伪造"
    assert record.occurred_on == date(2026, 3, 2) and record.effective_until == date(2029, 3, 2)
    assert not record.is_public  # a person's record is never public
    assert record.file.grade == "C" and record.file.score == 70
    assert AuditEntry.objects.filter(action="credit.record_add", object_id=str(record.public_id)).exists()
    # the sweep over the history sees it again and writes nothing
    assert credit_platform_sweep()["pledge_false"] == 0
    assert CreditRecord.objects.count() == 1


def test_a_false_pledge_of_an_enterprise_is_the_organisations_record(world):
    world.item.target = "both"
    world.item.save(update_fields=["target"])
    account = AccountFactory(enterprise=True)
    case = advance(world, submit_pledged(world, applicant=account), "in_delivery")
    assert case.applicant_organisation_id == account.organisation_id
    verification = PledgeVerification.objects.get(case=case)
    pledge_verify(actor=p(world.sub_approver), verification=verification, passed=False, result="场所证明不实")
    file = CreditFile.objects.get()
    assert file.organisation_id == account.organisation_id and file.person_id is None
    assert file.records.get().kind == K.PLEDGE_FALSE


def test_a_passed_verification_or_a_failing_revocation_writes_nothing(world):
    case = advance(world, submit_pledged(world), "approved")
    verification = PledgeVerification.objects.get(case=case)
    pledge_verify(actor=p(world.sub_approver), verification=verification, passed=True)
    assert not CreditRecord.objects.exists()
    case2 = advance(world, submit_pledged(world), "approved")
    with pytest.raises(PermissionDenied):
        pledge_verify(
            actor=p(world.other_approver),
            verification=PledgeVerification.objects.get(case=case2),
            passed=False,
            result="不实",
        )
    assert not CreditRecord.objects.exists()


def test_the_record_is_inside_the_revocations_transaction(world, monkeypatch):
    """A failing record write rolls the revocation back: the promise is kept or nothing happens."""
    case = advance(world, submit_pledged(world), "approved")
    verification = PledgeVerification.objects.get(case=case)

    def boom(**kwargs):
        raise RuntimeError("credit down")

    monkeypatch.setattr("yiwang.credit.services.listeners.credit_record_add", boom)
    with pytest.raises(RuntimeError):
        pledge_verify(actor=p(world.sub_approver), verification=verification, passed=False, result="不实")
    case.refresh_from_db()
    verification.refresh_from_db()
    assert case.state == Case.State.APPROVED and verification.status == PledgeVerification.Status.PENDING


# --- 容缺 promise overdue --------------------------------------------------------------------------------------
def test_an_overdue_tolerant_promise_writes_owed_overdue_once(world, clock):
    owing = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    clock.set(2026, 3, 10)
    assert cases_owed_sweep() == 1
    record = CreditRecord.objects.get()
    assert record.kind == K.OWED_OVERDUE and record.ref_id == str(owing.public_id)
    assert record.file.person_id == world.citizen.person_id
    assert "经营场所证明" in record.title and record.occurred_on == date(2026, 3, 10)
    assert cases_owed_sweep() == 0 and CreditRecord.objects.count() == 1


def test_a_manual_suspension_without_an_overdue_promise_writes_nothing(world):
    from yiwang.credit.services.listeners import credit_case_listener

    case = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    case.state = Case.State.SUSPENDED
    credit_case_listener(case, "suspend")  # deadline not passed
    assert not CreditRecord.objects.exists()


# --- licences revoked for cause, verified 举报 -----------------------------------------------------------------
def test_the_sweep_records_licences_revoked_for_cause_once(db, clock, media_and_fast_passwords):
    from tests.licences.test_core_world import build_lworld
    from yiwang.licences.services.core import licence_set_status

    lw = build_lworld()
    revoked = lw.issue_org()
    voluntary = lw.issue_person()
    licence_set_status(
        actor=lw.p(lw.head), licence=revoked, action="revoke", reason="以欺骗手段取得许可，依法撤销"
    )
    licence_set_status(
        actor=FWorld.p(staff_of(lw.mzj)), licence=voluntary, action="revoke", reason="持证人申请注销"
    )
    assert credit_platform_sweep(since=None)["licence_revoked"] == 1
    record = CreditRecord.objects.get()
    assert record.kind == K.LICENCE_REVOKED and record.file.organisation_id == lw.org.pk
    assert record.department_id == lw.scj.pk and record.ref_id == str(revoked.public_id)
    assert record.is_public and "以欺骗手段取得许可" in record.title
    assert credit_platform_sweep(since=None) == {
        "licence_revoked": 0,
        "complaint_verified": 0,
        "pledge_false": 0,
    }
    assert licence_revocation_for_cause("吊销") and not licence_revocation_for_cause("依申请注销")


def staff_of(department):
    from tests.factories import staff_with_roles

    return staff_with_roles("department_head", department=department)


def _incident(fw: FWorld, *, kind=Incident.Kind.REPORT, closure=Incident.Closure.HANDLED, text=""):
    from django.utils import timezone

    return Incident.objects.create(
        number=f"GD20260302{Incident.objects.count() + 1:04d}",
        channel=Incident.Channel.HOTLINE,
        kind=kind,
        title="举报无证经营",
        description=text or f"举报{fw.org.name}（统一社会信用代码 {fw.org.uscc}）无证经营",
        state=Incident.State.CLOSED,
        closure=closure,
        closed_at=timezone.now(),
        assigned_department=fw.scj,
        resolution="现场核查属实，已责令整改",
    )


def test_a_verified_report_naming_an_organisation_is_recorded(fw):
    incident = _incident(fw)
    credit_incident_listener(incident, "verify_pass")
    credit_incident_listener(incident, "close")  # seen twice: once
    record = CreditRecord.objects.get()
    assert record.kind == K.COMPLAINT_VERIFIED and record.file.organisation_id == fw.org.pk
    assert record.department_id == fw.scj.pk and incident.number in record.title
    # a complaint, an invalid report, a report naming nobody registered: nothing
    _incident(fw, kind=Incident.Kind.COMPLAINT)
    _incident(fw, closure=Incident.Closure.INVALID)
    _incident(fw, text="举报某公司 91440199MA0000000X 无证经营")
    assert credit_platform_sweep()["complaint_verified"] == 0
    assert CreditRecord.objects.count() == 1


def test_the_sweep_backfills_verified_reports(fw):
    _incident(fw)
    assert credit_platform_sweep()["complaint_verified"] == 1
    assert credit_platform_sweep()["complaint_verified"] == 0


def test_usccs_named_checks_the_checksum(fw):
    bad = fw.org.uscc[:-1] + ("0" if fw.org.uscc[-1] != "0" else "1")
    assert usccs_named(f"甲 {fw.org.uscc} 乙 {bad} {fw.org.uscc.lower()}") == [fw.org.uscc]


# --- manual record -------------------------------------------------------------------------------------------
def test_manual_record_takes_the_subject_from_the_registry(fw):
    record = credit_record_add_manual(
        actor=p(fw.officer),
        uscc=fw.org.uscc.lower(),
        kind="行政处罚",
        title="销售过期食品",
        legal_basis="《中华人民共和国食品安全法》第一百二十四条",
        occurred_on=date(2026, 2, 20),
    )
    assert record.file.organisation_id == fw.org.pk and record.kind == K.PENALTY
    assert record.source == CreditRecord.Source.MANUAL and record.department_id == fw.credit_dept.pk
    assert record.created_by_id == fw.officer.pk and record.file.grade == "B"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"uscc": "91440199MA0000000X"}, "uscc"),  # bad checksum
        ({"uscc": "", "id_number": "440199199001011234"}, "id_number"),
        ({"uscc": ""}, "uscc"),
        ({"kind": "nonsense"}, "kind"),
        ({"title": " "}, "title"),
        ({"effective_until": date(2026, 1, 1)}, "effective_until"),
    ],
)
def test_manual_record_field_errors_write_nothing(fw, changes, field):
    data = {
        "uscc": fw.org.uscc,
        "kind": "penalty",
        "title": "销售过期食品",
        "legal_basis": "《食品安全法》",
        "occurred_on": date(2026, 2, 20),
        **changes,
    }
    with pytest.raises(ValidationError) as exc:
        credit_record_add_manual(actor=p(fw.officer), **data)
    assert field in exc.value.message_dict
    assert not CreditRecord.objects.exists() and not CreditFile.objects.exists()


def test_manual_record_refuses_another_district_and_the_unpermitted(fw):
    with pytest.raises(ValidationError) as exc:
        credit_record_add_manual(
            actor=p(fw.officer),
            uscc=fw.far_org.uscc,
            kind="penalty",
            title="x",
            legal_basis="y",
            occurred_on=date(2026, 2, 1),
        )
    assert "不在本区" in exc.value.message_dict["uscc"][0]
    with pytest.raises(PermissionDenied):
        credit_record_add_manual(
            actor=p(fw.inspector),
            uscc=fw.org.uscc,
            kind="penalty",
            title="x",
            legal_basis="y",
            occurred_on=date(2026, 2, 1),
        )
    assert not CreditRecord.objects.exists()


# --- CSV import ---------------------------------------------------------------------------------------------
def test_csv_import_takes_good_rows_and_lists_bad_ones(fw, django_assert_max_num_queries):
    bad_uscc = fw.org.uscc[:-1] + ("0" if fw.org.uscc[-1] != "0" else "1")
    lines = [
        f"{fw.org.uscc},,法院失信被执行人,拒不履行生效判决,《最高人民法院关于公布失信被执行人名单信息的若干规定》,2026-01-15,",
        f",{fw.person_id_number},tax,欠缴税款,《税收征收管理法》,2026/02/01,2027-02-01",
        f"{bad_uscc},,court,x,y,2026-01-01,",
        ",440199199001011234,court,x,y,2026-01-01,",
        f",{id_number_for(9999)},court,x,y,2026-01-01,",
        f"{fw.org2.uscc},,未知类别,x,y,2026-01-01,",
        f"{fw.org2.uscc},,court,,,2026-13-01,2025-01-01",
        f"{fw.org.uscc},,penalty,罚款,《行政处罚法》,2026-02-01,2026-01-01",
        "",
        f"{fw.org2.uscc},,commendation,守合同重信用企业,表彰决定,2026-02-02,",
    ]
    with django_assert_max_num_queries(120):
        batch, created = credit_import_csv(
            actor=p(fw.officer), file=csv_upload(lines, bom=True), source_name="区人民法院"
        )
    assert created and batch.channel == ImportBatch.Channel.CSV
    assert (batch.rows, batch.accepted, batch.refused) == (9, 3, 6)
    by_row = {}
    for e in batch.errors:
        by_row.setdefault(e["row"], []).append(e["field"])
    assert by_row == {
        4: ["统一社会信用代码"],
        5: ["身份证号"],
        6: ["身份证号"],
        7: ["类别"],
        8: ["事由", "发生日期", "法律依据"],
        9: ["有效期至"],
    }
    assert any("人口库中没有" in e["message"] for e in batch.errors)
    court = CreditRecord.objects.get(kind=K.COURT)
    assert court.source == CreditRecord.Source.IMPORT and court.batch_id == batch.pk
    assert court.file.organisation_id == fw.org.pk and court.effective_until is None
    assert (court.file.score, court.file.grade) == (60, "C")  # 100 - 40
    tax = CreditRecord.objects.get(kind=K.TAX)
    assert tax.file.person_id == fw.person.pk and tax.effective_until == date(2027, 2, 1)
    assert AuditEntry.objects.filter(action="credit.import", object_id=str(batch.public_id)).exists()
    # the same file again: the earlier batch, nothing written
    again, created = credit_import_csv(
        actor=p(fw.officer), file=csv_upload(lines, bom=True), source_name="区人民法院"
    )
    assert not created and again.pk == batch.pk and CreditRecord.objects.count() == 3
    # the same rows in another file (no BOM): refused as duplicates
    third, created = credit_import_csv(
        actor=p(fw.officer), file=csv_upload(lines[:2]), source_name="区人民法院"
    )
    assert created and (third.accepted, third.refused) == (0, 2)
    assert "此前已导入" in third.errors[0]["message"]


@pytest.mark.parametrize(
    ("upload", "source", "field"),
    [
        (None, "区人民法院", "file"),
        ("records.pdf", "区人民法院", "file"),
        ("gbk", "区人民法院", "file"),
        ("no-subject-column", "区人民法院", "file"),
        ("header-only", "区人民法院", "file"),
        ("ok", "", "source_name"),
        ("nul-deep", "区人民法院", "file"),
    ],
)
def test_csv_import_file_errors_write_nothing(fw, upload, source, field):
    from django.core.files.uploadedfile import SimpleUploadedFile

    good = f"{fw.org.uscc},,court,x,y,2026-01-01,"
    files = {
        None: None,
        "records.pdf": SimpleUploadedFile("records.pdf", b"%PDF-1.4 ...", "application/pdf"),
        "gbk": SimpleUploadedFile("r.csv", ("类别,事由\n" + "法院" * 3).encode("gbk"), "text/csv"),
        "no-subject-column": csv_upload(
            ["court,x,y,2026-01-01,"], header="类别,事由,法律依据,发生日期,有效期至"
        ),
        "header-only": csv_upload([]),
        "ok": csv_upload([good]),
        # a NUL past the first 64 KiB (PostgreSQL text refuses NUL: it must not reach an INSERT)
        "nul-deep": csv_upload([good] * 2000 + [good.replace(",x,", ",x\x00,")]),
    }
    with pytest.raises(ValidationError) as exc:
        credit_import_csv(actor=p(fw.officer), file=files[upload], source_name=source)
    assert field in exc.value.message_dict
    assert not ImportBatch.objects.exists() and not CreditRecord.objects.exists()


def test_csv_import_needs_credit_manage(fw):
    with pytest.raises(PermissionDenied):
        credit_import_csv(actor=p(fw.inspector), file=csv_upload([]), source_name="x")


# --- API harvester ---------------------------------------------------------------------------------------------
class _Upstream:
    def __init__(self, payload):
        self.payload = payload
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = json.dumps(outer.payload, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/records"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_court_harvester_imports_from_a_loopback_server_idempotently(fw):
    payload = {
        "data": [
            {
                "id": "(2026)粤0199执123号",
                "uscc": fw.org.uscc,
                "title": "拒不履行生效判决",
                "occurred_on": "2026-01-20",
            },
            {
                "id": "(2026)粤0199执124号",
                "id_number": fw.person_id_number,
                "title": "拒不履行",
                "occurred_on": "2026-01-21",
            },
            {
                "id": "(2026)粤0199执125号",
                "uscc": "91440199MA0000000X",
                "title": "x",
                "occurred_on": "2026-01-21",
            },
        ]
    }
    options = {"url": "", "department": "SJJ", "source_name": "区人民法院"}
    with _Upstream(payload) as upstream:
        options["url"] = upstream.url
        batch, created = credit_harvest_run(actor=p(fw.officer), plugin_id="court", options=options)
        assert created and (batch.rows, batch.accepted, batch.refused) == (3, 2, 1)
        assert batch.channel == ImportBatch.Channel.HARVESTER and batch.department_id == fw.scj.pk
        record = CreditRecord.objects.get(file__organisation=fw.org)
        assert record.kind == K.COURT and record.ref_id == "(2026)粤0199执123号"
        assert "失信被执行人" in record.legal_basis
        again, created = credit_harvest_run(actor=None, plugin_id="court", options=options)
        assert not created and again.pk == batch.pk
        upstream.payload["data"].append(
            {
                "id": "(2026)粤0199执126号",
                "uscc": fw.org2.uscc,
                "title": "拒不履行",
                "occurred_on": "2026-01-22",
            }
        )
        later, created = credit_harvest_run(actor=None, plugin_id="court", options=options)
        assert created and (later.accepted, later.refused) == (1, 3)  # two seen before, one bad
    assert CreditRecord.objects.count() == 3


@pytest.mark.parametrize(
    ("plugin", "options", "field"),
    [
        ("nope", {"url": "http://127.0.0.1:9/", "department": "SJJ"}, "plugin"),
        ("court", {"url": "ftp://x/", "department": "SJJ"}, "options"),
        ("court", {"url": "http://127.0.0.1:9/", "department": "SJJ", "extra": 1}, "options"),
        ("court", {"url": "http://127.0.0.1:9/"}, "options"),
        ("court", {"url": "http://127.0.0.1:9/", "department": "NOPE"}, "options"),
        ("court", {"url": "http://127.0.0.1:9/", "department": "SJJ", "timeout_seconds": 1}, "source"),
    ],
)
def test_harvester_options_and_source_errors(fw, plugin, options, field):
    with pytest.raises(ValidationError) as exc:
        credit_harvest_run(actor=p(fw.officer), plugin_id=plugin, options=options)
    assert field in exc.value.message_dict
    assert not ImportBatch.objects.exists()


def test_subject_lookup_never_trusts_a_name(fw):
    """The registry decides who a record is about: the org row is the registry's, whatever the file says."""
    lines = [f"{fw.org.uscc},,court,冒名,y,2026-01-01,"]
    credit_import_csv(actor=p(fw.officer), file=csv_upload(lines), source_name="区人民法院")
    assert Organisation.objects.get(pk=fw.org.pk).name == "示范诚信食品有限公司"
    assert CreditRecord.objects.get().file.organisation_id == fw.org.pk

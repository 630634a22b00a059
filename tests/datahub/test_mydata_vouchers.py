"""数据资产凭证: issue from the registries, sign, verify offline (function and CLI) and on the public check —
valid, tampered, revoked, expired; revocation by the holder only."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from tests.datahub.world_mydata import _mydata_fast, mw_fixture  # noqa: F401  (fixtures)
from yiwang.core.models import AuditEntry
from yiwang.datahub.selectors.mydata import voucher_verify
from yiwang.datahub.services.mydata import voucher_issue, voucher_revoke
from yiwang.datahub.vouchers import platform_public_keys, voucher_file, voucher_file_check

pytestmark = pytest.mark.django_db

ITEMS = [{"source": "person", "fields": ["name", "birth_date", "division_code"]}, {"source": "licences"}]


def issue(world, account=None, **kw):
    return voucher_issue(actor=world.p(account or world.citizen), items=kw.pop("items", ITEMS), **kw)


def test_voucher_carries_registry_values_signed(mw):
    voucher = issue(mw, purpose="银行开户")
    payload = voucher.payload
    assert payload["format"] == "yiwang-data-voucher/1" and payload["voucher_id"] == str(voucher.public_id)
    person_item = payload["items"][0]
    assert person_item["records"] == [
        {
            "name": mw.citizen.person.name,
            "birth_date": mw.citizen.person.birth_date.isoformat(),
            "division_code": "",
        }
    ]
    assert (
        person_item["resource"] == mw.person_res.code
        and person_item["provider"] == mw.person_res.provider.name
    )
    assert payload["holder"]["kind"] == "person"
    assert mw.citizen.person.id_number not in json.dumps(payload, ensure_ascii=False)
    document = voucher_file(voucher)
    assert voucher_file_check(document).ok
    entry = AuditEntry.objects.get(action="datahub.voucher_issue")
    assert entry.object_id == str(voucher.public_id) and entry.purpose == "银行开户"


def test_enterprise_voucher(mw):
    voucher = issue(mw, mw.enterprise, items=[{"source": "organisation", "fields": ["uscc", "name"]}])
    assert voucher.holder_organisation_id == mw.enterprise.organisation_id
    assert voucher.payload["items"][0]["records"] == [
        {"uscc": mw.enterprise.organisation.uscc, "name": mw.enterprise.organisation.name}
    ]
    with pytest.raises(ValidationError):
        issue(mw, mw.enterprise, items=[{"source": "person"}])


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"items": []}, "items"),
        ({"items": [{"source": "tax"}]}, "items"),
        ({"items": [{"source": "person", "fields": ["salary"]}]}, "items"),
        ({"items": [{"source": "organisation"}]}, "items"),
        ({"valid_days": 0}, "valid_days"),
        ({"valid_days": 400}, "valid_days"),
        ({"purpose": "长" * 201}, "purpose"),
    ],
)
def test_invalid_voucher_requests(mw, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        issue(mw, **kwargs)
    assert field in exc.value.message_dict


def test_staff_without_a_person_cannot_issue(mw):
    with pytest.raises(PermissionDenied):
        issue(mw, mw.auditor.account)


def test_public_check_valid_tampered_revoked_expired(mw, clock):
    voucher = issue(mw)
    document = voucher_file(voucher)
    check = voucher_verify(document)
    assert check.result == "valid"
    assert check.holder != mw.citizen.person.name and check.holder[0] == mw.citizen.person.name[0]
    names = [f["value"] for rec in check.items[0]["records"] for f in rec if f["field"] == "name"]
    assert names == [check.holder]  # the holder's name masked in the items too

    tampered = copy.deepcopy(document)
    tampered["payload"]["items"][0]["records"][0]["birth_date"] = "1999-01-01"
    assert voucher_verify(tampered).result == "invalid"
    assert voucher_verify(tampered).items == []  # nothing from an invalid file
    tampered.pop("digest_sm3")
    assert voucher_verify(tampered).result == "invalid"
    bad_sig = copy.deepcopy(document)
    bad_sig["signature_sm2"] = bad_sig["signature_sm2"][:-4] + "0000"
    assert voucher_verify(bad_sig).result == "invalid"
    assert voucher_verify({"payload": "x"}).result == "invalid"
    assert voucher_verify(None).result == "invalid"

    clock.moment = clock.moment + timedelta(days=91)
    assert voucher_verify(document).result == "expired"
    clock.moment = clock.moment - timedelta(days=91)
    voucher_revoke(actor=mw.p(mw.citizen), voucher=voucher, reason="遗失")
    assert voucher_verify(document).result == "revoked"


def test_only_the_holder_revokes(mw):
    voucher = issue(mw)
    with pytest.raises(PermissionDenied):
        voucher_revoke(actor=mw.p(mw.other), voucher=voucher)
    voucher_revoke(actor=mw.p(mw.citizen), voucher=voucher)
    with pytest.raises(ValidationError):
        voucher_revoke(actor=mw.p(mw.citizen), voucher=voucher)


def test_offline_cli_checks_the_signature(mw, tmp_path, capsys):
    voucher = issue(mw)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(voucher_file(voucher), ensure_ascii=False), encoding="utf-8")
    call_command("datahub_voucher_verify", str(good), "--json")
    assert json.loads(capsys.readouterr().out)["ok"] is True
    key_id, point = next(iter(platform_public_keys().items()))
    call_command("datahub_voucher_verify", str(good), "--key", f"{key_id}={point}")
    assert "ok: True" in capsys.readouterr().out
    document = voucher_file(voucher)
    document["payload"]["purpose"] = "改过"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        call_command("datahub_voucher_verify", str(bad))
    assert exc.value.code == 1
    # a key that is not the platform's: the signature does not verify
    other = "04" + "11" * 64
    with pytest.raises(SystemExit):
        call_command("datahub_voucher_verify", str(good), "--key", f"{key_id}={other}")


def test_the_id_number_in_a_voucher_is_masked(mw):
    from yiwang.core.masking import mask_id_number

    voucher = issue(mw, items=[{"source": "person", "fields": ["id_number"]}])
    assert voucher.payload["items"][0]["records"] == [
        {"id_number": mask_id_number(mw.citizen.person.id_number)}
    ]
    assert mw.citizen.person.id_number not in json.dumps(voucher_file(voucher))

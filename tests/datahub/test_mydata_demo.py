"""The 我的数据 demo builder: consents (active to a system, to a bank, one revoked) and a voucher for the demo
citizen and enterprise; idempotent."""

from __future__ import annotations

import pytest

from tests.datahub.world_mydata import _mydata_fast, mw_fixture  # noqa: F401  (fixtures)
from yiwang.datahub.demo_mydata import load_mydata
from yiwang.datahub.models import Consent, DataVoucher
from yiwang.datahub.vouchers import voucher_file, voucher_file_check

pytestmark = pytest.mark.django_db


def test_demo_builder_is_idempotent(mw):
    mw.citizen.username = "citizen"
    mw.citizen.save()
    mw.enterprise.username = "enterprise"
    mw.enterprise.save()
    first = load_mydata()
    assert first == {"consents": 6, "vouchers": 2}
    assert load_mydata() == {"consents": 0, "vouchers": 0}
    mine = Consent.objects.filter(holder_person=mw.citizen.person)
    assert mine.count() == 3
    assert mine.filter(status="revoked").count() == 1
    assert (
        mine.filter(grantee_kind="system", grantee_system=mw.system).count() == 1
    )  # the system with a grant
    assert mine.filter(grantee_kind="third_party", status="active").count() == 1
    assert Consent.objects.filter(holder_organisation=mw.enterprise.organisation).count() == 3
    for voucher in DataVoucher.objects.all():
        assert voucher_file_check(voucher_file(voucher)).ok


def test_demo_builder_without_demo_accounts_does_nothing(mw):
    assert load_mydata() == {"consents": 0, "vouchers": 0}

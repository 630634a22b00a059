"""The documents demo on the small world: 发文 in every step (one sealed and distributed to three units who hold it
at 承办, 登记 and 签收), 收文 at 拟办, 承办 and 办结; the demo roles see documents on their workbench; idempotent."""

from __future__ import annotations

import io

import pytest

from tests.collab.world import build_collab_world, principal
from yiwang.collab.demo_documents import MARK, load_documents
from yiwang.collab.models.documents import Document
from yiwang.collab.workbench_documents import DocumentsSource
from yiwang.core.workbench import TodoQuery

pytestmark = pytest.mark.django_db
S = Document.Step


def test_demo_builds_every_step_once(clock):
    w = build_collab_world()
    out = io.StringIO()
    counts = load_documents(stdout=out)
    assert counts == {"outgoing": 4, "incoming": 6} and "公文流转" in out.getvalue()
    sealed = Document.objects.get(title=MARK, direction="outgoing")
    assert sealed.step == S.DONE and sealed.seal_id and sealed.number.startswith("示市监〔2026〕")
    assert sorted(Document.objects.filter(source=sealed).values_list("step", flat=True)) == sorted(
        [S.HANDLE, S.REGISTER, S.SIGN_IN]
    )
    outgoing = set(Document.objects.filter(direction="outgoing").values_list("step", flat=True))
    assert {S.DONE, S.COUNTERSIGN, S.DRAFT, S.SIGN_OFF} <= outgoing
    incoming = set(
        Document.objects.filter(direction="incoming", source__isnull=True).values_list("step", flat=True)
    )
    assert incoming == {S.PROPOSE, S.HANDLE, S.DONE}
    source = DocumentsSource()
    for staff in (w.leader, w.office, w.scj_approver, w.mzj_head, w.village_clerks[0]):
        assert source.items(principal(staff), TodoQuery()), staff
    before = Document.objects.count()
    assert load_documents() == {}
    assert Document.objects.count() == before

"""Helpers of the 公文流转 tests: the small collab world with e-seals for SCJ and ZFB, and documents walked to a step
through the services."""

from __future__ import annotations

from datetime import date

from tests.collab.world import build_collab_world, principal
from yiwang.collab.models.documents import Document
from yiwang.collab.services import document_flow as flow
from yiwang.collab.services import documents as svc
from yiwang.licences.services.core import seal_create

BODY = "各有关单位：\n为做好市场主体年报工作，现就有关事项通知如下。\n一、高度重视。\n二、按时报送。"


def documents_world():
    w = build_collab_world()
    w.scj_seal = seal_create(
        actor=None, department=w.d_scj, name="示范区市场监督管理局公章", valid_from=date(2020, 1, 1)
    )
    w.zfb_seal = seal_create(
        actor=None, department=w.d_office, name="示范区人民政府办公室公章", valid_from=date(2020, 1, 1)
    )
    return w


def draft(w, *, countersign=None, recipients=None, **kw) -> Document:
    values = {
        "title": "关于做好2026年度市场主体年报工作的通知",
        "kind": Document.Kind.NOTICE,
        "body": BODY,
        "confidentiality": 1,
        "urgency": Document.Urgency.NORMAL,
        "main_to": "",
        "copy_to": "区政府办公室",
    }
    values.update(kw)
    return svc.document_draft(
        actor=principal(w.scj_approver),
        countersign=[w.d_mzj] if countersign is None else countersign,
        recipients=[w.d_mzj, w.d_zsj, w.town_offices[0]] if recipients is None else recipients,
        **values,
    )


def to_step(w, doc: Document, step: str) -> Document:
    """Walks a fresh draft forward until it waits at `step`."""
    S = Document.Step
    order = [S.CHECK, S.COUNTERSIGN, S.SIGN_OFF, S.NUMBER, S.SEAL, S.DISTRIBUTE, S.DONE, S.ARCHIVED]
    moves = {
        S.DRAFT: lambda: svc.document_send_check(actor=principal(w.scj_approver), document=doc),
        S.CHECK: lambda: svc.document_check(
            actor=principal(w.scj_head), document=doc, approve=True, opinion="同意"
        ),
        S.COUNTERSIGN: lambda: svc.document_countersign(
            actor=principal(w.mzj_head), document=doc, agree=True, opinion="无意见"
        ),
        S.SIGN_OFF: lambda: svc.document_sign_off(actor=principal(w.scj_head), document=doc),
        S.NUMBER: lambda: svc.document_number(actor=principal(w.office), document=doc),
        S.SEAL: lambda: svc.document_seal(actor=principal(w.office), document=doc),
        S.DISTRIBUTE: lambda: svc.document_distribute(actor=principal(w.office), document=doc),
        S.DONE: lambda: svc.document_archive(actor=principal(w.office), document=doc),
    }
    guard = 0
    while doc.step != step:
        assert step in order and guard < 12, (doc.step, step)
        moves[doc.step]()
        doc.refresh_from_db()
        guard += 1
    return doc


def received(w, title="关于开展安全生产大检查的通知", **kw) -> Document:
    """An external 收文 registered by the district office (at 拟办)."""
    values = {
        "origin": "市人民政府办公室",
        "number": "市府办〔2026〕12号",
        "body": "请各区认真组织开展检查。",
    }
    values.update(kw)
    return flow.document_receive(actor=principal(w.office), title=title, **values)

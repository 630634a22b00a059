"""公文流转 (non-secret documents only): 收文 and 发文, versions with an edit lock, confidentiality per document with
a maximum per role, the trace of who held it when, 会签, distribution as 收文, the seal and the archive package.

Anything marked 秘密/机密/绝密 is refused by the services: the platform is not a 涉密 system.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models.attachments import Attachment


class Confidentiality(models.IntegerChoices):
    PUBLIC = 0, _("公开")
    INTERNAL = 1, _("内部")
    RESTRICTED = 2, _("敏感（限定范围）")


class Document(models.Model):
    class Direction(models.TextChoices):
        INCOMING = "incoming", _("收文")
        OUTGOING = "outgoing", _("发文")

    class Kind(models.TextChoices):
        NOTICE = "notice", _("通知")
        REQUEST = "request", _("请示")
        REPORT = "report", _("报告")
        LETTER = "letter", _("函")
        OPINION = "opinion", _("意见")
        MINUTES = "minutes", _("纪要")
        DECISION = "decision", _("决定")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("平件")
        URGENT = "urgent", _("加急")
        VERY_URGENT = "very_urgent", _("特急")

    class Step(models.TextChoices):
        # 收文
        SIGN_IN = "sign_in", _("签收")
        REGISTER = "register", _("登记")
        PROPOSE = "propose", _("拟办")
        INSTRUCT = "instruct", _("批办")
        HANDLE = "handle", _("承办")
        # 发文
        DRAFT = "draft", _("拟稿")
        CHECK = "check", _("核稿")
        COUNTERSIGN = "countersign", _("会签")
        SIGN_OFF = "sign_off", _("签发")
        NUMBER = "number", _("编号")
        SEAL = "seal", _("用印")
        DISTRIBUTE = "distribute", _("分发")
        # both
        DONE = "done", _("办结")
        ARCHIVED = "archived", _("已归档")
        WITHDRAWN = "withdrawn", _("已撤回")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    direction = models.CharField(_("类别"), max_length=8, choices=Direction.choices)
    kind = models.CharField(_("文种"), max_length=12, choices=Kind.choices, default=Kind.NOTICE)
    title = models.CharField(_("标题"), max_length=200)
    number = models.CharField(_("发文字号"), max_length=64, blank=True, db_index=True)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("办文单位"), on_delete=models.PROTECT, related_name="documents"
    )
    origin = models.CharField(_("来文单位"), max_length=200, blank=True)
    confidentiality = models.PositiveSmallIntegerField(
        _("密级/敏感程度"), choices=Confidentiality.choices, default=Confidentiality.INTERNAL
    )
    urgency = models.CharField(_("紧急程度"), max_length=12, choices=Urgency.choices, default=Urgency.NORMAL)
    step = models.CharField(_("当前环节"), max_length=12, choices=Step.choices)
    holder = models.ForeignKey(
        "core.Staff",
        verbose_name=_("当前办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="held_documents",
    )
    holder_department = models.ForeignKey(
        "core.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("当前办理单位（会签、承办时为对方单位）"),
    )
    due_on = models.DateField(_("办理时限"), null=True, blank=True)
    main_to = models.CharField(_("主送"), max_length=500, blank=True)
    copy_to = models.CharField(_("抄送"), max_length=500, blank=True)
    signer = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    source = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="received_as",
        help_text=_("收文由哪份发文分发而来"),
    )
    # 用印: the department's SM2 e-seal over the canonical payload (title, number, body digest, departments).
    seal = models.ForeignKey(
        "licences.Seal", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sealed_at = models.DateTimeField(null=True, blank=True)
    payload_sm3 = models.CharField(max_length=64, blank=True)
    signature = models.TextField(blank=True)
    verify_code = models.CharField(max_length=32, blank=True, db_index=True, help_text=_("公开核验码"))
    locked_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    current_version = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("公文")
        verbose_name_plural = _("公文")
        indexes = [
            models.Index(fields=["holder", "step", "due_on"], name="collab_doc_holder"),
            models.Index(fields=["holder_department", "step", "due_on"], name="collab_doc_holder_dept"),
            models.Index(fields=["department", "direction", "-created_at"], name="collab_doc_dept"),
        ]

    def __str__(self) -> str:
        return self.title


class DocumentVersion(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(_("正文"), max_length=100000)
    note = models.CharField(_("修改说明"), max_length=200, blank=True)
    body_sm3 = models.CharField(max_length=64)
    created_by = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["document", "number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="collab_doc_version_once")]


class DocumentFile(Attachment):
    """附件 of a document (and the sealed PDF and archive package, kind `sealed`/`archive`)."""

    class Kind(models.TextChoices):
        ATTACHMENT = "attachment", _("附件")
        SEALED = "sealed", _("用印版式文件")
        ARCHIVE = "archive", _("归档包")

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ATTACHMENT)
    file = models.FileField(upload_to="collab/documents/%Y/%m/")


class DocumentStep(models.Model):
    """The trace, add-only: who held the document at which step, from when to when, and what they wrote."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="trace")
    step = models.CharField(max_length=12, choices=Document.Step.choices)
    actor = models.ForeignKey("core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.TextField(_("意见"), blank=True, max_length=4000)
    handed_to = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["document", "at", "pk"]
        indexes = [models.Index(fields=["document", "at"], name="collab_doc_trace")]


class DocumentParty(models.Model):
    """A department taking part: 会签 (countersign) on a 发文, 承办 (lead or co-handler) on a 收文, or a recipient
    (分发) of a 发文, with its answer."""

    class Role(models.TextChoices):
        COUNTERSIGN = "countersign", _("会签")
        LEAD = "lead", _("主办")
        CO = "co", _("协办")
        RECIPIENT = "recipient", _("主送/抄送单位")

    class Status(models.TextChoices):
        PENDING = "pending", _("待办")
        AGREED = "agreed", _("同意")
        DISAGREED = "disagreed", _("不同意")
        DONE = "done", _("已办")
        DELIVERED = "delivered", _("已送达")
        RECEIVED = "received", _("已签收")

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="parties")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="document_parts")
    role = models.CharField(max_length=12, choices=Role.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    staff = models.ForeignKey("core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    opinion = models.TextField(blank=True, max_length=4000)
    due_on = models.DateField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    received = models.ForeignKey(
        Document,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("分发后对方的收文"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "department", "role"], name="collab_doc_party_once")
        ]
        indexes = [models.Index(fields=["department", "status", "role"], name="collab_doc_party_queue")]


class RoleClearance(models.Model):
    """The highest confidentiality a role may see (配置于管理后台; roles without a row: 内部)."""

    role = models.CharField(max_length=32, unique=True)
    max_level = models.PositiveSmallIntegerField(choices=Confidentiality.choices)

    class Meta:
        verbose_name = _("角色可阅密级")
        verbose_name_plural = _("角色可阅密级")

"""Category suggestions for report text: jieba tokens (+ character bigrams) → TF-IDF → logistic regression.

Training set (`classifier_training_set`):
- every active leaf category's `examples` (one text per line) and its name;
- past incidents whose category is confirmed: filed with a category by staff, the reporter or a device
  (`classified_by` staff/reporter/device — a dispatcher re-categorising sets staff), or model-classified and then
  closed as handled (a unit did the work under that category); the newest `PER_CATEGORY_MAX` per category, so
  training stays bounded however many incidents there are.

The trained pipeline is pickled with joblib into `ClassifierModel.blob` with its SM3 digest. `classifier_current()`
loads the newest active version only when the digest matches (otherwise it logs and ignores the row) and keeps it
per process, re-checking which version is newest at most every `STAMP_CHECK_SECONDS` (as core.geo does for grids).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import time
from dataclasses import dataclass

import joblib
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.crypto import sm3_hex
from yiwang.core.permissions import INCIDENT_MANAGE
from yiwang.core.principal import Principal
from yiwang.core.text import add_domain_words, search_words, words

from ..models import ClassifierModel, Incident, IncidentCategory
from .routing import leaf_category

log = logging.getLogger("yiwang.incidents.classify")

STAMP_CHECK_SECONDS = 5.0
PER_CATEGORY_MAX = 500  # newest confirmed incidents per category in a training set
HOLDOUT_MIN_SAMPLES = 20  # a hold-out accuracy is measured from this many samples on
CONFIRMED_SOURCES = ("staff", "reporter", "device")

# Words that carry no category signal in hotline texts.
STOP_WORDS = frozenset(
    "的 了 很 有 在 是 我 我们 你 您 他 她 它 也 都 就 和 与 及 或 请 请问 一下 一个 这个 那个 这 那 吗 呢 啊 吧 呀 "
    "着 被 把 给 还 又 要 会 能 到 说 去 来 没 不 想 问 麻烦 谢谢 你好 您好 反映 反映一下 希望 尽快 处理 情况 问题 "
    "现在 已经 一直 非常 太 好 个 们 上 下 里 对 从 让 该 其 此 等 怎么 什么 哪里 如何 怎样 需要".split()
)
_CJK = re.compile(r"[\u4e00-\u9fff]+")
# Domain words jieba's dictionary splits; added once to the default tokenizer.
DOMAIN_WORDS = (
    "占道经营",
    "井盖",
    "广场舞",
    "积水",
    "内涝",
    "油烟",
    "偷排",
    "扰民",
    "居住证",
    "社保卡",
    "违章搭建",
    "违法建设",
    "乱扔",
    "摊贩",
)

add_domain_words(DOMAIN_WORDS)


def text_tokens(text: str) -> list[str]:
    """jieba words of `text`, lower-cased, punctuation and stop words dropped (order kept, repeats kept)."""
    return [word for word in words(text) if word not in STOP_WORDS]


def search_tokens(text: str) -> list[str]:
    """Search-mode words (whole words and their dictionary sub-words), de-duplicated, stop words dropped."""
    return list(dict.fromkeys(word for word in search_words(text) if word not in STOP_WORDS))


def features(text: str) -> list[str]:
    """The classifier's analyser: jieba words plus character bigrams of the Chinese runs (short texts and words
    jieba cuts differently still share bigrams). Module-level so the pickled pipeline can refer to it."""
    words = text_tokens(text)
    grams = [f"#{run[i : i + 2]}" for run in _CJK.findall(text or "") for i in range(len(run) - 1)]
    return words + grams


@dataclass(frozen=True)
class Suggestion:
    category: IncidentCategory
    score: float  # 0..1, the model's probability


@dataclass
class LoadedClassifier:
    version: int
    pipeline: object
    meta: dict


# --- training ------------------------------------------------------------------------------------------------
def _leaves():
    return IncidentCategory.objects.filter(is_active=True, children__isnull=True).order_by("code")


def confirmed_q() -> Q:
    """Incidents whose category counts as confirmed for training."""
    return Q(classified_by__in=CONFIRMED_SOURCES) | Q(
        classified_by="model", state=Incident.State.CLOSED, closure=Incident.Closure.HANDLED
    )


def classifier_training_set(*, per_category: int = PER_CATEGORY_MAX) -> tuple[list[str], list[str]]:
    """(texts, category codes): examples and names of active leaves, then confirmed past incidents."""
    texts: list[str] = []
    labels: list[str] = []
    leaves = list(_leaves().only("pk", "code", "name", "examples"))
    for category in leaves:
        lines = [line.strip() for line in (category.examples or "").splitlines() if line.strip()]
        if not lines:
            continue  # a category nobody described cannot be learnt from its name alone
        for line in [category.name, *lines]:
            texts.append(line)
            labels.append(category.code)
    confirmed = confirmed_q()
    for category in leaves:
        rows = (
            Incident.objects.filter(confirmed, category_id=category.pk)
            .order_by("-id")
            .values_list("title", "description")[:per_category]
        )
        for title, description in rows:
            texts.append(f"{title} {description}")
            labels.append(category.code)
    return texts, labels


def _pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer=features, sublinear_tf=True)),
            ("model", LogisticRegression(C=20.0, max_iter=2000)),
        ]
    )


def _holdout_accuracy(texts: list[str], labels: list[str]) -> float | None:
    """Accuracy on a stratified 20 % hold-out, when every category has at least two samples and the set is big
    enough; None otherwise."""
    from collections import Counter

    from sklearn.model_selection import train_test_split

    counts = Counter(labels)
    n, k = len(labels), len(counts)
    if n < HOLDOUT_MIN_SAMPLES or min(counts.values()) < 2:
        return None
    test_size = max(round(n * 0.2), k)
    if n - test_size < k:
        return None
    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=test_size, stratify=labels, random_state=7
    )
    pipeline = _pipeline().fit(x_train, y_train)
    return round(float(pipeline.score(x_test, y_test)), 4)


def _data_digest(texts: list[str], labels: list[str]) -> str:
    h = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        h.update(f"{label}\t{text}\n".encode())
    return h.hexdigest()


def classifier_train(*, actor: Principal | None, only_if_changed: bool = False) -> ClassifierModel:
    """Trains a new version from the catalogue's examples and confirmed past incidents and makes it the current
    one (the newest active version is used). `only_if_changed` (the nightly job) returns the current version when
    its training data is the same. ValidationError with fewer than two categories to learn from."""
    if actor is not None:
        actor.require(INCIDENT_MANAGE)
    texts, labels = classifier_training_set()
    if len(set(labels)) < 2:
        raise ValidationError(
            {
                "examples": [
                    _("至少需要两个填写了示例诉求的启用末级分类才能训练分类模型（当前 %(n)s 个）。")
                    % {"n": len(set(labels))}
                ]
            },
            code="too_few_categories",
        )
    digest = _data_digest(texts, labels)
    if only_if_changed:
        current = classifier_current()
        if current is not None and current.meta.get("data_digest") == digest:
            row = ClassifierModel.objects.filter(version=current.version).first()
            if row is not None:
                return row
    accuracy = _holdout_accuracy(texts, labels)
    pipeline = _pipeline().fit(texts, labels)
    buffer = io.BytesIO()
    joblib.dump(
        {"pipeline": pipeline, "meta": {"data_digest": digest, "codes": list(pipeline.classes_)}},
        buffer,
        compress=3,
    )
    blob = buffer.getvalue()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                version = (ClassifierModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
                row = ClassifierModel.objects.create(
                    version=version,
                    trained_by=actor.account if actor is not None else None,
                    samples=len(texts),
                    labels=len(set(labels)),
                    accuracy=accuracy,
                    blob=blob,
                    sm3=sm3_hex(blob),
                    is_active=True,
                )
                audit_record(
                    actor=actor,
                    action="incident.classifier_train",
                    object_type="classifier_model",
                    object_id=str(row.version),
                    after={
                        "version": row.version,
                        "samples": row.samples,
                        "labels": row.labels,
                        "accuracy": row.accuracy,
                        "sm3": row.sm3,
                    },
                )
            break
        except IntegrityError:  # another trainer took the version number: take the next one
            continue
    else:  # pragma: no cover - three collisions in a row
        raise ValidationError({"version": [_("训练任务冲突，请稍后重试。")]})
    classifier_invalidate()
    transaction.on_commit(classifier_invalidate)
    log.info(
        "classifier trained",
        extra={"version": row.version, "samples": row.samples, "labels": row.labels, "accuracy": accuracy},
    )
    return row


def classifier_set_active(
    *, actor: Principal | None, model: ClassifierModel, active: bool
) -> ClassifierModel:
    """Activates or deactivates a version (the newest active version is the one used), audited."""
    if actor is not None:
        actor.require(INCIDENT_MANAGE)
    with transaction.atomic():
        row = ClassifierModel.objects.select_for_update().get(pk=model.pk)
        before = {"is_active": row.is_active}
        row.is_active = bool(active)
        row.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="incident.classifier_activate" if active else "incident.classifier_deactivate",
            object_type="classifier_model",
            object_id=str(row.version),
            before=before,
            after={"is_active": row.is_active},
        )
    classifier_invalidate()
    transaction.on_commit(classifier_invalidate)
    return row


# --- the loaded model, per process ---------------------------------------------------------------------------
_lock = threading.Lock()
_loaded: LoadedClassifier | None = None
_stamp: tuple | None = None
_checked_at = 0.0
_force_check = False


def _load(pk: int) -> LoadedClassifier | None:
    row = ClassifierModel.objects.filter(pk=pk).values_list("version", "blob", "sm3").first()
    if row is None:
        return None
    version, blob, digest = row
    blob = bytes(blob)
    if sm3_hex(blob) != digest:
        log.error("classifier blob does not match its SM3 digest; ignored", extra={"version": version})
        return None
    try:
        payload = joblib.load(io.BytesIO(blob))
        return LoadedClassifier(version=version, pipeline=payload["pipeline"], meta=payload.get("meta", {}))
    except Exception:
        log.exception("classifier blob could not be loaded; ignored", extra={"version": version})
        return None


def classifier_current() -> LoadedClassifier | None:
    """The newest active, intact classifier (cached per process; re-checked every few seconds), or None."""
    global _loaded, _stamp, _checked_at, _force_check
    now = time.monotonic()
    if not _force_check and _stamp is not None and now - _checked_at < STAMP_CHECK_SECONDS:
        return _loaded
    with _lock:
        newest = (
            ClassifierModel.objects.filter(is_active=True)
            .order_by("-version")
            .values_list("pk", "version", "sm3")
            .first()
        )
        stamp = newest or ()
        if stamp != _stamp:
            _loaded = _load(newest[0]) if newest else None
            _stamp = stamp
        _checked_at, _force_check = now, False
        return _loaded


def classifier_invalidate() -> None:
    """The next classification in this process re-checks the newest version at once."""
    global _force_check
    _force_check = True


def classifier_reset() -> None:
    """Drops the cached model (tests)."""
    global _loaded, _stamp, _checked_at, _force_check
    with _lock:
        _loaded, _stamp, _checked_at, _force_check = None, None, 0.0, False


def classify_text(text: str, *, top: int = 3) -> list[Suggestion]:
    """The `top` most likely active leaf categories for `text`, best first ([] when no model is trained)."""
    text = (text or "").strip()
    if not text or top <= 0:
        return []
    model = classifier_current()
    if model is None:
        return []
    probabilities = model.pipeline.predict_proba([text])[0]
    classes = list(model.pipeline.classes_)
    ranked = sorted(zip(classes, probabilities, strict=True), key=lambda pair: -pair[1])[: top + 5]
    out = []
    for code, probability in ranked:
        # Remembered by the process like the category an intake names (`routing.leaf_category`: an edit in
        # this process is seen at once, in another within its memo's seconds); a class the model knows but the
        # catalogue no longer has is remembered as missing (the model's classes are a bounded set).
        category = leaf_category(code, remember_missing=True)
        if category is not None:  # deactivated or split since training: skip it
            out.append(Suggestion(category, float(probability)))
        if len(out) == top:
            break
    return out

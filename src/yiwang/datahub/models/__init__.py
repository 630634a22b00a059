"""The data foundation's models, one module per part (ARCHITECTURE: files stay small)."""

from .consent import Consent, DataVoucher
from .elements import CodeList, CodeListValue, DataElement, ElementBatch, ElementBinding, ElementRevision
from .gateway import GatewayCall, GatewayCallSubject
from .resources import (
    DataClass,
    DataResource,
    Grade,
    GradePolicy,
    Mask,
    OpenType,
    ResourceEvent,
    ResourceField,
    ShareType,
)
from .returnflow import Harvester, HarvestRun, OffshoreRecord
from .sharing import ShareDispute, ShareGrant, ShareRating, ShareRequest, ShareRequestEvent

__all__ = [
    "CodeList",
    "CodeListValue",
    "Consent",
    "DataClass",
    "DataElement",
    "DataResource",
    "DataVoucher",
    "ElementBatch",
    "ElementBinding",
    "ElementRevision",
    "GatewayCall",
    "GatewayCallSubject",
    "Grade",
    "GradePolicy",
    "HarvestRun",
    "Harvester",
    "Mask",
    "OffshoreRecord",
    "OpenType",
    "ResourceEvent",
    "ResourceField",
    "ShareDispute",
    "ShareGrant",
    "ShareRating",
    "ShareRequest",
    "ShareRequestEvent",
    "ShareType",
]

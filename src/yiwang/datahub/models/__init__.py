"""The data foundation's models, one module per part (ARCHITECTURE: files stay small)."""

from .assets import AssetRight, DataAsset, DataAssetEvent, DataAssetSource
from .census import CensusDataItem, CensusNeed, CensusReturn, CensusRound, CensusSystem
from .consent import Consent, DataVoucher
from .elements import CodeList, CodeListValue, DataElement, ElementBatch, ElementBinding, ElementRevision
from .gateway import GatewayCall, GatewayCallSubject
from .objections import CorrectionPush, Objection, ObjectionEvent
from .opendata import (
    NegativeListItem,
    OpenApiKey,
    OpenApp,
    OpenApplication,
    OpenDataset,
    OpenResource,
    OpenTheme,
    OpenTier,
    OpenUsageReport,
)
from .quality import QualityFailedRow, QualityResult, QualityRule, QualityRun, QualityScore, RuleKind
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
from .scorecard import CdoAppointment, Scorecard, ScoreMetric, ScoreWeight
from .sharing import ShareDispute, ShareGrant, ShareRating, ShareRequest, ShareRequestEvent

__all__ = [
    "AssetRight",
    "CdoAppointment",
    "CensusDataItem",
    "CensusNeed",
    "CensusReturn",
    "CensusRound",
    "CensusSystem",
    "CodeList",
    "CodeListValue",
    "Consent",
    "CorrectionPush",
    "DataAsset",
    "DataAssetEvent",
    "DataAssetSource",
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
    "NegativeListItem",
    "Objection",
    "ObjectionEvent",
    "OffshoreRecord",
    "OpenApiKey",
    "OpenApp",
    "OpenApplication",
    "OpenDataset",
    "OpenResource",
    "OpenTheme",
    "OpenTier",
    "OpenType",
    "OpenUsageReport",
    "QualityFailedRow",
    "QualityResult",
    "QualityRule",
    "QualityRun",
    "QualityScore",
    "ResourceEvent",
    "ResourceField",
    "RuleKind",
    "ScoreMetric",
    "ScoreWeight",
    "Scorecard",
    "ShareDispute",
    "ShareGrant",
    "ShareRating",
    "ShareRequest",
    "ShareRequestEvent",
    "ShareType",
]

from .files import CreditFile, CreditModel, CreditRecord, Grade, ImportBatch
from .lists import CreditCheck, ListEntry, ListType, Measure
from .objections import CreditObjection, CreditRepair, CreditSequence
from .supervision import Conflict, Draw, InspectionMatter, InspectionPhoto, InspectionTask, Inspector

__all__ = [
    "Conflict",
    "CreditCheck",
    "CreditFile",
    "CreditModel",
    "CreditObjection",
    "CreditRecord",
    "CreditRepair",
    "CreditSequence",
    "Draw",
    "Grade",
    "ImportBatch",
    "InspectionMatter",
    "InspectionPhoto",
    "InspectionTask",
    "Inspector",
    "ListEntry",
    "ListType",
    "Measure",
]

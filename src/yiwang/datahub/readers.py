"""Readers: how the gateway and the pages read the real thing a resource is mounted on.

A resource's `mount_kind`/`mount_target` names a reader registered here (`@register_reader("core.person")`):
platform registries (`readers_platform.py`), the 离岸库 (`readers_offshore.py`), later external APIs. A reader
returns `Row`s: the values by field name plus who the row is about (for the call log and 我的数据) and its
division (for row filters and 回流). Masks, field selection and grants are the gateway's business, not the
reader's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Row:
    key: str  # the value of the reader's key field (an ID number, a USCC, a code)
    values: dict[str, Any] = field(default_factory=dict)  # field name -> value, all the reader's fields
    division_code: str = ""  # the subject's division (row filters, 回流); "" when it has none
    person_id: int | None = None  # the data subject, for the call log and 我的数据
    organisation_id: int | None = None


class RegistryReader(ABC):
    """Reads one kind of mounted data. Subclasses are registered by name and are stateless."""

    key_field: str = ""  # the field a query names its row by
    subject_kind: str = ""  # "person", "organisation" or "" (statistics, divisions)

    @abstractmethod
    def fetch(self, resource, key: str) -> Row | None:
        """The row with this key, or None."""

    @abstractmethod
    def page(self, resource, *, after: str | None, limit: int, division_prefix: str = "") -> list[Row]:
        """Rows in key order after `after`, at most `limit`, only those whose division starts with
        `division_prefix` when one is given (keyset paging for batch calls and 回流 pages)."""


_READERS: dict[str, RegistryReader] = {}


def register_reader(name: str):
    def decorate(cls: type[RegistryReader]) -> type[RegistryReader]:
        _READERS[name] = cls()
        return cls

    return decorate


def reader_for(name: str) -> RegistryReader | None:
    return _READERS.get(name)


def reader_names() -> list[str]:
    return sorted(_READERS)

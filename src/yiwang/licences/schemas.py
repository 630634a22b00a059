"""Schemas shared by the licence APIs. OpenAPI components are named after the schema class, so every schema of the
platform needs a name of its own (tests/licences/test_openapi_contract.py checks that no two differ under one
name): licence schemas carry a Licence/Holder/Issuer prefix."""

from datetime import datetime

from ninja import Schema


class LicenceEventOut(Schema):
    """One entry of a licence's history (LicenceEvent)."""

    action: str
    reason: str
    actor_label: str
    created_at: datetime

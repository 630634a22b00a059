"""Reader of the 离岸库 (`datahub.offshore`): the current run's records of the harvester that feeds a resource.

Which harvester: `resource.mount_options["harvester"]` (its public id) when set, else the resource's first
active harvester. `fetch` finds a record by the HMAC-SM3 blind index of its key; `page` walks the records in id
order (the `after` key is turned back into its record's id through the same index), limited to a division
prefix. When `resource.mount_options["subject"]` is "person" (the key is a 身份证号) or "organisation" (a USCC),
rows name their data subject for the call log and 我的数据.
"""

from __future__ import annotations

import json
from typing import Any

from yiwang.core.keystore import keystore

from .readers import RegistryReader, Row, register_reader

KEY_PURPOSE = "offshore"


def offshore_key(value: Any) -> str:
    """A record key as stored and looked up: text, trimmed, upper case (a 身份证号's x is X)."""
    if value is None:
        return ""
    return str(value).strip().upper()


def offshore_key_index(key: str) -> str:
    return keystore().blind_index(offshore_key(key), purpose=KEY_PURPOSE)


def offshore_harvester(resource):
    """The harvester feeding `resource`, or None."""
    from .models import Harvester

    options = resource.mount_options if isinstance(resource.mount_options, dict) else {}
    wanted = options.get("harvester")
    harvesters = Harvester.objects.filter(resource=resource)
    if wanted:
        return harvesters.filter(public_id=wanted).first() if _is_uuid(wanted) else None
    return harvesters.filter(is_active=True).order_by("id").first()


def _is_uuid(value: Any) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@register_reader("datahub.offshore")
class OffshoreReader(RegistryReader):
    key_field = "key"
    subject_kind = ""

    def _subjects(self, resource, keys: list[str]) -> dict[str, tuple[int | None, int | None]]:
        options = resource.mount_options if isinstance(resource.mount_options, dict) else {}
        subject = options.get("subject")
        if not keys or subject not in ("person", "organisation"):
            return {}
        from yiwang.core.models import Organisation, Person

        if subject == "person":
            store = keystore()
            by_index = {store.blind_index(k, purpose="id_number"): k for k in keys}
            found = Person.objects.filter(id_number_index__in=list(by_index)).values_list(
                "id_number_index", "pk"
            )
            return {by_index[index]: (pk, None) for index, pk in found}
        found = Organisation.objects.filter(uscc__in=keys).values_list("uscc", "pk")
        return {uscc: (None, pk) for uscc, pk in found}

    def _row(self, record, subjects: dict) -> Row:
        values = record._values
        key = record._key
        person_id, organisation_id = subjects.get(key, (None, None))
        return Row(
            key=key,
            values=values,
            division_code=record.division_code,
            person_id=person_id,
            organisation_id=organisation_id,
        )

    def _key_of(self, resource, values: dict) -> str:
        harvester = getattr(resource, "_offshore_harvester", None)
        key_field = harvester.key_field if harvester is not None else ""
        return offshore_key(values.get(key_field)) if key_field else ""

    def _prepare(self, resource):
        harvester = offshore_harvester(resource)
        resource._offshore_harvester = harvester
        return harvester.current_run_id if harvester is not None else None

    def fetch(self, resource, key: str) -> Row | None:
        from .models import OffshoreRecord

        run_id = self._prepare(resource)
        if run_id is None or not offshore_key(key):
            return None
        record = OffshoreRecord.objects.filter(run_id=run_id, key_index=offshore_key_index(key)).first()
        if record is None:
            return None
        record._values = json.loads(record.payload)
        record._key = self._key_of(resource, record._values) or offshore_key(key)
        return self._row(record, self._subjects(resource, [record._key]))

    def page(self, resource, *, after: str | None, limit: int, division_prefix: str = "") -> list[Row]:
        from .models import OffshoreRecord

        run_id = self._prepare(resource)
        if run_id is None:
            return []
        records = OffshoreRecord.objects.filter(run_id=run_id)
        if division_prefix:
            records = records.filter(division_code__startswith=division_prefix)
        if after:
            anchor = (
                OffshoreRecord.objects.filter(run_id=run_id, key_index=offshore_key_index(after))
                .values_list("pk", flat=True)
                .first()
            )
            if anchor is None:
                return []
            records = records.filter(pk__gt=anchor)
        rows = list(records.order_by("pk")[: max(1, int(limit))])
        for record in rows:
            record._values = json.loads(record.payload)
            record._key = self._key_of(resource, record._values)
        subjects = self._subjects(resource, [r._key for r in rows])
        return [self._row(r, subjects) for r in rows]

    def count(self, resource, *, division_prefix: str = "") -> int:
        """How many records the current run holds (in a division) — for the 回流 home page."""
        from .models import OffshoreRecord

        run_id = self._prepare(resource)
        if run_id is None:
            return 0
        records = OffshoreRecord.objects.filter(run_id=run_id)
        if division_prefix:
            records = records.filter(division_code__startswith=division_prefix)
        return records.count()

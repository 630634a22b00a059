"""Two schemas of the one API with the same class name become one OpenAPI component, and one app's answers are
then checked against another's shape (when the two differ) (the contract run found credit's ObjectionOut replacing datahub's)."""

from __future__ import annotations

import json
from collections import defaultdict

from ninja import Schema


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_schema_names_are_unique_across_the_api():
    import yiwang.api  # noqa: F401  (imports every router, hence every schema)

    shapes = defaultdict(dict)  # name -> {module: JSON schema}
    for schema in _subclasses(Schema):
        if schema.__module__.startswith("yiwang."):
            shapes[schema.__name__][schema.__module__] = json.dumps(
                schema.model_json_schema(), sort_keys=True
            )
    # The same name for the same shape is harmless (one component serves both); different shapes are not.
    clashes = {name: sorted(found) for name, found in shapes.items() if len(set(found.values())) > 1}
    assert clashes == {}

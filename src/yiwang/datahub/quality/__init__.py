"""数据质量 engine: rules compiled into one Soda Core v4 data contract per resource and evaluated by Soda.

- `cycles`: the freshness windows of the declared update cycles and the score formulas.
- `sqlchecks`: GB 11643 / GB 32100 / GB/T 2260 / phone validity as SQL that runs on DuckDB and PostgreSQL alike.
- `contracts`: rules → the contract YAML, plus per rule the failed-rows predicate used to sample failing records.
- `snapshot`: a resource's rows (through the datahub readers, uploaded datasets, the 离岸库) into an in-memory
  DuckDB table with a `record_key` column; dropped after the run.
- `sources`: the Soda data sources (DuckDB on a snapshot's connection; PostgreSQL from the platform's settings).
- `evaluate`: runs a contract with Soda and reads back outcomes, metrics and failed rows.
"""

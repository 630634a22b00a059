"""DCAT-AP 3.0.1 for the open-data portal (issue 15): `/catalog.ttl|.jsonld|.rdf` (Hydra paging) and
`/dataset/<id>.ttl|.jsonld|.rdf`, graphs built with rdflib (`graph.py`) from the same visibility rule as every
open-data channel, mapped onto the EU vocabularies where one fits (`vocab.py`). The output validates with zero
violations against the official SHACL shapes (tests/datahub/test_dcat_*.py, pyshacl).
"""

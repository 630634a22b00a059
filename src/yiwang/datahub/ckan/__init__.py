"""The CKAN Action API over the open-data portal (issue 15): `/api/3/action/<name>` and `/api/action/<name>`,
GET (query parameters) and POST (a JSON body, or a form), so that CKAN clients — the unmodified `ckanapi` CLI and
Python client, harvesters, portals that federate CKAN sites — read the platform's open datasets as they read any
CKAN site.

Mapping (see `datahub/models/opendata.py`): OpenDataset → package (`name` is the slug, `public_id` the id),
OpenResource → resource, Department → organization (name = the department code in lower case), OpenTheme →
group. What a caller sees is decided by one rule, `selectors/opendata_access.py`: the anonymous see published
无条件开放 datasets; a signed-in account or an API key (`Authorization: <key>`, CKAN's convention) also the
metadata of 有条件开放 ones, listed with `include_private=true` and marked `private: true`; their rows
(`datastore_search`) only with an approved application (`open_dataset_data_allowed`).

Modules: `errors` (the envelope and CKAN's error objects and HTTP codes), `params` (CKAN's parameter
conversions), `query` (the Solr-syntax subset of q/fq), `search` (package_search: one count, one page, one facet
query), `serialise` (package/resource/organization/group dicts, licences), `actions` (the action registry),
`auth` (the viewer of a request), `views` (the Django view).
"""

"""Connectors for the agency integration platform (dossiers, documents, citizen feedback).

`pull.pull()` is the entry point (Dagster assets and `ioc pull`); see docs/agency-connectors.md.

| module | job |
|---|---|
| `config` | settings from the environment (`IOC_AGENCY_*`), per-resource URL/token |
| `mapping` (+ `mapping.yaml`) | API fields → raw and restricted columns, unit codes, types |
| `paging` | keyset paging plan that survives records changing between pages |
| `client` | one page over HTTP: Retry-After, backoff, timeouts, 401 |
| `load` | COPY into temp tables, newest-wins merges, watermark in the same transaction |
| `pull` | one run per resource, `PullStats` |
| `schema` | DDL of raw_agency and restricted |
| `cli` | `ioc pull` |
| `bench` | dlt `rest_api` versus this connector on the demo API (not used at run time) |
"""

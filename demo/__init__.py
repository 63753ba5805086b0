"""The demo world: a seeded synthetic district (or province, or country) and a demo agency API.

`ioc demo-data` writes intake files, a manifest of what is true about them, and the agency
records the demo API serves; `ioc demo-api` serves those records the way the province's
integration platform does (paging, tokens, throttling, outages). Nothing here is read by the
production pipeline: it exists so that `make demo`, tests and benchmarks have a believable world.
See docs/demo-data.md.
"""

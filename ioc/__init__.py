"""District IOC data platform, the ground floor: settings, the embedded warehouse, processes of
the services, the KPI catalogue and alerts. It imports nothing of the floors above
(docs/architecture.md "Floors"); the `ioc` command itself is `cli/`."""

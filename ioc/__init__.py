"""District IOC data platform: shared settings, the embedded warehouse and the `ioc` CLI."""

"""Backups, restores and rebuilds of the whole platform (`ioc backup`, `ioc restore`,
`ioc rebuild`; docs/operations.md)."""

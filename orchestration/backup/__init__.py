"""Nightly backup and the alert when the newest backup is too old (docs/operations.md)."""

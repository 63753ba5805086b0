"""Alerts to leaders and reminders to communes (catalogue/alerts.yaml), and the channels
that carry them: email (SMTP), a chat webhook, and the dry-run outbox (docs/alerts.md)."""

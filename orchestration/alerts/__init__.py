"""Alerts when a run fails: to the log and, when configured, to a chat webhook."""

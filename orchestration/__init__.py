"""Dagster code location of the IOC platform; `definitions.py` assembles it."""

"""Intake of commune spreadsheets as Dagster assets, with a sensor on the intake folders."""

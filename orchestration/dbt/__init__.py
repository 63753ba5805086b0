"""Every dbt model, seed and test as Dagster assets and checks (dagster-dbt)."""

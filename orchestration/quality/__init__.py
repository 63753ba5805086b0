"""Asset checks beyond dbt's own tests: forms' rules at rest, outliers, completeness, freshness."""

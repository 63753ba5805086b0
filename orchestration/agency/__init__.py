"""Agency API resources (dossiers, documents, feedback) as Dagster assets."""

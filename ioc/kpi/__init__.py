"""The KPI catalogue (`catalogue/kpis.yaml`) and what is generated from it."""

"""Connectors for the agency integration platform (dossiers, documents, citizen feedback)."""

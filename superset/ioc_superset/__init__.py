"""Apache Superset kept as code: configuration, assets, roles and row-level security.

Superset runs in its own virtualenv (`.venv-superset`, pandas 2 / SQLAlchemy 1.4), so this
package never imports it: it drives Superset's CLI as a subprocess and its REST API over
HTTP. Modules:

- `server`: start/stop the Superset web server (gunicorn) in the background.
- `client`: a small REST client (JWT login, CSRF token, chart data).
- `assets_format`: the one YAML format for `superset/assets/` (builder and export share it).
- `assets_builder`: compact spec (`superset/spec/*.yaml`) -> Superset export-format YAML.
- `bundle`: zip `superset/assets/` for this install and import it.
- `policies`: roles and row-level-security rules (`superset/policies/`), generated from
  `dbt_project/seeds/org_units.csv` and applied through the REST API.
- `bootstrap`: idempotent set-up (db upgrade, admin, init, assets, roles, RLS).
- `export`: write the assets of a running Superset back into `superset/assets/`.
- `cli`: `ioc superset bootstrap|serve|stop|status|export|build-assets|build-policies`.
- `service`: hooks for `ioc up` / `ioc down`.
"""

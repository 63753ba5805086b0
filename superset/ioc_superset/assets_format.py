"""The one on-disk format of `superset/assets/`, shared by the builder and `ioc superset export`.

Superset's export bundle (metadata.yaml, databases/, datasets/<db>/, charts/, dashboards/,
cross-referenced by UUID) carries numeric ids of the install it came from: chart ids in the
dashboard layout and filter scopes, dataset ids in chart params and query contexts, file
names ending in `_<id>`. Two installs, or one install before and after a reset, would
disagree on every line. `canonical_files()` rewrites a bundle so that it only depends on
UUIDs: every numeric id becomes `stable_id(uuid)`, file names come from titles, nested
mappings are sorted, the warehouse URL is the documented default, and the YAML is dumped the
same way every time. Superset's importer remaps ids through the layout (`chartId` + `uuid`)
and the datasets' UUIDs, so the canonical bundle imports as is.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
import uuid as uuid_mod
from typing import Any

import yaml

EXPORT_VERSION = "1.0.0"
DATABASE_NAME = "Kho dữ liệu IOC"
DATABASE_UUID = "7c0d6f3e-3a55-5b8e-9a63-2f7f8f1d0c01"
# The committed URI: the embedded warehouse's defaults, password masked as Superset masks it.
# Bootstrap replaces it with this install's `warehouse.bi_url()`.
MASKED_PASSWORD = "XXXXXXXXXX"
CANONICAL_DB_URI = f"postgresql+psycopg2://ioc_bi:{MASKED_PASSWORD}@127.0.0.1:54329/ioc"
# The public page's own connection (docs/alerts.md): stored user `ioc_public`, which reads
# only the schema `cong_khai`; Superset's connection mutator leaves it as it is.
PUBLIC_DATABASE_NAME = "Công khai"
PUBLIC_DATABASE_UUID = "3e5b1c2a-6d44-5f0e-8b27-1a9c4d7e0f02"
CANONICAL_PUBLIC_DB_URI = (
    f"postgresql+psycopg2://ioc_public:{MASKED_PASSWORD}@127.0.0.1:54329/ioc")
CANONICAL_URIS = {DATABASE_UUID: CANONICAL_DB_URI, PUBLIC_DATABASE_UUID: CANONICAL_PUBLIC_DB_URI}

# Namespace for the UUIDs the builder derives from spec keys (uuid5), so regenerating the
# YAML never changes an asset's identity.
UUID_NAMESPACE = uuid_mod.UUID("5b0a3c2e-8f0e-4d3b-9c61-6e0c1b9e2a47")

# Top-level key order of each kind, as Superset 6.1's exporters write them.
KEY_ORDER: dict[str, list[str]] = {
    "databases": [
        "database_name",
        "sqlalchemy_uri",
        "cache_timeout",
        "expose_in_sqllab",
        "allow_run_async",
        "allow_ctas",
        "allow_cvas",
        "allow_dml",
        "allow_csv_upload",
        "extra",
        "impersonate_user",
        "configuration_method",
        "uuid",
        "version",
    ],
    "datasets": [
        "table_name",
        "main_dttm_col",
        "currency_code_column",
        "description",
        "default_endpoint",
        "offset",
        "cache_timeout",
        "catalog",
        "schema",
        "sql",
        "params",
        "template_params",
        "filter_select_enabled",
        "fetch_values_predicate",
        "extra",
        "normalize_columns",
        "always_filter_main_dttm",
        "folders",
        "uuid",
        "metrics",
        "columns",
        "version",
        "database_uuid",
    ],
    "charts": [
        "slice_name",
        "description",
        "certified_by",
        "certification_details",
        "viz_type",
        "params",
        "query_context",
        "cache_timeout",
        "uuid",
        "version",
        "dataset_uuid",
    ],
    "dashboards": [
        "dashboard_title",
        "description",
        "css",
        "slug",
        "certified_by",
        "certification_details",
        "published",
        "uuid",
        "position",
        "metadata",
        "theme_uuid",
        "version",
    ],
}
COLUMN_KEYS = [
    "column_name",
    "verbose_name",
    "is_dttm",
    "is_active",
    "type",
    "advanced_data_type",
    "groupby",
    "filterable",
    "expression",
    "description",
    "python_date_format",
    "datetime_format",
    "extra",
]
METRIC_KEYS = [
    "metric_name",
    "verbose_name",
    "metric_type",
    "expression",
    "description",
    "d3format",
    "currency",
    "extra",
    "warning_text",
]


class AssetFormatError(ValueError):
    """The bundle cannot be put in canonical form (e.g. two assets map to one id)."""


def make_uuid(kind: str, key: str) -> str:
    """A UUID that depends only on the asset's kind and spec key."""
    return str(uuid_mod.uuid5(UUID_NAMESPACE, f"{kind}:{key}"))


def stable_id(asset_uuid: str) -> int:
    """The numeric id an asset carries inside the committed YAML (derived from its UUID).

    Superset remaps these to real ids on import; they only need to be unique in a bundle.
    """
    return int(uuid_mod.UUID(str(asset_uuid)).hex[:6], 16) + 1


def file_slug(name: str) -> str:
    """ASCII file name from a Vietnamese title ("Kinh tế - Xã hội" -> "Kinh_te_-_Xa_hoi")."""
    text = name.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", text.strip()).strip("._")
    return text or "asset"


def _sorted(value: Any) -> Any:
    """Sort every mapping recursively (lists keep their order)."""
    if isinstance(value, dict):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _ordered(doc: dict, order: list[str]) -> dict:
    known = {k: doc[k] for k in order if k in doc}
    rest = {k: doc[k] for k in doc if k not in known}
    return {**known, **rest}


def dumps_json(value: Any) -> str:
    """JSON text as stored in YAML string fields (query_context): sorted and compact."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class _Dumper(yaml.SafeDumper):
    """Block style, unicode kept, long strings on one line, multi-line text as `|` blocks."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(doc: dict) -> str:
    return yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,
        default_flow_style=False,
    )


def _kind(path: str) -> str:
    return path.split("/", 1)[0]


def _strip_chart_ids(params: dict) -> None:
    for key in ("slice_id", "dashboards", "url_params"):
        params.pop(key, None)


def _canonical_chart(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    ds_uuid = str(doc["dataset_uuid"])
    ds_ref = f"{stable_id(ds_uuid)}__table"
    params = doc.get("params") or {}
    _strip_chart_ids(params)
    params["datasource"] = ds_ref
    doc["params"] = _sorted(params)
    if doc.get("query_context"):
        qc = json.loads(doc["query_context"])
        qc["datasource"] = {"id": stable_id(ds_uuid), "type": "table"}
        form = qc.get("form_data")
        if isinstance(form, dict):
            _strip_chart_ids(form)
            form["datasource"] = ds_ref
        for query in qc.get("queries", []):
            if "datasource" in query:
                query["datasource"] = qc["datasource"]
        doc["query_context"] = dumps_json(qc)
    return _ordered(doc, KEY_ORDER["charts"])


def _chart_id_map(position: dict) -> dict[int, int]:
    """Real chart id -> stable id, from the layout's (chartId, uuid) pairs."""
    mapping: dict[int, int] = {}
    for node in position.values():
        if isinstance(node, dict) and node.get("type") == "CHART":
            meta = node.get("meta", {})
            if "uuid" in meta and "chartId" in meta:
                mapping[int(meta["chartId"])] = stable_id(meta["uuid"])
    return mapping


def _remap_ids(ids: list, id_map: dict[int, int]) -> list[int]:
    return [id_map[int(i)] for i in ids if int(i) in id_map]


def _canonical_dashboard(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    position = doc.get("position") or {}
    id_map = _chart_id_map(position)
    for node in position.values():
        if isinstance(node, dict) and node.get("type") == "CHART":
            meta = node["meta"]
            if "uuid" in meta:
                meta["chartId"] = stable_id(meta["uuid"])
    meta = doc.get("metadata") or {}
    # Superset's importer does not remap `chartsInScope`; stale ids there would silently
    # detach filters from charts on another install. The frontend recomputes them from
    # `scope`, so they are left out.
    for flt in meta.get("native_filter_configuration", []):
        flt.pop("chartsInScope", None)
        flt.pop("tabsInScope", None)
        scope = flt.get("scope") or {}
        if scope.get("excluded"):
            scope["excluded"] = _remap_ids(scope["excluded"], id_map)
    gcc = meta.get("global_chart_configuration")
    if isinstance(gcc, dict):
        gcc.pop("chartsInScope", None)
        scope = gcc.get("scope") or {}
        if scope.get("excluded"):
            scope["excluded"] = _remap_ids(scope["excluded"], id_map)
    if "chart_configuration" in meta:
        fixed = {}
        for key, conf in meta["chart_configuration"].items():
            try:
                new_id = id_map[int(key)]
            except (KeyError, ValueError):
                continue
            if isinstance(conf, dict):
                conf["id"] = new_id
                cross = conf.get("crossFilters") or {}
                cross.pop("chartsInScope", None)
                scope = cross.get("scope")
                if isinstance(scope, dict) and scope.get("excluded"):
                    scope["excluded"] = _remap_ids(scope["excluded"], id_map)
            fixed[str(new_id)] = conf
        meta["chart_configuration"] = fixed
    for key in ("timed_refresh_immune_slices",):
        if key in meta:
            meta[key] = _remap_ids(meta[key], id_map)
    if "expanded_slices" in meta:
        meta["expanded_slices"] = {
            str(id_map[int(k)]): v for k, v in meta["expanded_slices"].items() if int(k) in id_map
        }
    meta.pop("positions", None)
    meta.pop("map_label_colors", None)  # runtime colour assignments, not design
    doc["position"] = _sorted(position)
    doc["metadata"] = _sorted(meta)
    return _ordered(doc, KEY_ORDER["dashboards"])


def _canonical_dataset(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    doc["columns"] = [
        _ordered(_sorted(c), COLUMN_KEYS)
        for c in sorted(doc.get("columns") or [], key=lambda c: c["column_name"])
    ]
    doc["metrics"] = [
        _ordered(_sorted(m), METRIC_KEYS)
        for m in sorted(doc.get("metrics") or [], key=lambda m: m["metric_name"])
    ]
    for key in ("params", "template_params", "extra"):
        if isinstance(doc.get(key), dict):
            doc[key] = _sorted(doc[key])
    return _ordered(doc, KEY_ORDER["datasets"])


def _canonical_database(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    if str(doc.get("uuid")) in CANONICAL_URIS:
        doc["sqlalchemy_uri"] = CANONICAL_URIS[str(doc["uuid"])]
    doc.pop("password", None)
    if isinstance(doc.get("extra"), dict):
        doc["extra"] = _sorted(doc["extra"])
    return _ordered(doc, KEY_ORDER["databases"])


CANONICALIZERS = {
    "charts": _canonical_chart,
    "dashboards": _canonical_dashboard,
    "datasets": _canonical_dataset,
    "databases": _canonical_database,
}


def _title(kind: str, doc: dict) -> str:
    return {
        "charts": doc.get("slice_name"),
        "dashboards": doc.get("dashboard_title"),
        "datasets": doc.get("table_name"),
        "databases": doc.get("database_name"),
    }[kind] or str(doc["uuid"])


def canonical_files(docs: dict[str, dict]) -> dict[str, str]:
    """Bundle documents (path -> parsed YAML) -> canonical files (path -> YAML text).

    Paths may carry a root folder (Superset's export zips do); kinds other than databases,
    datasets, charts and dashboards (saved queries, themes, tags) are dropped: they are not
    kept as code here.
    """
    by_kind: dict[str, list[dict]] = {k: [] for k in CANONICALIZERS}
    for path, doc in docs.items():
        parts = path.split("/")
        if parts[0] not in by_kind and len(parts) > 1 and parts[1] in by_kind:
            parts = parts[1:]
        if parts[0] in by_kind:
            by_kind[parts[0]].append(doc)

    databases = {str(d["uuid"]): d for d in by_kind["databases"]}
    out: dict[str, str] = {
        "metadata.yaml": dump_yaml({"version": EXPORT_VERSION, "type": "assets"}),
    }
    for kind, items in by_kind.items():
        taken: set[str] = set()
        seen_ids: dict[int, str] = {}
        for doc in sorted(items, key=lambda d: (_title(kind, d), str(d["uuid"]))):
            asset_uuid = str(doc["uuid"])
            sid = stable_id(asset_uuid)
            if seen_ids.get(sid, asset_uuid) != asset_uuid:
                raise AssetFormatError(f"{asset_uuid} and {seen_ids[sid]} share stable id {sid}")
            seen_ids[sid] = asset_uuid
            canonical = CANONICALIZERS[kind](doc)
            name = file_slug(_title(kind, doc))
            if kind == "datasets":
                db = databases.get(str(doc["database_uuid"]), {})
                folder = f"datasets/{file_slug(db.get('database_name', 'database'))}"
            else:
                folder = kind
            if f"{folder}/{name}" in taken:
                name = f"{name}_{asset_uuid[:8]}"
            taken.add(f"{folder}/{name}")
            out[f"{folder}/{name}.yaml"] = dump_yaml(canonical)
    return out


def parse_files(files: dict[str, str | bytes]) -> dict[str, dict]:
    """Parse the YAML files of a bundle (path -> text), skipping anything that is not YAML."""
    docs = {}
    for path, text in files.items():
        if path.endswith((".yaml", ".yml")) and not path.endswith("metadata.yaml"):
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            docs[path] = yaml.safe_load(text)
    return docs

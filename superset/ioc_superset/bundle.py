"""`superset/assets/` -> an import bundle for this install, and exported bundles -> files.

The committed database file holds the documented default URI with the password masked;
`install_bundle()` swaps in this install's read-only warehouse URL (`warehouse.bi_url()`,
psycopg2 driver, password still masked) and returns the password separately, as Superset's
import API expects (`passwords` keyed by file name). The public page's connection
(`PUBLIC_DATABASE_UUID`) gets the same host as `ioc_public`, whose password derives from the
install's role key (`warehouse.role_password`).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import yaml

from ioc import warehouse
from ioc.settings import PROJECT_ROOT, Settings
from ioc_superset.assets_format import (
    DATABASE_UUID,
    MASKED_PASSWORD,
    PUBLIC_DATABASE_UUID,
    canonical_files,
    dump_yaml,
    parse_files,
)

ASSETS_DIR = PROJECT_ROOT / "superset" / "assets"
ROOT = "ioc_assets"


def read_dir(assets_dir: Path = ASSETS_DIR) -> dict[str, str]:
    """Every YAML file under `assets_dir` (relative path -> text)."""
    return {
        str(p.relative_to(assets_dir)): p.read_text(encoding="utf-8")
        for p in sorted(assets_dir.rglob("*.yaml"))
    }


def masked_bi_uri(settings: Settings) -> tuple[str, str]:
    """(SQLAlchemy URI with the password masked, password) of the read-only BI role."""
    parts = urlsplit(warehouse.sqlalchemy_url(warehouse.bi_url(settings), driver="psycopg2"))
    password = parts.password or ""
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{parts.username}:{MASKED_PASSWORD}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc)), unquote(password)


def masked_public_uri(settings: Settings) -> tuple[str, str]:
    """(masked URI, password) of the public page's connection: role `ioc_public`, same
    server and database as the BI connection."""
    uri, _password = masked_bi_uri(settings)
    parts = urlsplit(uri)
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{warehouse.PUBLIC_ROLE}:{MASKED_PASSWORD}@{host}{port}"
    password = warehouse.role_password(warehouse.PUBLIC_ROLE, warehouse.role_key(settings))
    return urlunsplit(parts._replace(netloc=netloc)), password


def install_uris(settings: Settings) -> dict[str, tuple[str, str]]:
    """Database UUID -> (masked URI, password) for this install."""
    return {DATABASE_UUID: masked_bi_uri(settings),
            PUBLIC_DATABASE_UUID: masked_public_uri(settings)}


def install_files(settings: Settings, files: dict[str, str]) -> tuple[dict[str, str], dict]:
    """The files with this install's warehouse URIs, and the `passwords` map for the import."""
    uris = install_uris(settings)
    out = dict(files)
    passwords = {}
    for rel, text in files.items():
        if rel.startswith("databases/"):
            doc = yaml.safe_load(text)
            if str(doc.get("uuid")) in uris:
                uri, password = uris[str(doc["uuid"])]
                doc["sqlalchemy_uri"] = uri
                out[rel] = dump_yaml(doc)
                passwords[rel] = password
    return out, passwords


def zip_files(files: dict[str, str], root: str = ROOT) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, text in sorted(files.items()):
            zf.writestr(f"{root}/{rel}", text)
    return buf.getvalue()


def install_bundle(settings: Settings, assets_dir: Path = ASSETS_DIR) -> tuple[bytes, dict]:
    files, passwords = install_files(settings, read_dir(assets_dir))
    return zip_files(files), passwords


def unzip(data: bytes) -> dict[str, str]:
    """An exported zip -> {path without its root folder: text}."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.endswith("/"):
                continue
            rel = name.split("/", 1)[1] if "/" in name else name
            out[rel] = zf.read(name).decode("utf-8")
    return out


def canonical_export(data: bytes) -> dict[str, str]:
    """An export zip from Superset -> canonical files, as `superset/assets/` holds them."""
    return canonical_files(parse_files(unzip(data)))


def exported_database_uri(data: bytes, database_uuid: str = DATABASE_UUID) -> str | None:
    """A connection's (masked) URI as the running Superset has it (default: the warehouse)."""
    for rel, doc in parse_files(unzip(data)).items():
        if rel.startswith("databases/") and str(doc.get("uuid")) == database_uuid:
            return doc.get("sqlalchemy_uri")
    return None

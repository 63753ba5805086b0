"""What the demo API holds and what the warehouse holds, for comparing the two."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import httpx
import psycopg

from demo.store import read_resource
from ingest.agency.mapping import parse_time

API_KEYS = {"ho-so": "maHoSo", "van-ban": "id", "phan-anh": "maPhanAnh"}
TABLES = {"ho-so": ("ho_so", "ma_ho_so"), "van-ban": ("van_ban", "id"),
          "phan-anh": ("phan_anh", "ma_phan_anh")}
ALL = ["ho-so", "van-ban", "phan-anh"]


def server_records(admin: httpx.Client, resource: str) -> dict[str, dict]:
    """Every record the demo API shows at its current clock: key -> record."""
    out: dict[str, dict] = {}
    page = 1
    while True:
        r = admin.get(f"/api/v1/{resource}", params={"trang": page, "soBanGhi": 1000})
        r.raise_for_status()
        body = r.json()
        out.update({rec[API_KEYS[resource]]: rec for rec in body["duLieu"]})
        if page >= body["tongSoTrang"]:
            return out
        page += 1


def server_truth(admin: httpx.Client, resource: str) -> dict[str, datetime]:
    return {k: parse_time(r["capNhatLuc"]) for k, r in server_records(admin, resource).items()}


def warehouse_truth(conninfo: str, resource: str) -> dict[str, datetime]:
    table, key = TABLES[resource]
    with psycopg.connect(conninfo) as conn:
        return dict(conn.execute(f"select {key}, cap_nhat_luc from raw_agency.{table}"))


def snapshot(conninfo: str) -> dict[str, list]:
    """Row versions (xmin) of every agency table: any write changes them."""
    out = {}
    with psycopg.connect(conninfo) as conn:
        tables = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw_agency', 'restricted') and table_name <> 'sync_state'"
        ).fetchall()
        for (t,) in tables:
            out[t] = sorted(conn.execute(f"select xmin::text, ctid::text from {t}").fetchall())
    return out


def set_clock(admin: httpx.Client, when: str, advance_per_request: float = 0.0) -> None:
    admin.post("/_admin/clock", json={"now": when}).raise_for_status()
    admin.post("/_admin/faults",
               json={"advance_per_request": advance_per_request}).raise_for_status()


def personal_values(world: Path) -> dict[str, set[str]]:
    """Every name, phone, ID number and free text in any version of the demo's records."""
    values: dict[str, set[str]] = {"names": set(), "numbers": set(), "texts": set()}
    for resource, person in (("ho-so", "chuHoSo"), ("phan-anh", "nguoiPhanAnh")):
        for p in read_resource(world, resource, [person]).column(person).to_pylist():
            if not p:
                continue
            if p.get("hoTen"):
                values["names"].add(p["hoTen"])
            for f in ("soDienThoai", "soCCCD"):
                if p.get(f):
                    values["numbers"].add(p[f])
    for field in ("noiDung", "tieuDe"):  # free text citizens write: content and title
        texts = read_resource(world, "phan-anh", [field]).column(field).to_pylist()
        values["texts"] |= {t for t in texts if t}
    return values


DIGITS = re.compile(r"\d{9,12}")


def leaks(text: str, values: dict[str, set[str]]) -> list[str]:
    """Personal values found in a piece of text (whole names, phone/ID digit runs, texts)."""
    found = [n for n in DIGITS.findall(text) if n in values["numbers"]]
    found += [n for n in values["names"] if n in text]
    found += [t[:20] for t in values["texts"] if t in text]
    return found


def assert_exact(admin, url: str, resources=ALL) -> None:
    """The warehouse holds exactly the server's keys, each at the server's newest version,
    with the same version in history and (for personal data) in restricted."""
    for resource in resources:
        truth = server_truth(admin, resource)
        held = warehouse_truth(url, resource)
        assert set(held) == set(truth), resource
        stale = [k for k in truth if held[k] != truth[k]]
        assert not stale, (resource, len(stale))
        table, key = TABLES[resource]
        with psycopg.connect(url) as conn:
            missing_history = conn.execute(
                f"select count(*) from raw_agency.{table} t where not exists (select 1 from "
                f"raw_agency.{table}_history h where h.{key} = t.{key} "
                "and h.cap_nhat_luc = t.cap_nhat_luc)").fetchone()[0]
            assert missing_history == 0, resource
            if resource != "van-ban":
                mismatch = conn.execute(
                    f"select count(*) from raw_agency.{table} t full join "
                    f"restricted.{table}_ca_nhan p using ({key}) "
                    "where p.cap_nhat_luc is distinct from t.cap_nhat_luc").fetchone()[0]
                assert mismatch == 0, resource


def warehouse_not_ahead(url: str) -> None:
    """Invariant after any run, even a killed one: the watermark is the newest committed row."""
    with psycopg.connect(url) as conn:
        for resource in ALL:
            table, _ = TABLES[resource]
            wm = conn.execute("select watermark from raw_agency.sync_state where resource = %s",
                              (resource,)).fetchone()
            newest = conn.execute(f"select max(cap_nhat_luc) from raw_agency.{table}").fetchone()
            assert (wm[0] if wm else None) == newest[0], resource

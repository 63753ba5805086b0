"""The connectors end to end: the demo agency API (demo.api_server) into a fresh warehouse.

After full, incremental, faulty, interrupted and repeated runs the warehouse must hold exactly
the server's keys, each at its newest version; a run with nothing new writes nothing; a bad
token fails clearly; personal data reaches `restricted` and nothing else.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import psycopg
import pytest

from demo.store import read_resource
from ingest.agency import schema
from ingest.agency.client import FaultCounts, RetryPolicy
from ingest.agency.errors import AuthError, BusyError, PullFailed
from ingest.agency.load import Batch, BatchResult, Store
from ingest.agency.mapping import parse_time
from ingest.agency.pull import PullStats, pull
from tests.agency.helpers import (
    ALL,
    assert_exact,
    leaks,
    personal_values,
    server_truth,
    set_clock,
    snapshot,
    warehouse_not_ahead,
    warehouse_truth,
)


def test_a_runs_stats_have_a_field_for_every_count_they_take_in() -> None:
    """The stats add up each batch's result and copy the client's fault counts by name."""
    names = {f.name for f in dataclasses.fields(PullStats)}
    assert set(BatchResult._fields) <= names
    assert {f.name for f in dataclasses.fields(FaultCounts)} <= names


def test_first_pull_holds_exactly_the_servers_records(admin, config, fresh_db_url) -> None:
    stats = pull(None, conninfo=fresh_db_url, config=config)
    assert list(stats) == ALL
    assert_exact(admin, fresh_db_url)
    warehouse_not_ahead(fresh_db_url)
    for resource, s in stats.items():
        truth = server_truth(admin, resource)
        assert s.status == "ok" and s.inserted == len(truth) == s.history_added
        assert s.updated == 0 and s.rejected == 0 and s.unmapped_fields == ""
        assert s.fetched >= len(truth) and s.batches >= 1 + len(truth) // 1000  # commit_every
        assert parse_time(s.watermark_after) == max(truth.values())
        assert s.personal_written == (0 if resource == "van-ban" else len(truth))
    with psycopg.connect(fresh_db_url) as conn:
        rows = {r: (status, total) for r, status, total in conn.execute(
            "select resource, last_status, records_total from raw_agency.sync_state")}
        assert rows == {r: ("ok", len(server_truth(admin, r))) for r in ALL}


def test_a_run_with_no_changes_writes_nothing(admin, config, fresh_db_url) -> None:
    pull(None, conninfo=fresh_db_url, config=config)
    before = snapshot(fresh_db_url)
    stats = pull(None, conninfo=fresh_db_url, config=config)
    for s in stats.values():
        assert s.written == 0 and s.inserted == s.updated == s.history_added == 0
        assert s.fetched > 0  # the overlap window was asked again...
        assert s.unchanged == s.fetched  # ...and every record found as it was
        assert s.watermark_after == s.watermark_before
        assert s.pages == 1
    assert snapshot(fresh_db_url) == before


def test_increments_and_history_follow_the_clock(admin, config, fresh_db_url,
                                                 agency_world) -> None:
    """Pulled at three times, dossiers keep every status they were seen in, with its time;
    each history row is a version the platform really published."""
    for when in ("2025-01-10T12:00:00+07:00", "2025-01-20T12:00:00+07:00",
                 "2025-01-31T23:59:59+07:00"):
        set_clock(admin, when)
        stats = pull(["ho-so"], conninfo=fresh_db_url, config=config)["ho-so"]
        assert stats.status == "ok"
        assert_exact(admin, fresh_db_url, ["ho-so"])
    assert stats.updated > 0 and stats.inserted > 0  # the last run changed and added
    versions = read_resource(agency_world, "ho-so", ["maHoSo", "capNhatLuc", "trangThai"])
    published = {(k, t.isoformat(), s) for k, t, s in zip(*(versions.column(c).to_pylist()
                 for c in ("maHoSo", "capNhatLuc", "trangThai")), strict=True)}
    with psycopg.connect(fresh_db_url) as conn:
        history = conn.execute("select ma_ho_so, cap_nhat_luc, trang_thai "
                               "from raw_agency.ho_so_history").fetchall()
        multi = conn.execute(
            "select count(*) from (select ma_ho_so from raw_agency.ho_so_history group by 1 "
            "having count(distinct trang_thai) > 1) x").fetchone()[0]
    assert multi > 100  # status changes kept
    norm = {(k, parse_time(t), s) for k, t, s in published}
    assert all((k, t, s) in norm for k, t, s in history)


def test_changes_while_paging_and_every_fault_then_exact(admin, config,
                                                         fresh_db_url) -> None:
    """Records change between page requests (the clock moves an hour per request, through a
    working Tuesday: paging by page number alone loses ~100 records here) while the API
    throttles, fails and stalls; after one more run the warehouse is exact."""
    set_clock(admin, "2025-01-12T00:00:00+07:00")
    pull(None, conninfo=fresh_db_url, config=config)
    set_clock(admin, "2025-01-21T07:30:00+07:00", advance_per_request=3600)
    admin.post("/_admin/faults", json={"throttle_next": 2, "retry_after": 1,
                                       "fail_next": [500, 502, 503],
                                       "slow_next": 1, "slow_seconds": 2.5})
    small = config.with_options(page_size=100, commit_every=300)
    stats = pull(None, conninfo=fresh_db_url, config=small)
    total = {k: sum(getattr(s, k) for s in stats.values())
             for k in ("throttled", "server_errors", "timeouts", "updated", "inserted")}
    assert total["throttled"] == 2 and total["server_errors"] == 3 and total["timeouts"] == 1
    assert total["updated"] > 100 and total["inserted"] > 100
    assert sum(s.waited_seconds for s in stats.values()) >= 2.0  # Retry-After: 1 s, twice
    warehouse_not_ahead(fresh_db_url)
    set_clock(admin, admin.get("/_admin/state").json()["now"])  # the clock stops
    pull(None, conninfo=fresh_db_url, config=small)
    assert_exact(admin, fresh_db_url)
    # and once more: nothing left to do
    again = pull(None, conninfo=fresh_db_url, config=small)
    assert all(s.written == 0 for s in again.values())


def test_failed_runs_leave_the_warehouse_consistent_and_the_next_catches_up(
        admin, config, fresh_db_url) -> None:
    """With no retries and one request in five failing, runs die at random pages: after each,
    the watermark matches the committed rows; a clean run then makes the warehouse exact."""
    set_clock(admin, "2025-01-31T23:59:59+07:00")
    admin.post("/_admin/faults", json={"error_rate": 0.2})
    brittle = config.with_options(page_size=100, commit_every=200,
                                  retry=RetryPolicy(timeout=2, max_attempts=1))
    failures = 0
    for _ in range(5):
        try:
            pull(None, conninfo=fresh_db_url, config=brittle)
        except PullFailed as exc:
            failures += 1
            assert all("503" in str(e) or "502" in str(e) or "500" in str(e)
                       for e in exc.errors.values())
            assert {s.status for r, s in exc.stats.items() if r in exc.errors} == {"failed"}
        warehouse_not_ahead(fresh_db_url)
    assert failures >= 2
    admin.post("/_admin/faults", json={"error_rate": 0})
    pull(None, conninfo=fresh_db_url, config=config)
    assert_exact(admin, fresh_db_url)
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select count(*) from raw_agency.sync_state "
                            "where last_status <> 'ok'").fetchone()[0] == 0


def test_older_versions_never_overwrite_newer_ones(admin, config, fresh_db_url) -> None:
    """The platform (or a replica) serving older versions, e.g. after a watermark reset:
    history gains them, the current tables keep the newer ones."""
    pull(["ho-so"], conninfo=fresh_db_url, config=config)
    newest = warehouse_truth(fresh_db_url, "ho-so")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("delete from raw_agency.sync_state")
        personal_before = conn.execute(
            "select count(*), max(cap_nhat_luc) from restricted.ho_so_ca_nhan").fetchone()
    set_clock(admin, "2025-01-15T00:00:00+07:00")
    stats = pull(["ho-so"], conninfo=fresh_db_url, config=config)["ho-so"]
    assert stats.updated == 0 and stats.inserted == 0 and stats.history_added > 100
    assert warehouse_truth(fresh_db_url, "ho-so") == newest
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select count(*), max(cap_nhat_luc) "
                            "from restricted.ho_so_ca_nhan").fetchone() == personal_before


def test_401_stops_the_run_with_a_clear_message(api, admin, config, fresh_db_url,
                                                caplog) -> None:
    bad = config.with_options(sources={r: s.__class__(r, s.base_url, "expired-token")
                                       for r, s in config.sources.items()})
    with pytest.raises(PullFailed) as exc:
        pull(None, conninfo=fresh_db_url, config=bad)
    assert set(exc.value.errors) == set(ALL)
    assert all(isinstance(e, AuthError) for e in exc.value.errors.values())
    assert "Token không hợp lệ hoặc đã hết hạn (401)" in str(exc.value)
    assert "IOC_AGENCY_API_TOKEN" in str(exc.value)
    assert "expired-token" not in str(exc.value) + caplog.text
    assert all(s.requests == 1 for s in exc.value.stats.values())  # no retrying a bad token
    with psycopg.connect(fresh_db_url) as conn:
        state = conn.execute("select resource, last_status, last_error, watermark "
                             "from raw_agency.sync_state order by 1").fetchall()
        assert [(r, s, w) for r, s, _, w in state] == [(r, "failed", None) for r in sorted(ALL)]
        assert all("401" in e for _, _, e, _ in state)
        assert conn.execute("select count(*) from raw_agency.ho_so").fetchone()[0] == 0


def test_a_second_pull_of_the_same_resource_waits_its_turn(admin, config,
                                                          fresh_db_url) -> None:
    schema.ensure_tables(fresh_db_url)
    with psycopg.connect(fresh_db_url, autocommit=True) as other:
        other.execute("select pg_advisory_lock(hashtext('ioc.agency.pull.ho-so'))")
        with pytest.raises(PullFailed) as exc:
            pull(["ho-so", "van-ban"], conninfo=fresh_db_url, config=config)
        assert isinstance(exc.value.errors["ho-so"], BusyError)
        assert set(exc.value.errors) == {"ho-so"}  # van-ban ran
        assert exc.value.stats["van-ban"].status == "ok"


def test_personal_data_reaches_restricted_only(admin, config, fresh_db_url, agency_world,
                                               caplog) -> None:
    caplog.set_level(logging.DEBUG)
    admin.post("/_admin/faults", json={"fail_next": [502], "throttle_next": 1,
                                       "retry_after": 0})
    pull(None, conninfo=fresh_db_url, config=config)
    values = personal_values(agency_world)
    assert len(values["names"]) > 500 and len(values["numbers"]) > 500
    with psycopg.connect(fresh_db_url) as conn:
        cols = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema not in ('pg_catalog', 'information_schema', 'restricted') "
            "and data_type in ('text', 'character varying', 'jsonb', 'json')").fetchall()
        assert {s for s, _, _ in cols} == {"raw_agency"}
        cells = []
        for sch, table, column in cols:
            cells += [str(v) for (v,) in conn.execute(
                f'select "{column}"::text from {sch}.{table} where "{column}" is not null')]
        assert len(cells) > 10_000
        blob = "\n".join(cells)
        assert leaks(blob, values) == []
        # positive control: the same check finds them where they belong
        restricted = "\n".join(str(r) for r in conn.execute(
            "select * from restricted.ho_so_ca_nhan union all select ma_phan_anh, ho_ten, "
            "so_dien_thoai, so_cccd, cap_nhat_luc from restricted.phan_anh_ca_nhan"))
        assert len(leaks(restricted, values)) > 500
        texts = conn.execute("select count(*) from restricted.phan_anh_ca_nhan "
                             "where noi_dung is not null and tieu_de is not null").fetchone()[0]
        assert texts == len(server_truth(admin, "phan-anh"))
        # only the owner reads restricted: PUBLIC has no access
        assert conn.execute("select has_schema_privilege('public', 'restricted', 'usage')"
                            ).fetchone()[0] is False
    assert leaks(caplog.text, values) == []
    assert "Bearer" not in caplog.text


def test_hash_mode_keeps_pseudonyms_only(admin, config, fresh_db_url, agency_world) -> None:
    hashed = config.with_options(personal_mode="hash", personal_key=b"test-key" * 4)
    pull(["phan-anh"], conninfo=fresh_db_url, config=hashed)
    values = personal_values(agency_world)
    with psycopg.connect(fresh_db_url) as conn:
        rows = conn.execute("select ho_ten, so_dien_thoai, noi_dung "
                            "from restricted.phan_anh_ca_nhan").fetchall()
    assert rows and leaks(str(rows), values) == []
    assert all(len(h) == 64 and (p is None or len(p) == 64) for h, p, _ in rows)
    assert {n for _, _, n in rows} == {None}


def test_store_records_rejects_without_values_and_once(fresh_db_url, config,
                                                       table_types) -> None:
    """A record the mapping refused: its key, field and problem are kept (not its value),
    the watermark passes it, and meeting it again in an overlap does not repeat it."""
    from ingest.agency.mapping import bind

    schema.ensure_tables(fresh_db_url)
    rmap = config.mapping.resource("van-ban")
    conv = bind(rmap, table_types[("raw_agency", "van_ban")], {})
    t = parse_time("2025-01-02T08:27:00+07:00")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        store = Store(conn, "van-ban", "van_ban")
        store.prepare(conv)
        for _ in range(2):
            batch = Batch()
            batch.reject("VB.1", t, "ngayVanBan", "sai kiểu dữ liệu (wrong type)")
            store.commit(batch)
        rejects = conn.execute("select record_key, field, problem "
                               "from raw_agency.sync_rejects").fetchall()
        assert rejects == [("VB.1", "ngayVanBan", "sai kiểu dữ liệu (wrong type)")]
        assert conn.execute("select watermark from raw_agency.sync_state").fetchone()[0] == t


def test_overlap_reasks_from_the_watermark_minus_the_window(admin, config,
                                                            fresh_db_url) -> None:
    s1 = pull(["van-ban"], conninfo=fresh_db_url, config=config)["van-ban"]
    s2 = pull(["van-ban"], conninfo=fresh_db_url,
              config=config.with_options(overlap=timedelta(hours=6)))["van-ban"]
    assert parse_time(s2.since) == parse_time(s1.watermark_after) - timedelta(hours=6)
    truth = server_truth(admin, "van-ban")
    window = [k for k, t in truth.items() if t >= parse_time(s2.since)]
    assert s2.fetched >= len(window) > 1 and s2.written == 0


def test_the_dagster_asset_runs_the_same_pull(api, admin, fresh_db_url, monkeypatch) -> None:
    import dagster as dg

    from orchestration.agency.assets import agency_assets
    from orchestration.resources import AgencyApiResource, WarehouseResource
    from tests.agency.conftest import TOKEN

    # the resources take no config: the environment Dagster runs in decides
    monkeypatch.setenv("IOC_WAREHOUSE_URL", fresh_db_url)
    monkeypatch.setenv("IOC_AGENCY_API_URL", api.url)
    monkeypatch.setenv("IOC_AGENCY_API_TOKEN", TOKEN)
    asset = next(a for a in agency_assets if a.node_def.name == "agency_phan_anh")
    result = dg.materialize([asset], resources={
        "warehouse": WarehouseResource(), "agency_api": AgencyApiResource()})
    assert result.success
    materialized = result.asset_materializations_for_node("agency_phan_anh")
    assert {m.asset_key.to_user_string() for m in materialized} == {
        "raw_agency/phan_anh", "raw_agency/phan_anh_history"}
    meta = materialized[0].metadata
    assert meta["status"].value == "ok" and meta["inserted"].value > 200
    assert_exact(admin, fresh_db_url, ["phan-anh"])


def test_personal_rows_past_retention_are_not_kept(admin, config, fresh_db_url) -> None:
    """Retention: personal rows of records unchanged for longer are neither written nor kept;
    the raw tables keep every record."""
    with psycopg.connect(fresh_db_url) as conn:
        now = conn.execute("select now()").fetchone()[0]
    truth = server_truth(admin, "ho-so")

    def personal() -> list:
        with psycopg.connect(fresh_db_url) as conn:
            return [c for (c,) in conn.execute(
                "select cap_nhat_luc from restricted.ho_so_ca_nhan")]

    cut = parse_time("2025-01-20T00:00:00+07:00")
    keep = config.with_options(personal_retention=now - cut)
    stats = pull(["ho-so"], conninfo=fresh_db_url, config=keep)["ho-so"]
    kept = personal()
    newer = [t for t in truth.values() if t >= cut + timedelta(minutes=5)]
    assert len(newer) <= len(kept) <= sum(t >= cut for t in truth.values()) < len(truth)
    assert all(c >= cut for c in kept) and stats.personal_written == len(kept)
    assert len(warehouse_truth(fresh_db_url, "ho-so")) == len(truth)
    later = parse_time("2025-01-28T00:00:00+07:00")
    stats = pull(["ho-so"], conninfo=fresh_db_url,
                 config=keep.with_options(personal_retention=now - later))["ho-so"]
    assert stats.personal_purged > 0 and all(c >= later for c in personal())


def test_a_record_dated_in_the_future_never_moves_the_watermark_past_now(
        fresh_db_url, config, table_types) -> None:
    """One record whose source clock is a year ahead used to become the watermark, and every
    later pull asked for changes "since next year" and silently brought nothing. The
    watermark now stops at now + the allowed skew; a watermark already in the future (left by
    an older release) is brought back by the next batch."""
    from datetime import UTC, datetime

    from ingest.agency.mapping import bind

    schema.ensure_tables(fresh_db_url)
    rmap = config.mapping.resource("van-ban")
    conv = bind(rmap, table_types[("raw_agency", "van_ban")], {})
    skew = timedelta(minutes=5)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        store = Store(conn, "van-ban", "van_ban")
        store.prepare(conv)
        batch = Batch()
        batch.reject("VB.TUONG-LAI", datetime.now(UTC) + timedelta(days=365), "capNhatLuc",
                     "ngày ở tương lai")
        store.commit(batch, skew=skew)
        mark = conn.execute("select watermark from raw_agency.sync_state").fetchone()[0]
        assert mark <= datetime.now(UTC) + skew
        conn.execute("update raw_agency.sync_state set watermark = '2099-01-01'")
        store.commit(Batch(), skew=skew)
        mark = conn.execute("select watermark from raw_agency.sync_state").fetchone()[0]
        assert mark <= datetime.now(UTC) + skew


def test_freshness_is_judged_on_the_data_and_flags_future_records(admin, config,
                                                                  fresh_db_url) -> None:
    from orchestration.quality.freshness import agency_freshness

    pull(["ho-so"], conninfo=fresh_db_url, config=config)
    got = agency_freshness(fresh_db_url, "ho_so")
    assert got["pull_age_s"] is not None and got["pull_age_s"] < 600
    newest = max(server_truth(admin, "ho-so").values())
    with psycopg.connect(fresh_db_url) as conn:
        age_truth = conn.execute("select extract(epoch from now() - %s)", (newest,)).fetchone()[0]
        assert abs(got["data_age_s"] - float(age_truth)) < 5  # the newest record, not the run
        assert got["future"] == 0
        key = conn.execute("select min(ma_ho_so) from raw_agency.ho_so").fetchone()[0]
        conn.execute("update raw_agency.ho_so set cap_nhat_luc = now() + interval '1 year' "
                     "where ma_ho_so = %s", (key,))
    got = agency_freshness(fresh_db_url, "ho_so")
    assert got["future"] == 1 and got["future_keys"] == [key]

"""One multi-asset per agency resource: the current table and its history table.

The assets call the same code as `ioc pull` (`ingest.agency.pull`). Without a configured
API (`IOC_AGENCY_API_URL`), they only make sure the raw tables exist, so the nightly job
still builds the marts from the other sources.
"""

import dagster as dg

from ingest import catalogue
from ingest.agency import schema
from ingest.agency.errors import AuthError, ConfigError, PullFailed
from ingest.agency.pull import pull
from orchestration.alerts.sensors import send_alert
from orchestration.resources import AgencyApiResource, WarehouseResource

# From the catalogue of sources (ingest/agency/mapping.yaml via ingest/catalogue.py).
AGENCY_RESOURCES = {
    src.resource: (src.table, src.description) for src in catalogue.agency_sources()
}


def _build(resource: str, table: str, description: str) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            key=dg.AssetKey(["raw_agency", name]),
            description=description + (" — lịch sử phiên bản" if name.endswith("_history") else ""),
            group_name="agency",
            kinds={"python", "postgres"},
        )
        for name in (table, f"{table}_history")
    ]

    @dg.multi_asset(
        specs=specs,
        name=f"agency_{table}",
        retry_policy=dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL),
    )
    def _asset(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        agency_api: AgencyApiResource,
    ):
        conninfo = warehouse.conninfo()
        schema.ensure_tables(conninfo)
        metadata: dict = {}
        if agency_api.configured(resource):
            try:
                stats = pull([resource], conninfo=conninfo, config=agency_api.config())[resource]
            except (PullFailed, ConfigError) as exc:
                causes = exc.errors.values() if isinstance(exc, PullFailed) else [exc]
                if any(isinstance(c, AuthError | ConfigError) for c in causes):
                    # A wrong token or setting does not heal by retrying: fail now, clearly.
                    raise dg.Failure(description=str(exc), allow_retries=False) from exc
                raise
            metadata = {k: v for k, v in vars(stats).items() if isinstance(v, int | float | str)}
            context.log.info(f"{resource}: {metadata}")
            if stats.future_dated:
                send_alert(f"[IOC] {resource}: {stats.future_dated} bản ghi có thời điểm cập "
                           f"nhật ở tương lai (ví dụ {stats.future_keys}); mốc lấy dữ liệu giữ ở "
                           "thời điểm hiện tại. Kiểm tra đồng hồ hoặc dữ liệu của hệ thống "
                           "nguồn.", context.log)
        else:
            context.log.warning(f"{resource}: IOC_AGENCY_API_URL is not set; nothing pulled")
            metadata = {"skipped": "IOC_AGENCY_API_URL not set"}
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key, metadata=metadata)

    return _asset


agency_assets = [_build(r, t, d) for r, (t, d) in AGENCY_RESOURCES.items()]

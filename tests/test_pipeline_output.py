"""`make demo` / `ioc pipeline` print one short line per finished step, not Dagster's log."""

from __future__ import annotations

from cli.pipeline import progress_line


def test_one_line_per_step_from_the_steps_metadata() -> None:
    intake = {"raw_intake__file_manifest": {"files_seen": 1234, "accepted": 1200,
                                            "rejected": 30, "duplicate": 4}}
    assert progress_line("intake_files", intake) == (
        "  Tiếp nhận tệp: 1.234 tệp (1.200 nhận, 30 từ chối, 4 trùng)")
    pulled = {"raw_agency__ho_so": {"fetched": 5000, "inserted": 4000, "updated": 12}}
    assert progress_line("agency_ho_so", pulled) == (
        "  Dữ liệu ho-so: 5.000 bản ghi (mới 4.000, đổi 12)")
    skipped = {"raw_agency__van_ban": {"skipped": "IOC_AGENCY_API_URL not set"}}
    assert progress_line("agency_van_ban", skipped) == (
        "  Dữ liệu van-ban: bỏ qua (chưa cấu hình API)")
    dbt = {"a": {"unique_id": "model.ioc.fct_x"}, "b": {"unique_id": "seed.ioc.org_units"},
           "c": {"unique_id": "test.ioc.not_null_x"}}
    assert progress_line("ioc_dbt_assets", dbt) == (
        "  Kho dữ liệu (dbt): 2 bảng và khung nhìn đã dựng, đã kiểm tra")
    assert progress_line("something_else", {}) is None

"""Ingest against a real (fresh, empty) warehouse database: archive, manifest, COPY, versions,
duplicates, corrections, refusals that load nothing, concurrency, feedback to the staff."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

from ingest.intake.engine import ingest_paths, scan_intake
from tests.conftest import FIXTURES
from tests.intake.builders import KTXH_VALUES, csv_bytes, ktxh_sheet, ktxh_table, write_xlsx
from tests.intake.conftest import NOW

EXAMPLES = FIXTURES / "examples"


def _drop(intake: Path, unit: str, example: str, name: str | None = None) -> Path:
    folder = intake / unit
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or example)
    shutil.copyfile(EXAMPLES / example, target)
    return target


def _ingest(paths, url: str, tmp: Path, **kw):
    kw.setdefault("now", NOW)
    return ingest_paths(paths, conninfo=url, archive_dir=tmp / "archive",
                        intake_root=tmp / "intake", **kw)


def _manifest(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select file_id, status, version, is_current, superseded_by, duplicate_of, row_count "
            "from raw_intake.file_manifest order by file_id").fetchall()


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"select count(*) from raw_intake.{table}").fetchone()[0]


def test_example_ktxh_is_loaded(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    src = _drop(intake, "xa-hiep-thuan", "KTXH-01_xa-hiep-thuan_2024-10.xlsx")
    before = src.read_bytes()
    [result] = _ingest([src], fresh_db_url, tmp_path)
    assert result.status == "accepted", result.errors
    assert result.version == 1
    assert src.read_bytes() == before  # the original is never modified
    archived = Path(result.archive_path)
    assert archived.read_bytes() == before
    assert archived == tmp_path / "archive" / result.sha256[:2] / f"{result.sha256}.xlsx"
    with psycopg.connect(fresh_db_url) as conn:
        row = conn.execute(
            "select v.value, v.plan_year, v.ytd, v.source_sheet, v.source_row, m.status, "
            "m.is_current, m.org_unit_id, m.form_code, m.period, m.size_bytes, m.sha256 "
            "from raw_intake.ktxh01_value v join raw_intake.file_manifest m using (file_id) "
            "where v.indicator_code = 'KT01'").fetchone()
    assert row == (Decimal("412.5"), Decimal("5200"), Decimal("4125"), "KTXH", 10, "accepted",
                   True, "xa-hiep-thuan", "KTXH-01", "2024-10", len(before), result.sha256)
    assert _count(fresh_db_url, "ktxh01_value") == 17
    receipt = intake / "xa-hiep-thuan" / "_phan_hoi" / (src.name + ".da-nhan.txt")
    assert "ĐÃ TIẾP NHẬN" in receipt.read_text(encoding="utf-8-sig")
    assert scan_intake(intake, conninfo=fresh_db_url, settle_seconds=0) == []


def test_all_four_forms_load(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    _drop(intake, "xa-que-luu", "KTXH-01_xa-que-luu_2024-10.csv")
    _drop(intake, "xa-song-tra", "YT-01_xa-song-tra_2024-10.xlsx")
    _drop(intake, "xa-binh-lam", "HCC-06_xa-binh-lam_2024-10.xlsx")
    _drop(intake, "phong-gddt", "GD-01_phong-gddt_2024-HK1.xlsx")
    results = _ingest([intake], fresh_db_url, tmp_path)
    assert [r.status for r in results] == ["accepted"] * 4, [r.errors for r in results]
    tables = ("ktxh01_value", "yt01_value", "hcc06_row", "gd01_school")
    assert [_count(fresh_db_url, t) for t in tables] == [17, 11, 4, 8]
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute(
            "select national_standard, org_unit_id, level from raw_intake.gd01_school "
            "where school_code = 'CS02'").fetchone() == (True, "xa-phuoc-gia", "THCS")
        assert conn.execute(
            "select resolved_late, pending_late from raw_intake.hcc06_row where field = 'Đất đai'"
        ).fetchone() == (3, 2)


def test_same_bytes_again_is_a_duplicate(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    first = _drop(intake, "xa-hiep-thuan", "KTXH-01_xa-hiep-thuan_2024-10.xlsx")
    copy = _drop(intake, "xa-hiep-thuan", "KTXH-01_xa-hiep-thuan_2024-10.xlsx", "ban sao.xlsx")
    [a] = _ingest([first], fresh_db_url, tmp_path)
    [b] = _ingest([copy], fresh_db_url, tmp_path)
    [c] = _ingest([first], fresh_db_url, tmp_path)
    assert (a.status, b.status, c.status) == ("accepted", "duplicate", "duplicate")
    assert b.duplicate_of == a.file_id == c.duplicate_of
    assert _count(fresh_db_url, "ktxh01_value") == 17
    assert [(s, v, cur) for _, s, v, cur, *_ in _manifest(fresh_db_url)] == [
        ("accepted", 1, True), ("duplicate", None, False), ("duplicate", None, False)]
    assert len(list((tmp_path / "archive").rglob("*.xlsx"))) == 1


def _ktxh_file(intake: Path, name: str, kt01: float, unit: str = "xa-hiep-thuan",
               title: str | None = None, ytd: float | None = None) -> Path:
    values = [(c, n, u, p, kt01 if c == "KT01" else m, (ytd if ytd is not None else y)
               if c == "KT01" else y) for c, n, u, p, m, y in KTXH_VALUES]
    sheet = ktxh_sheet(table=ktxh_table(values)) if title is None else ktxh_sheet(
        title=title, table=ktxh_table(values))
    return write_xlsx(intake / unit / name, sheet)


def test_correction_supersedes_and_history_stays(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    first = _ktxh_file(intake, "ktxh.xlsx", 400)
    [a] = _ingest([first], fresh_db_url, tmp_path, arrived_at=NOW - timedelta(days=10))
    second = _ktxh_file(intake, "ktxh (sua).xlsx", 412.5)
    [b] = _ingest([second], fresh_db_url, tmp_path)
    assert (a.version, b.version) == (1, 2)
    manifest = _manifest(fresh_db_url)
    assert [(fid, v, cur, sup) for fid, _, v, cur, sup, *_ in manifest] == [
        (a.file_id, 1, False, b.file_id), (b.file_id, 2, True, None)]
    with psycopg.connect(fresh_db_url) as conn:
        current = conn.execute(
            "select v.value from raw_intake.ktxh01_value v join raw_intake.file_manifest m "
            "using (file_id) where m.is_current and v.indicator_code = 'KT01'").fetchall()
        every = conn.execute(
            "select count(*) from raw_intake.ktxh01_value where indicator_code = 'KT01'"
        ).fetchone()[0]
    assert current == [(Decimal("412.5"),)] and every == 2
    receipt = (intake / "xa-hiep-thuan" / "_phan_hoi" / "ktxh (sua).xlsx.da-nhan.txt")
    assert "lần nộp thứ 2" in receipt.read_text(encoding="utf-8-sig")


def test_versions_follow_arrival_not_processing_order(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    late = _ktxh_file(intake, "late.xlsx", 412.5)
    early = _ktxh_file(intake, "early.xlsx", 400)
    arrivals = {"late.xlsx": datetime(2024, 11, 20, tzinfo=UTC),
                str(early): datetime(2024, 11, 4, tzinfo=UTC)}
    [x] = _ingest([late], fresh_db_url, tmp_path, arrived_at=arrivals)
    [y] = _ingest([early], fresh_db_url, tmp_path, arrived_at=arrivals)
    assert (x.version, y.version) == (1, 1)  # each as of its own transaction
    rows = {fid: (v, cur, sup) for fid, _, v, cur, sup, *_ in _manifest(fresh_db_url)}
    assert rows[x.file_id] == (2, True, None) and rows[y.file_id] == (1, False, x.file_id)
    with psycopg.connect(fresh_db_url) as conn:
        arrived = conn.execute("select arrived_at from raw_intake.file_manifest "
                               "where file_id = %s", (y.file_id,)).fetchone()[0]
    assert arrived == datetime(2024, 11, 4, tzinfo=UTC)


def test_refused_file_loads_nothing_and_gets_an_answer(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    bad = _ktxh_file(intake, "ktxh.xlsx", -5)
    [r] = _ingest([bad], fresh_db_url, tmp_path)
    assert r.status == "rejected" and r.file_id is not None
    assert _count(fresh_db_url, "ktxh01_value") == 0
    with psycopg.connect(fresh_db_url) as conn:
        status, errors, archive_path, current = conn.execute(
            "select status, errors, archive_path, is_current from raw_intake.file_manifest"
        ).fetchone()
    assert status == "rejected" and not current
    assert errors[0]["code"] == "negative" and errors[0]["row"] == 10
    assert Path(archive_path).read_bytes() == bad.read_bytes()  # the refused file is kept
    answer = intake / "xa-hiep-thuan" / "_phan_hoi" / "ktxh.xlsx.loi.txt"
    text = answer.read_text(encoding="utf-8-sig")
    assert "TỪ CHỐI" in text and "dòng 10" in text and "Cách sửa" in text
    # the staff fix the file in place (same name, new bytes): accepted, the old answer goes
    _ktxh_file(intake, "ktxh.xlsx", 412.5)
    assert scan_intake(intake, conninfo=fresh_db_url, settle_seconds=0) == [bad]
    [ok] = _ingest([bad], fresh_db_url, tmp_path)
    assert ok.status == "accepted" and ok.version == 1
    assert not answer.exists()
    assert (answer.parent / "ktxh.xlsx.da-nhan.txt").exists()


def test_unreadable_file_is_archived_and_reported(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    path = intake / "xa-binh-lam" / "so lieu.docx"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 not really")
    [r] = _ingest([path], fresh_db_url, tmp_path)
    assert r.status == "rejected" and r.org_unit_id == "xa-binh-lam"
    assert Path(r.archive_path).suffix == ".docx" and Path(r.archive_path).exists()
    assert (intake / "xa-binh-lam" / "_phan_hoi" / "so lieu.docx.loi.txt").exists()


def test_concurrent_ingests_leave_one_current(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    files = [_ktxh_file(intake, f"v{i}.xlsx", 400 + i) for i in range(4)]
    results, errors = [], []  # on an empty database: the tables are created by the first

    def run(path: Path) -> None:
        try:
            results.extend(_ingest([path], fresh_db_url, tmp_path))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(r.status for r in results) == ["accepted"] * 4
    manifest = _manifest(fresh_db_url)
    assert sum(1 for row in manifest if row[3]) == 1
    assert sorted(row[2] for row in manifest) == [1, 2, 3, 4]


def test_ytd_warning_against_accepted_months(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    unit = "xa-binh-son"
    header = ["Mã chỉ tiêu", "Chỉ tiêu", "Thực hiện tháng", "Lũy kế từ đầu năm"]

    def month_file(month: int, kt01: float, ytd: float | None) -> Path:
        rows = [header] + [[c, n, kt01 if c == "KT01" else m, (ytd if c == "KT01" else None)]
                           for c, n, _, _, m, _ in KTXH_VALUES]
        path = intake / unit / f"KTXH-01_{unit}_2024-{month:02d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(csv_bytes(rows))
        return path

    # October first: September and before are unknown, so no check (no warning)
    [october] = _ingest([month_file(10, 100, 999)], fresh_db_url, tmp_path)
    assert october.status == "accepted" and october.warnings == []
    _ingest([month_file(m, 100, 100 * m) for m in range(1, 10)], fresh_db_url, tmp_path)
    # a correction of October with a wrong year-to-date: warned, still accepted
    [wrong] = _ingest([month_file(10, 100, 1200)], fresh_db_url, tmp_path)
    assert wrong.status == "accepted"
    assert [w["code"] for w in wrong.warnings] == ["ytd_mismatch"]
    assert wrong.warnings[0]["row"] == 2 and "1000" in wrong.warnings[0]["message"]
    # within 1 %: no warning
    [close] = _ingest([month_file(10, 100, 1005)], fresh_db_url, tmp_path)
    assert close.warnings == []


def test_scan_skips_growing_answers_and_temp_files(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    done = _drop(intake, "xa-que-luu", "KTXH-01_xa-que-luu_2024-10.csv")
    (intake / "xa-que-luu" / "~$ktxh.xlsx").write_bytes(b"lock")
    (intake / "xa-que-luu" / ".~lock.ktxh.xlsx#").write_bytes(b"lock")
    (intake / "xa-que-luu" / "_phan_hoi").mkdir()
    (intake / "xa-que-luu" / "_phan_hoi" / "x.loi.txt").write_text("x")
    (intake / "loose-file.csv").write_text("not in a unit folder")
    growing = intake / "xa-que-luu" / "big.xlsx"
    growing.write_bytes(b"x" * 10)
    stop = threading.Event()

    def grow() -> None:
        while not stop.is_set():
            with growing.open("ab") as fh:
                fh.write(b"x" * 100)
            stop.wait(0.05)

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        waiting = scan_intake(intake, conninfo=fresh_db_url, settle_seconds=0.5)
    finally:
        stop.set()
        writer.join()
    assert waiting == [done]
    assert scan_intake(intake, conninfo=fresh_db_url, settle_seconds=0) == [done, growing]


def test_refused_bytes_seen_again_are_judged_again(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    early = _ktxh_file(intake, "ktxh.xlsx", 412.5)
    too_soon = datetime(2024, 10, 20, tzinfo=UTC)
    [first] = _ingest([early], fresh_db_url, tmp_path, now=too_soon)
    assert first.status == "rejected"
    assert [e["code"] for e in first.errors] == ["period_not_ended"]
    [again] = _ingest([early], fresh_db_url, tmp_path, now=too_soon)
    assert again.status == "rejected" and again.duplicate_of == first.file_id
    [later] = _ingest([early], fresh_db_url, tmp_path)  # after the month ended
    assert later.status == "accepted" and later.version == 1
    assert later.duplicate_of == first.file_id
    [dup] = _ingest([early], fresh_db_url, tmp_path)
    assert dup.status == "duplicate" and dup.duplicate_of == later.file_id
    assert _count(fresh_db_url, "ktxh01_value") == 17


def test_value_the_warehouse_refuses_is_a_refusal_not_a_crash(tmp_path: Path,
                                                              fresh_db_url: str) -> None:
    """A column narrower than the contract (a drifted table) makes COPY fail: the file is
    recorded as refused, nothing is loaded, and the other files of the run still load."""
    from ingest.intake.engine import ensure_tables

    ensure_tables(fresh_db_url)
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute("alter table raw_intake.gd01_school alter column pupils type smallint")
    intake = tmp_path / "intake"
    gd = _drop(intake, "phong-gddt", "GD-01_phong-gddt_2024-HK1.xlsx")
    big = write_xlsx(intake / "phong-gddt" / "GD-01 lon.xlsx", [
        ["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"], ["Báo cáo thống kê trường học học kỳ II năm học 2023-2024"],
        ["Mã trường", "Tên trường", "Cấp học", "Xã, thị trấn", "Số học sinh"],
        ["TH09", "Trường lớn", "Tiểu học", "Bình Lâm", 40000]])
    ktxh = _drop(intake, "xa-que-luu", "KTXH-01_xa-que-luu_2024-10.csv")
    results = _ingest([big, gd, ktxh], fresh_db_url, tmp_path)
    assert [r.status for r in results] == ["rejected", "accepted", "accepted"]
    assert results[0].errors[0]["code"] == "internal_error"
    assert _count(fresh_db_url, "gd01_school") == 8
    assert (intake / "phong-gddt" / "_phan_hoi" / "GD-01 lon.xlsx.loi.txt").exists()


def test_copy_of_another_units_report_is_refused_not_a_duplicate(tmp_path: Path,
                                                                 fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    theirs = _drop(intake, "xa-hiep-thuan", "KTXH-01_xa-hiep-thuan_2024-10.xlsx")
    wrong_folder = _drop(intake, "xa-binh-lam", "KTXH-01_xa-hiep-thuan_2024-10.xlsx")
    [a] = _ingest([theirs], fresh_db_url, tmp_path)
    [b] = _ingest([wrong_folder], fresh_db_url, tmp_path)
    assert (a.status, b.status) == ("accepted", "rejected")
    assert "unit_mismatch" in [e["code"] for e in b.errors] and b.duplicate_of == a.file_id
    # bytes that name no unit at all (unit from the folder): refused as a copy
    csv_path = intake / "xa-song-tra" / "ktxh T10-2024.csv"
    csv_path.parent.mkdir(parents=True)
    rows = [["Mã chỉ tiêu", "Thực hiện tháng"], *[[c, m] for c, _, _, _, m, _ in KTXH_VALUES]]
    csv_path.write_bytes(csv_bytes(rows))
    copy = intake / "xa-phuoc-gia" / "ktxh T10-2024.csv"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(csv_path.read_bytes())
    [c] = _ingest([csv_path], fresh_db_url, tmp_path)
    [d] = _ingest([copy], fresh_db_url, tmp_path)
    assert (c.status, d.status) == ("accepted", "rejected")
    assert [e["code"] for e in d.errors] == ["same_file_other_report"]
    assert "xa-song-tra" in d.errors[0]["message"]


def test_cells_are_kept_as_written_beside_the_numbers(tmp_path: Path, fresh_db_url: str) -> None:
    """Issue 18: the raw row keeps each number cell's text as the staff wrote it ("1.234,5",
    " 12 " with its spaces) beside the number read from it; a workbook's number cell (a
    number, not text) in full with a decimal comma; in the same transaction as the rest."""
    intake = tmp_path / "intake"
    folder = intake / "xa-hiep-thuan"
    folder.mkdir(parents=True)
    values = [("KT01", *KTXH_VALUES[0][1:4], "1.234,5", None),
              ("KT02", *KTXH_VALUES[1][1:4], " 12 ", None), *KTXH_VALUES[2:]]
    typed = folder / "KTXH-01_2024-10.csv"
    typed.write_bytes(csv_bytes(ktxh_sheet(table=ktxh_table(values)), delimiter=";"))
    [result] = _ingest([typed], fresh_db_url, tmp_path)
    assert result.status == "accepted", result.errors
    book = write_xlsx(tmp_path / "intake" / "xa-que-luu" / "KTXH-01_2024-10.xlsx",
                      ktxh_sheet("UBND XÃ QUẾ LƯU"))
    [result] = _ingest([book], fresh_db_url, tmp_path)
    assert result.status == "accepted", result.errors
    with psycopg.connect(fresh_db_url) as conn:
        rows = conn.execute(
            "select m.org_unit_id, v.indicator_code, v.value, v.as_written ->> 'value', "
            "v.as_written ->> 'plan_year' from raw_intake.ktxh01_value v join "
            "raw_intake.file_manifest m using (file_id) where v.indicator_code in ('KT01', 'KT02')"
            " order by 1, 2").fetchall()
    assert rows == [
        ("xa-hiep-thuan", "KT01", Decimal("1234.5"), "1.234,5", "5200"),
        ("xa-hiep-thuan", "KT02", Decimal(12), " 12 ", "4800"),
        ("xa-que-luu", "KT01", Decimal("412.5"), "412,5", "5200"),
        ("xa-que-luu", "KT02", Decimal(388), "388", "4800"),
    ]

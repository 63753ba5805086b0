"""Hostile names and paths in the intake folders: `..`, names that look like absolute or
Windows paths, 255-byte names, look-alike Unicode folders, symbolic links.

The engine must never read outside the intake root, never file a report under a unit whose
folder it was not in, never write outside `<intake>/<unit>/_phan_hoi/` and the archive, and
tell the sender why a file was refused.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg
import pytest

from ingest.intake.engine import check_paths, ingest_paths, scan_intake
from tests.conftest import FIXTURES
from tests.faults.ledger import LEDGER
from tests.security.test_hostile_files import VIETNAMESE

EXAMPLE = FIXTURES / "examples" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"
QUE_LUU = FIXTURES / "examples" / "KTXH-01_xa-que-luu_2024-10.csv"
NOW_ISO = "2025-03-01T03:00:00+00:00"


@pytest.fixture
def intake(tmp_path: Path) -> Path:
    root = tmp_path / "intake"
    root.mkdir()
    return root


def _ingest(paths, url, tmp: Path, root: Path):
    from datetime import datetime

    return ingest_paths(paths, conninfo=url, archive_dir=tmp / "archive", intake_root=root,
                        now=datetime.fromisoformat(NOW_ISO))


def _files_outside(tmp: Path, root: Path) -> list[Path]:
    """Files written anywhere under tmp except the intake root and the archive."""
    return [p for p in tmp.rglob("*") if p.is_file()
            and root not in p.parents and (tmp / "archive") not in p.parents
            and (tmp / "outside") not in p.parents]


NAMES = [
    "..\\..\\..\\Windows\\System32\\KTXH-01_2024-10.xlsx",
    "C:\\Users\\admin\\KTXH-01_2024-10.xlsx",
    "\\\\server\\share\\KTXH-01_2024-10.xlsx",
    "KTXH-01 ..\\..\\ 2024-10.xlsx",
    "KTXH-01_2024-10..xlsx",
    "KTXH-01 %2e%2e%2f%2e%2e%2fetc%2fpasswd 2024-10.xlsx",
    "KTXH-01\u202egpj.xlsx",  # right-to-left override
    ("Báo cáo KTXH-01 tháng 10 năm 2024 " * 10)[:80] + ".xlsx",  # 255 bytes of UTF-8 or so
]


def _long_name() -> str:
    stem = "KTXH-01_xa-hiep-thuan_2024-10_"
    name = stem + "ư" * ((255 - len(stem) - 5) // 2) + ".xlsx"
    assert 250 <= len(name.encode()) <= 255
    return name


def test_odd_names_stay_names(intake: Path, tmp_path: Path, fresh_db_url: str) -> None:
    """Backslashes, dots, percent escapes, RTL overrides and 255-byte names are just names:
    the file is judged where it is, its answer lands in its unit's `_phan_hoi/`, nothing is
    written anywhere else."""
    unit = intake / "xa-hiep-thuan"
    unit.mkdir()
    names = [*NAMES, _long_name()]
    for i, name in enumerate(names):
        data = bytearray(EXAMPLE.read_bytes())
        # distinct bytes per file (a zip comment), so none is a duplicate of another
        data[-2:] = len(f"{i}").to_bytes(2, "little")
        (unit / name).write_bytes(bytes(data) + f"{i}".encode())
    results = _ingest([intake], fresh_db_url, tmp_path, intake)
    LEDGER.hostile("odd file names (backslashes, dots, %2e, RTL override, 255 bytes)",
                   len(names))
    # a name starting with "." is a hidden file to the engine (documented): ignored, unread
    assert sorted(Path(r.file).name for r in results) == sorted(
        n for n in names if not n.startswith("."))
    for r in results:
        assert Path(r.file).parent == unit
        assert r.status == "accepted", (r.file, r.errors)
        assert r.org_unit_id == "xa-hiep-thuan"
        answer = Path(r.feedback_path)
        assert answer.parent == unit / "_phan_hoi" and answer.exists()
        assert len(answer.name.encode()) <= 255
    assert _files_outside(tmp_path, intake) == []
    assert list((tmp_path / "archive").rglob("*.xlsx"))
    for p in (tmp_path / "archive").rglob("*"):  # archive names are hashes, never the name
        assert "\\" not in p.name and ".." not in p.name


def test_dot_dot_in_a_given_path_is_resolved_to_the_real_folder(intake: Path) -> None:
    """`intake/xa-hiep-thuan/../xa-que-luu/f.csv` is Quế Lưu's file: it must be judged with
    Quế Lưu's folder, not filed under Hiệp Thuận."""
    (intake / "xa-hiep-thuan").mkdir()
    (intake / "xa-que-luu").mkdir()
    target = intake / "xa-que-luu" / QUE_LUU.name
    shutil.copyfile(QUE_LUU, target)
    sneaky = intake / "xa-hiep-thuan" / ".." / "xa-que-luu" / QUE_LUU.name
    [r] = check_paths([sneaky], intake_root=intake)
    LEDGER.hostile("'..' inside a given path")
    assert r.file == str(target)
    assert (r.status, r.org_unit_id) == ("accepted", "xa-que-luu"), r.errors


def test_a_path_escaping_the_intake_root_is_judged_where_it_really_is(intake: Path,
                                                                     tmp_path: Path) -> None:
    """`intake/../elsewhere/xa-hiep-thuan/f.csv` holding Quế Lưu's report: judged at its real
    place, where folder and content disagree — refused, not filed under either unit."""
    outside = tmp_path / "elsewhere" / "xa-hiep-thuan"
    outside.mkdir(parents=True)
    shutil.copyfile(QUE_LUU, outside / QUE_LUU.name)
    escape = intake / ".." / "elsewhere" / "xa-hiep-thuan" / QUE_LUU.name
    [r] = check_paths([escape], intake_root=intake)
    LEDGER.hostile("path escaping the intake root with '..'")
    assert r.file == str(outside / QUE_LUU.name)
    assert r.status == "rejected" and "unit_mismatch" in [e["code"] for e in r.errors]


LOOK_ALIKES = {
    "xа-hiep-thuan": "CYRILLIC SMALL LETTER A",
    "xa-hiеp-thuan": "CYRILLIC SMALL LETTER IE",
    "xa-hiep-thuаn": "CYRILLIC SMALL LETTER A",
    "xa-hiep-thuan\u200b": "ZERO WIDTH SPACE",
    "xa-hiep-thuan ": "SPACE",
    "ха-hiep-thuan": "CYRILLIC SMALL LETTER HA",
    "xa‐hiep‐thuan": "HYPHEN",
    "ｘａ-hiep-thuan": "FULLWIDTH LATIN SMALL LETTER X",
}


@pytest.mark.parametrize("folder", list(LOOK_ALIKES))
def test_look_alike_unit_folder_is_refused_and_named(folder: str, intake: Path, tmp_path: Path,
                                                      fresh_db_url: str) -> None:
    """A folder that only looks like a unit's must not file a report under that unit."""
    (intake / folder).mkdir()
    path = intake / folder / "bao-cao-thang-10.xlsx"
    shutil.copyfile(EXAMPLE, path)  # its content names UBND XÃ HIỆP THUẬN
    [r] = _ingest([intake], fresh_db_url, tmp_path, intake)
    LEDGER.hostile(f"look-alike unit folder ({LOOK_ALIKES[folder]})")
    assert r.status == "rejected"
    [problem] = [e for e in r.errors if e["code"] == "unknown_folder"]
    assert LOOK_ALIKES[folder] in problem["message"]
    assert "xa-hiep-thuan" in problem["hint"]
    answer = (intake / folder / "_phan_hoi" / f"{path.name}.loi.txt").read_text("utf-8-sig")
    assert problem["message"] in answer and set(answer) & VIETNAMESE
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select count(*) from raw_intake.ktxh01_value").fetchone()[0] == 0


# --- symbolic links -----------------------------------------------------------------------------

@pytest.fixture
def linked(intake: Path, tmp_path: Path) -> dict[str, Path]:
    """Links in Hiệp Thuận's folder: to a valid report outside the intake root, to
    /etc/passwd, to another unit's report inside the root, and a linked folder."""
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copyfile(EXAMPLE, outside / "KTXH-01_xa-hiep-thuan_2024-10.xlsx")
    (outside / "secret.csv").write_text("Mã chỉ tiêu;Thực hiện tháng\nKT01;bí-mật-42\n")
    unit = intake / "xa-hiep-thuan"
    other = intake / "xa-que-luu"
    unit.mkdir()
    other.mkdir()
    shutil.copyfile(QUE_LUU, other / "KTXH-01_xa-que-luu_2024-10.csv")
    links = {
        "outside_report": unit / "KTXH-01_xa-hiep-thuan_2024-10.xlsx",
        "passwd": unit / "KTXH-01_2024-10.csv",
        "secret": unit / "YT-01_xa-hiep-thuan_2024-10.csv",
        "other_unit": unit / "ban-sao-que-luu.csv",
    }
    os.symlink(outside / "KTXH-01_xa-hiep-thuan_2024-10.xlsx", links["outside_report"])
    os.symlink("/etc/passwd", links["passwd"])
    os.symlink(outside / "secret.csv", links["secret"])
    os.symlink(other / "KTXH-01_xa-que-luu_2024-10.csv", links["other_unit"])
    os.symlink(outside, unit / "thu-muc-lien-ket")
    return links


def test_symbolic_links_are_refused_never_followed(intake: Path, linked, tmp_path: Path,
                                                   fresh_db_url: str) -> None:
    results = {r.file: r for r in _ingest([intake], fresh_db_url, tmp_path, intake)}
    LEDGER.hostile("symbolic links in a unit folder (file, /etc/passwd, other unit, folder)",
                   len(linked) + 1)
    # the real file of Quế Lưu is accepted; every link is refused and told why
    assert results[str(intake / "xa-que-luu" / "KTXH-01_xa-que-luu_2024-10.csv")].status == \
        "accepted"
    for link in linked.values():
        r = results[str(link)]
        assert r.status == "rejected" and [e["code"] for e in r.errors] == ["symlink"]
        answer = (link.parent / "_phan_hoi" / f"{link.name}.loi.txt").read_text("utf-8-sig")
        assert "liên kết" in answer
        assert "root:" not in answer and "bí-mật-42" not in answer
    # nothing from behind a link was read into the warehouse or copied into the archive
    assert not any("thu-muc-lien-ket" in f for f in results)
    archived = {p.read_bytes() for p in (tmp_path / "archive").rglob("*") if p.is_file()}
    assert Path("/etc/passwd").read_bytes() not in archived
    assert EXAMPLE.read_bytes() not in archived
    with psycopg.connect(fresh_db_url) as conn:
        rows = conn.execute("select status, archive_path, size_bytes from raw_intake.file_manifest "
                            "where original_path = any(%s)",
                            ([str(p) for p in linked.values()],)).fetchall()
        assert rows == [("rejected", "", 0)] * len(linked)
        # only the real file of Quế Lưu loaded rows
        assert conn.execute("select count(distinct file_id), count(*) "
                            "from raw_intake.ktxh01_value").fetchone() == (1, 17)
    # the next look knows the links: nothing waits, nothing is refused twice
    assert scan_intake(intake, conninfo=fresh_db_url, settle_seconds=0) == []


def test_answers_never_follow_links(intake: Path, tmp_path: Path, fresh_db_url: str) -> None:
    """The answer writer opens every folder below the intake root without following links:
    a `_phan_hoi` that is a link is not written through (the report is still loaded); a link
    planted under the answer's own name, or under the old temporary name, is replaced in the
    unit's folder and its target is untouched."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("do not touch\n")

    # 1. `_phan_hoi` itself is a link to a folder outside
    unit = intake / "xa-hiep-thuan"
    unit.mkdir()
    shutil.copy2(EXAMPLE, unit / EXAMPLE.name)
    (unit / "_phan_hoi").symlink_to(outside, target_is_directory=True)
    [result] = _ingest([unit / EXAMPLE.name], fresh_db_url, tmp_path, intake)
    LEDGER.hostile("`_phan_hoi` is a link to a folder outside the intake")
    assert result.status == "accepted" and result.feedback_path is None
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]

    # 2. links planted at the answer's name and at the old temporary name
    other = intake / "xa-que-luu"
    (other / "_phan_hoi").mkdir(parents=True)
    shutil.copy2(QUE_LUU, other / QUE_LUU.name)
    answer = other / "_phan_hoi" / f"{QUE_LUU.name}.da-nhan.txt"
    answer.symlink_to(victim)
    (other / "_phan_hoi" / f".{answer.name}.tmp").symlink_to(outside / "planted.txt")
    [result] = _ingest([other / QUE_LUU.name], fresh_db_url, tmp_path, intake)
    LEDGER.hostile("links planted at an answer's name and temporary name")
    assert result.status == "accepted"
    assert not answer.is_symlink() and "ĐÃ TIẾP NHẬN" in answer.read_text(encoding="utf-8-sig")
    assert victim.read_text() == "do not touch\n"
    assert not (outside / "planted.txt").exists()

"""The upload page's side of the intake folder (upload/folder.py), without a server: names
made plain, files put in atomically and never over another, one history per unit, the
arrival moment handed to the watcher, answers read without following links."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import pytest

from ingest.intake.watch import bulk_arrivals, look
from ioc.settings import LOCAL_TZ
from upload import folder
from upload.accounts import access_for, merged_into


@pytest.mark.parametrize(("raw", "expected"), [
    ("Báo cáo tháng 10.xlsx", "Báo cáo tháng 10.xlsx"),
    ("C:\\Users\\Lan\\Desktop\\KTXH-01 T10.XLSX", "KTXH-01 T10.xlsx"),
    ("../../xa-viet-an/KTXH-01.xlsx", "KTXH-01.xlsx"),
    ("..\\..\\..\\etc\\passwd.csv", "passwd.csv"),
    (".an.xlsx", "an.xlsx"),
    ("~$khoa.xlsx", "_$khoa.xlsx"),
    ("=HYPERLINK(1).csv", "_HYPERLINK(1).csv"),
    ("-cmd.csv", "_cmd.csv"),
    ("bao\u202ecao\u200b.xlsx", "baocao.xlsx"),  # right-to-left override, zero-width space
    ("a<b>c:d|e?f*g\".xlsx", "a_b_c_d_e_f_g_.xlsx"),
    ("  tên   có  khoảng trắng  .xlsx", "tên có khoảng trắng.xlsx"),
    ("CON.xlsx", "_CON.xlsx"),
    (".xlsx", "bao-cao.xlsx"),
    ("Ba\u0301o ca\u0301o.xlsx", "Báo cáo.xlsx"),  # NFD from a Vietnamese keyboard
])
def test_names_are_made_plain(raw: str, expected: str) -> None:
    assert folder.safe_name(raw) == expected


def test_long_names_are_cut_and_other_types_refused() -> None:
    name = folder.safe_name("Báo cáo " * 60 + ".xlsx")
    assert name.endswith(".xlsx") and len(name.encode()) <= folder.MAX_NAME_BYTES + 5
    for bad in ("report.pdf", "virus.exe", "bao-cao", "bao-cao.xlsx.exe", "x.xlsx.part",
                "x.tmp", ""):
        with pytest.raises(folder.NameRefused):
            folder.safe_name(bad)


def test_delivered_files_never_replace_and_keep_one_history(tmp_path: Path) -> None:
    root = tmp_path / "intake"
    at = datetime(2026, 12, 5, 23, 59, 59, tzinfo=LOCAL_TZ)
    one = folder.deliver(root, "xa-hiep-duc", "KTXH-01.xlsx", b"mot", user="lan", now=at)
    two = folder.deliver(root, "xa-hiep-duc", "KTXH-01.xlsx", b"hai", user="minh", now=at)
    assert (one.name, two.name) == ("KTXH-01.xlsx", "KTXH-01 (2).xlsx")
    assert one.path.read_bytes() == b"mot" and two.path.read_bytes() == b"hai"
    # an answer to a file of that name that is no longer there also takes the name
    (root / "xa-hiep-duc" / "_phan_hoi").mkdir()
    (root / "xa-hiep-duc" / "_phan_hoi" / "YT-01.xlsx.loi.txt").write_text("cũ")
    three = folder.deliver(root, "xa-hiep-duc", "YT-01.xlsx", b"ba", user="lan", now=at)
    assert three.name == "YT-01 (2).xlsx"
    # nothing else in the unit's folder but the reports, the answers and the hidden ledger
    assert sorted(p.name for p in (root / "xa-hiep-duc").iterdir()) == [
        ".nop-bao-cao.jsonl", "KTXH-01 (2).xlsx", "KTXH-01.xlsx", "YT-01 (2).xlsx", "_phan_hoi"]
    assert folder.senders(root, "xa-hiep-duc") == {
        "KTXH-01.xlsx": "lan", "KTXH-01 (2).xlsx": "minh", "YT-01 (2).xlsx": "lan"}
    # the watcher sees the reports only, and takes the upload's moment as their arrival
    seen = {Path(p).name for p in look(root)}
    assert seen == {"KTXH-01.xlsx", "KTXH-01 (2).xlsx", "YT-01 (2).xlsx"}
    arrivals = bulk_arrivals(root)
    assert arrivals[str(one.path.absolute())] == at
    history = folder.history(root, "xa-hiep-duc")
    assert [(e.rel, e.sender) for e in history][-1][1] == "lan"
    assert {e.rel for e in history} == seen


def test_concurrent_uploads_of_one_name_all_land(tmp_path: Path) -> None:
    root = tmp_path / "intake"
    names: list[str] = []

    def send(i: int) -> None:
        names.append(folder.deliver(root, "xa-viet-an", "HCC-06.xlsx", b"%d" % i,
                                    user=f"u{i}").name)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(names) == sorted(["HCC-06.xlsx", *(f"HCC-06 ({n}).xlsx" for n in range(2, 9))])
    assert len({(root / "xa-viet-an" / n).read_bytes() for n in names}) == 8
    assert not [p for p in (root / "xa-viet-an").iterdir() if p.name.endswith(".part")]


def test_answers_are_read_without_following_links(tmp_path: Path) -> None:
    root = tmp_path / "intake"
    unit = root / "xa-hiep-duc"
    secret = tmp_path / "secret.txt"
    secret.write_text("KẾT QUẢ: bí mật của máy chủ")
    delivered = folder.deliver(root, "xa-hiep-duc", "a.xlsx", b"x", user="lan")
    answers = unit / "_phan_hoi"
    answers.mkdir()
    os.symlink(secret, answers / "a.xlsx.da-nhan.txt")
    entry = folder.entry(root, "xa-hiep-duc", delivered.name)
    assert entry is not None and entry.answer is None
    # a linked answers folder is not entered either
    os.unlink(answers / "a.xlsx.da-nhan.txt")
    answers.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.xlsx.da-nhan.txt").write_text("KẾT QUẢ: từ nơi khác")
    os.symlink(elsewhere, answers)
    assert folder.entry(root, "xa-hiep-duc", "a.xlsx").answer is None
    # a linked report is not a file of the unit; paths that leave the folder are no paths
    os.symlink(secret, unit / "b.xlsx")
    assert folder.entry(root, "xa-hiep-duc", "b.xlsx") is None
    assert "b.xlsx" not in {e.rel for e in folder.history(root, "xa-hiep-duc")}
    for rel in ("../xa-viet-an/a.xlsx", "/etc/passwd", ".nop-bao-cao.jsonl", "_phan_hoi/x",
                "a.xlsx/..", ""):
        assert folder.entry(root, "xa-hiep-duc", rel) is None, rel


def test_an_answer_older_than_its_file_is_not_its_answer(tmp_path: Path) -> None:
    root = tmp_path / "intake"
    answers = root / "xa-hiep-duc" / "_phan_hoi"
    answers.mkdir(parents=True)
    old = answers / "c.xlsx.loi.txt"
    old.write_text("KẾT QUẢ: TỆP BỊ TỪ CHỐI.")
    os.utime(old, (1_600_000_000, 1_600_000_000))
    (root / "xa-hiep-duc" / "c.xlsx").write_bytes(b"moi")  # replaced in the shared folder
    assert folder.entry(root, "xa-hiep-duc", "c.xlsx").answer is None
    old.write_text("KẾT QUẢ: TỆP BỊ TỪ CHỐI. Số liệu …")
    answer = folder.entry(root, "xa-hiep-duc", "c.xlsx").answer
    assert answer.status == "refused" and answer.summary.startswith("TỆP BỊ TỪ CHỐI")


def test_roles_act_for_their_commune_and_the_units_merged_into_it() -> None:
    assert access_for(["Xã Hiệp Thuận"]).units == ("xa-hiep-thuan",)
    assert access_for(["Xã Quế Tân", "Gamma"]).units == ("xa-que-tan", "xa-hiep-hoa",
                                                          "xa-hiep-thuan")
    hiep_duc = access_for(["Xã Hiệp Đức"]).units
    assert hiep_duc[0] == "xa-hiep-duc" and set(hiep_duc) == {
        "xa-hiep-duc", "tt-tan-binh", "xa-que-tan", "xa-que-luu", "xa-hiep-hoa",
        "xa-hiep-thuan", "tt-tan-an", "xa-que-binh"}
    assert access_for(["Xã Phước Trà (từ 01/07/2025)"]).units[0] == "xa-phuoc-tra-2025"
    assert access_for(["Xã Phước Trà (đến 30/06/2025)"]).units == ("xa-phuoc-tra",)
    assert "xa-viet-an" not in merged_into("xa-hiep-duc")
    for roles in (["Lãnh đạo huyện"], ["Nhóm dữ liệu"], ["Admin"], [], ["Xã Hiệp Thuận",
                                                                      "Xã Sông Trà"]):
        access = access_for(roles)
        assert access.units == () and access.reason, roles

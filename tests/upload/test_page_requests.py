"""The upload page refuses everything it must, however the request is made: straight HTTP
requests (no browser) against the page as `make up` runs it. After each refused request the
intake folders hold exactly what they held before."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx
import pytest

from ingest.template import build
from tests.upload.conftest import MAX_FILES_PER_HOUR, PASSWORD, USERS, UploadStack, Visitor

pytestmark = pytest.mark.superset

KTXH = build("KTXH-01", "xa-hiep-duc", "2025-08").data  # a blank report: refused, but a report


def _unchanged(stack: UploadStack, before: dict[str, bytes]) -> None:
    """Nothing written by the page since `before` (the watcher may still be answering the
    files of an earlier test: answers are left out)."""
    time.sleep(0.2)
    assert stack.tree(answers=False) == before


def test_without_login_nothing_is_shown_or_taken(upload_stack: UploadStack,
                                                 visitor: Visitor) -> None:
    before = upload_stack.tree(answers=False)
    for path in ("/", "/don-vi/xa-hiep-duc", "/don-vi/xa-hiep-duc/bieu-mau/KTXH-01",
                 "/don-vi/xa-hiep-duc/tep/x.xlsx"):
        resp = visitor.http.get(path)
        assert resp.status_code == 303 and resp.headers["location"].startswith("/dang-nhap"), path
    resp = visitor.upload("xa-hiep-duc", "KTXH-01.xlsx", KTXH, csrf="doan-bua")
    assert resp.status_code == 403
    _unchanged(upload_stack, before)


def test_login_is_checked_against_superset_and_throttled(upload_stack: UploadStack) -> None:
    v = Visitor(upload_stack.url)
    try:
        resp = v.login("can-bo-phuoc-tra", "sai-mat-khau")
        assert resp.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in resp.text
        # a login form posted from elsewhere (no token cookie of ours) is refused outright
        other = httpx.post(f"{upload_stack.url}/dang-nhap", data={
            "csrf": "x", "username": "can-bo-phuoc-tra", "password": PASSWORD})
        assert other.status_code == 403
        for _ in range(4):
            v.login("can-bo-phuoc-tra", "sai-mat-khau")
        resp = v.login("can-bo-phuoc-tra", PASSWORD)  # right password, but too many tries
        assert resp.status_code == 429 and "thử lại sau" in resp.text
    finally:
        v.close()


def test_roles_without_a_commune_act_for_no_unit(upload_stack: UploadStack) -> None:
    before = upload_stack.tree(answers=False)
    for username in ("lanh-dao", "hai-xa"):
        v = Visitor(upload_stack.url)
        try:
            assert v.login(username).status_code == 303
            home = v.http.get("/")
            assert home.status_code == 403 and "nộp báo cáo" in home.text.lower()
            assert v.http.get("/don-vi/xa-hiep-duc").status_code == 403
            csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)[1]
            assert v.upload("xa-hiep-duc", "a.xlsx", KTXH, csrf).status_code == 403
        finally:
            v.close()
    _unchanged(upload_stack, before)


def test_a_commune_cannot_act_for_another_even_with_forged_requests(
        upload_stack: UploadStack, visitor: Visitor) -> None:
    assert visitor.login("can-bo-hiep-duc").status_code == 303
    csrf = visitor.csrf("xa-hiep-duc")
    before = upload_stack.tree(answers=False)
    # another commune's page, template, answers; its upload with a valid token of ours
    assert visitor.http.get("/don-vi/xa-viet-an").status_code == 403
    assert visitor.http.get("/don-vi/xa-viet-an/bieu-mau/KTXH-01").status_code == 403
    assert visitor.http.get("/don-vi/xa-viet-an/tep/a.xlsx").status_code == 403
    resp = visitor.upload("xa-viet-an", "KTXH-01.xlsx", KTXH, csrf)
    assert resp.status_code == 403 and "không nộp báo cáo cho đơn vị này" in resp.text
    # a successor's folder is not a predecessor's to write in, nor an unknown folder
    for unit in ("xa-phuoc-tra-2025", "khu-vuc-hiep-duc", "..", "xa-hiep-duc%2F..%2Fxa-viet-an",
                 "..%2Fxa-viet-an", "xa-hiep-duc/../xa-viet-an", "%2e%2e"):
        resp = visitor.http.post(f"/don-vi/{unit}/nop", data={"csrf": csrf},
                                 files={"file": ("a.xlsx", KTXH)})
        assert resp.status_code in (403, 404, 405), (unit, resp.status_code)
    # our own unit, without the token, with a wrong one, from another site
    assert visitor.upload("xa-hiep-duc", "a.xlsx", KTXH, None).status_code == 403
    assert visitor.upload("xa-hiep-duc", "a.xlsx", KTXH, csrf[:-2] + "xx").status_code == 403
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Referer": "http://evil.example/form.html"}):
        resp = visitor.upload("xa-hiep-duc", "a.xlsx", KTXH, csrf, headers=headers)
        assert resp.status_code == 403, headers
    # another person's session token is not a token of this session
    other = Visitor(upload_stack.url)
    try:
        other.login("can-bo-hiep-duc-2")
        assert other.upload("xa-hiep-duc", "a.xlsx", KTXH, csrf).status_code == 403
    finally:
        other.close()
    _unchanged(upload_stack, before)
    log = upload_stack.page_log()
    assert "refused: can-bo-hiep-duc asked for unit 'xa-viet-an'" in log


def test_files_of_other_types_or_too_large_are_not_stored(upload_stack: UploadStack,
                                                         visitor: Visitor) -> None:
    visitor.login("can-bo-viet-an")
    csrf = visitor.csrf("xa-viet-an")
    before = upload_stack.tree(answers=False)
    for name in ("bao-cao.pdf", "virus.exe", "bao-cao", "KTXH-01.xlsx.part"):
        resp = visitor.upload("xa-viet-an", name, KTXH, csrf)
        assert resp.status_code == 415 and "Chỉ nhận tệp Excel" in resp.text, name
    resp = visitor.upload("xa-viet-an", "rong.xlsx", b"", csrf)
    assert resp.status_code == 400 and "Tệp rỗng" in resp.text
    big = os.urandom(2 * 1024 * 1024 + 10)  # IOC_UPLOAD_MAX_MB=2 in this stack
    resp = visitor.upload("xa-viet-an", "lon.xlsx", big, csrf)
    assert resp.status_code == 413 and "2 MB" in resp.text
    # two files in one request
    resp = visitor.http.post("/don-vi/xa-viet-an/nop", data={"csrf": csrf}, files=[
        ("file", ("a.xlsx", KTXH)), ("file", ("b.xlsx", KTXH))])
    assert resp.status_code == 400
    # a body that never says how long it is, streamed past the limit
    def chunks():
        yield (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.xlsx\"\r\n\r\n")
        for _ in range(40):
            yield b"\0" * (128 * 1024)
    resp = visitor.http.post("/don-vi/xa-viet-an/nop", content=chunks(),
                             headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert resp.status_code == 413
    _unchanged(upload_stack, before)


def test_one_person_sends_at_most_the_hourly_quota(upload_stack: UploadStack,
                                                   visitor: Visitor) -> None:
    assert visitor.login("can-bo-song-tra").status_code == 303
    csrf = visitor.csrf("xa-song-tra")
    for i in range(MAX_FILES_PER_HOUR):  # IOC_UPLOAD_MAX_FILES_PER_HOUR in this stack
        resp = visitor.upload("xa-song-tra", f"KTXH-01 lan {i}.xlsx", KTXH, csrf)
        assert resp.status_code == 303, (i, resp.text[:300])
    before = upload_stack.tree(answers=False)
    resp = visitor.upload("xa-song-tra", "KTXH-01 nua.xlsx", KTXH, csrf)
    assert resp.status_code == 429 and "trong một giờ qua" in resp.text
    _unchanged(upload_stack, before)
    # the page and the files already sent stay open; each file sent got the intake's answer
    assert visitor.http.get("/don-vi/xa-song-tra").status_code == 200
    for i in range(MAX_FILES_PER_HOUR):
        assert "KẾT QUẢ:" in upload_stack.answer_text("xa-song-tra", f"KTXH-01 lan {i}.xlsx")


def test_odd_names_land_as_plain_names_in_the_units_folder(upload_stack: UploadStack,
                                                          visitor: Visitor) -> None:
    visitor.login("can-bo-viet-an")
    csrf = visitor.csrf("xa-viet-an")
    outside = {p for p in upload_stack.tree() if not p.startswith("xa-viet-an/")}
    sent = {"../../xa-hiep-duc/KTXH-01.xlsx": "KTXH-01.xlsx",
            "..\\..\\_arrivals.csv": "_arrivals.csv",
            ".an.xlsx": "an.xlsx",
            "=HYPERLINK(1).xlsx": "_HYPERLINK(1).xlsx",
            "bao\u202ecao.xlsx": "baocao.xlsx"}
    for raw, plain in sent.items():
        resp = visitor.upload("xa-viet-an", raw, KTXH, csrf)
        assert resp.status_code == 303, (raw, resp.text[:300])
        landed = resp.headers["location"].split("/tep/")[1].split("?")[0]
        assert httpx.URL("/" + landed).path.lstrip("/").startswith(plain.rsplit(".", 1)[0])
        assert (upload_stack.intake / "xa-viet-an" / httpx.URL("/" + landed).path[1:]).is_file()
    after = {p for p in upload_stack.tree() if not p.startswith("xa-viet-an/")
             and p != "_arrivals.csv"}
    assert after == outside - {"_arrivals.csv"}


def test_a_role_taken_away_in_superset_stops_the_next_upload(upload_stack: UploadStack,
                                                            visitor: Visitor) -> None:
    from ioc_superset import users

    assert visitor.login("can-bo-que-tan").status_code == 303
    csrf = visitor.csrf("xa-que-tan")
    # Quế Tân acts for the communes merged into it, not for the one it became
    assert visitor.http.get("/don-vi/xa-hiep-thuan").status_code == 200
    assert visitor.http.get("/don-vi/xa-hiep-duc").status_code == 403
    before = upload_stack.tree(answers=False)
    with upload_stack.superset.client() as admin:
        users.ensure_user(admin, "can-bo-que-tan", ["Xã Việt An"], password=PASSWORD)
    try:
        resp = visitor.upload("xa-que-tan", "KTXH-01.xlsx", KTXH, csrf)
        assert resp.status_code == 403
        _unchanged(upload_stack, before)
    finally:
        with upload_stack.superset.client() as admin:
            users.ensure_user(admin, "can-bo-que-tan", USERS["can-bo-que-tan"],
                              password=PASSWORD)


def test_headers_and_the_pages_own_environment(upload_stack: UploadStack,
                                               visitor: Visitor) -> None:
    visitor.login("can-bo-viet-an")
    page = visitor.http.get("/don-vi/xa-viet-an")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    cookie = next(h for h in visitor.http.cookies.jar if h.name == "nop_bao_cao")
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()
    # the page process holds no database account, key or password
    from ioc.processes import running_pid
    from upload.service import NAME

    pid = running_pid(upload_stack.settings, NAME)
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode()
    env = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
    for name in env:
        assert not re.search(r"PASSWORD|ROLE_KEY|TOKEN|WAREHOUSE_URL|PG_PORT|SECRET|DBT_",
                             name), name
    assert env["IOC_INTAKE_DIR"] == str(upload_stack.intake)


def test_the_demo_world_has_a_commune_account_for_the_page(upload_stack: UploadStack,
                                                           visitor: Visitor) -> None:
    """`make demo` / `make up` with the demo world make a demo commune account (printed with
    the URLs), the same each time; without the demo world, none."""
    import json

    from demo.accounts import PASSWORD_FILE, ensure_demo_account
    from demo.service import demo_dir

    settings = upload_stack.settings
    meta = demo_dir(settings) / "meta.json"
    made = not meta.exists()
    if made:
        assert ensure_demo_account(settings) is None  # no demo world: no demo account
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({"today": "2025-09-10"}), encoding="utf-8")
    try:
        account = ensure_demo_account(settings)
        again = ensure_demo_account(settings)
    finally:
        if made:
            meta.unlink()
    assert account is not None and account == again
    assert account.unit_id == "xa-hiep-duc" and account.role == "Xã Hiệp Đức"
    secret = settings.secret_file(PASSWORD_FILE)
    assert secret.read_text().strip() == account.password and secret.stat().st_mode & 0o077 == 0
    assert visitor.login(account.username, account.password).status_code == 303
    assert visitor.http.get("/").headers["location"] == "/don-vi/xa-hiep-duc"


def test_only_the_data_team_downloads_an_archived_original(upload_stack: UploadStack) -> None:
    """The report rows behind a figure link to the original in the archive (issue 18): the
    data team gets the bytes under the name it was sent with; leaders and communes get a
    refusal, a visitor the login page; names that are not archive names are not looked up."""
    import hashlib

    from ingest.intake.archive import archive_bytes

    data = b"ban goc cua mot bao cao"
    digest = hashlib.sha256(data).hexdigest()
    archive_bytes(data, digest, ".xlsx", upload_stack.archive)
    path = f"/tep-goc/{digest}.xlsx?ten=KTXH-01%20th%C3%A1ng%208.xlsx"
    stranger = httpx.get(upload_stack.url + path, follow_redirects=False)
    assert stranger.status_code == 303 and "/dang-nhap" in stranger.headers["location"]
    for username in ("lanh-dao", "can-bo-hiep-duc"):
        v = Visitor(upload_stack.url)
        try:
            assert v.login(username).status_code == 303
            resp = v.http.get(path)
            assert resp.status_code == 403 and "nhóm dữ liệu" in resp.text, username
            assert data not in resp.content
        finally:
            v.close()
    v = Visitor(upload_stack.url)
    try:
        assert v.login("nhom-du-lieu").status_code == 303
        resp = v.http.get(path)
        assert resp.status_code == 200 and resp.content == data
        assert "filename*=UTF-8''KTXH-01%20th%C3%A1ng%208.xlsx" in resp.headers[
            "content-disposition"]
        for bad in ("../../etc/passwd", digest, f"{digest}.xlsx.." , "A" * 64 + ".xlsx",
                    hashlib.sha256(b"khong co").hexdigest() + ".xlsx"):
            assert v.http.get(f"/tep-goc/{bad}").status_code == 404, bad
    finally:
        v.close()
    assert "original: nhom-du-lieu took" in upload_stack.page_log()

"""The upload page as `make up` runs it, against the session's real stack: the warehouse with
the short demo world's marts (`mart_world`), the bootstrapped Superset (`superset_server`),
the intake watcher (`ioc watch`, its own process) on a fresh intake root, and the page started
by its service hook (`upload.service`, through `ioc.childenv`).

Users are Superset users made here: two people of Xã Hiệp Đức (one history), one of Xã Việt
An, one of Xã Quế Tân (formed by a merger), a leader, and one with the roles of two communes.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ioc.settings import PROJECT_ROOT, Settings
from ioc_superset import users
from tests.support.net import free_port
from tests.support.superset_server import SupersetServer
from upload import service

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "upload"
PASSWORD = "mat-khau-kiem-thu-1"  # test users only
USERS = {
    "can-bo-hiep-duc": ["Xã Hiệp Đức"],
    "can-bo-hiep-duc-2": ["Xã Hiệp Đức"],
    "can-bo-viet-an": ["Xã Việt An"],
    "can-bo-que-tan": ["Xã Quế Tân"],
    "lanh-dao": ["Lãnh đạo huyện"],
    "hai-xa": ["Xã Hiệp Đức", "Xã Việt An"],
    "can-bo-phuoc-tra": ["Xã Phước Trà (từ 01/07/2025)"],  # the login throttling test's
    "can-bo-song-tra": ["Xã Sông Trà"],  # the upload quota test's
    "nhom-du-lieu": ["Nhóm dữ liệu"],  # downloads archived originals (issue 18)
}
MAX_FILES_PER_HOUR = 6


@dataclass
class UploadStack:
    url: str
    intake: Path
    archive: Path
    settings: Settings
    superset: SupersetServer
    watcher_log: Path

    def page_log(self) -> str:
        return (self.settings.home / "logs" / f"{service.NAME}.log").read_text(errors="replace")

    def tree(self, answers: bool = True) -> dict[str, bytes]:
        """Every file under the intake root (ledgers and the arrivals sidecar included; the
        intake's answers unless `answers` is false), with its bytes."""
        return {str(p.relative_to(self.intake)): p.read_bytes()
                for p in sorted(self.intake.rglob("*")) if p.is_file() and not p.is_symlink()
                and (answers or "_phan_hoi" not in p.parts)}

    def answer_text(self, unit: str, name: str, timeout_s: float = 60) -> str:
        """The answer the intake wrote into the unit's `_phan_hoi/` for `name`."""
        deadline = time.monotonic() + timeout_s
        folder = self.intake / unit / "_phan_hoi"
        while True:
            found = [p for p in (folder.glob(f"{name}.*.txt") if folder.exists() else [])]
            if found:
                return found[0].read_text(encoding="utf-8-sig").replace("\r\n", "\n")
            assert time.monotonic() < deadline, f"no answer for {unit}/{name}"
            time.sleep(0.5)


@pytest.fixture(scope="session")
def upload_stack(warehouse_settings, mart_world, superset_server: SupersetServer
                 ) -> Iterator[UploadStack]:
    root = Path(tempfile.mkdtemp(prefix="ioc-upload-"))  # outside pytest's 0700 basetemp
    intake, archive = root / "intake", root / "archive"
    intake.mkdir()
    settings = dataclasses.replace(superset_server.settings, intake_dir=intake,
                                   archive_dir=archive)
    with superset_server.client() as admin:
        for name, roles in USERS.items():
            users.ensure_user(admin, name, roles, password=PASSWORD)
    watcher_log = root / "watcher.log"
    env = {**os.environ, "IOC_INTAKE_DIR": str(intake), "IOC_ARCHIVE_DIR": str(archive)}
    env.pop("DAGSTER_HOME", None)
    with open(watcher_log, "ab") as log:
        watcher = subprocess.Popen([str(PROJECT_ROOT / ".venv" / "bin" / "ioc"), "watch"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, cwd=PROJECT_ROOT)
    saved = {k: os.environ.get(k) for k in ("IOC_UPLOAD_PORT", "IOC_UPLOAD_MAX_MB",
                                            "IOC_UPLOAD_MAX_FILES_PER_HOUR")}
    os.environ["IOC_UPLOAD_PORT"] = str(free_port())
    os.environ["IOC_UPLOAD_MAX_MB"] = "2"
    os.environ["IOC_UPLOAD_MAX_FILES_PER_HOUR"] = str(MAX_FILES_PER_HOUR)
    try:
        urls = service.service_up(settings)
        yield UploadStack(urls["nộp báo cáo"], intake, archive, settings, superset_server,
                          watcher_log)
    finally:
        service.service_down(settings)
        watcher.terminate()
        try:
            watcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watcher.kill()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(root, ignore_errors=True)


class Visitor:
    """A browser-less visitor of the page (httpx, cookies kept): what a forged request can do."""

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url, timeout=60, follow_redirects=False)

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        self.http.get("/dang-nhap")
        token = self.http.cookies.get("nop_bao_cao_dn")
        return self.http.post("/dang-nhap", data={
            "csrf": token, "username": username, "password": password, "next": ""})

    def csrf(self, unit: str) -> str:
        import re

        page = self.http.get(f"/don-vi/{unit}")
        assert page.status_code == 200, page.status_code
        return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]

    def upload(self, unit: str, name: str, data: bytes, csrf: str | None,
               headers: dict | None = None) -> httpx.Response:
        fields = {"csrf": csrf} if csrf is not None else {}
        return self.http.post(f"/don-vi/{unit}/nop", data=fields,
                              files={"file": (name, data, "application/octet-stream")},
                              headers=headers or {})

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def visitor(upload_stack: UploadStack) -> Iterator[Visitor]:
    v = Visitor(upload_stack.url)
    try:
        yield v
    finally:
        v.close()

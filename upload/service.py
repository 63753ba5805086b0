"""The upload page as a background service of `make up` / `make demo` (`cli.services`).

It runs `ioc upload-page` with only the environment it needs: where IOC_HOME, the intake
folders and the archive are, Superset's port (to log people in and read their reports' status
as them), its own settings and the day. No database URL or password, no role key, no agency
token: the page writes into the intake folders and asks Superset, nothing else.
"""

from __future__ import annotations

import os

from ioc import childenv, processes
from ioc.settings import Settings, tool

NAME = "upload-page"
DEFAULT_PORT = 8090
# Names the page may see (besides childenv.BASE_NAMES); everything else is left behind.
PASSED_ON = (
    "IOC_HOME", "IOC_INTAKE_DIR", "IOC_ARCHIVE_DIR", "IOC_SUPERSET_PORT", "IOC_TODAY",
    "IOC_APP_NAME", "IOC_UPLOAD_HOST", "IOC_UPLOAD_PORT", "IOC_UPLOAD_MAX_MB",
    "IOC_UPLOAD_SESSION_MINUTES", "IOC_UPLOAD_MAX_FILES_PER_HOUR",
)  # fmt: skip


def url() -> str:
    host = os.environ.get("IOC_UPLOAD_HOST") or "127.0.0.1"
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{shown}:{int(os.environ.get('IOC_UPLOAD_PORT') or DEFAULT_PORT)}"


def service_up(settings: Settings) -> dict[str, str]:
    env = {"IOC_HOME": str(settings.home), "IOC_INTAKE_DIR": str(settings.intake_dir),
           # the archive: the data team downloads originals from it (read only)
           "IOC_ARCHIVE_DIR": str(settings.archive_dir),
           "IOC_SUPERSET_PORT": str(settings.superset_port)}
    argv = childenv.wrap(PASSED_ON, [str(tool("ioc")), "upload-page"])
    processes.start_process(settings, NAME, argv, env=env)
    address = url()
    processes.wait_http(address + "/health", timeout_s=60)
    return {"nộp báo cáo": address}


def service_down(settings: Settings) -> list[str]:
    return [NAME] if processes.stop_process(settings, NAME) else []

"""The demo agency API as a background service of `make up` / `make demo`.

Started only when the demo world exists (`$IOC_HOME/demo/agency`) and no real API is
configured (`IOC_AGENCY_API_URL`). Its URL and token are written to
`$IOC_HOME/run/demo-api.json` so `ioc pipeline` and Dagster, started later or from another
shell, pull from it without anyone exporting variables.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

from ioc import processes
from ioc.settings import Settings, read_or_create_secret, tool

NAME = "demo-api"


def demo_dir(settings: Settings) -> Path:
    return settings.home / "demo"


def world_today(settings: Settings) -> date | None:
    """The day the demo world was generated for, when it is what the services will serve
    (it exists and no real agency API is configured)."""
    meta = demo_dir(settings) / "meta.json"
    if os.environ.get("IOC_AGENCY_API_URL") or not meta.exists():
        return None
    day = json.loads(meta.read_text(encoding="utf-8")).get("today")
    return date.fromisoformat(day) if day else None


def _state_file(settings: Settings) -> Path:
    return settings.home / "run" / "demo-api.json"


def service_up(settings: Settings) -> dict[str, str]:
    if os.environ.get("IOC_AGENCY_API_URL") or not (demo_dir(settings) / "agency").is_dir():
        return {}
    port = int(os.environ.get("IOC_DEMO_API_PORT", "8765"))
    token = read_or_create_secret(settings.secret_file("demo-api-token"))
    # the token through the environment (`ioc demo-api` reads IOC_AGENCY_API_TOKEN), not the
    # command line: `ps` shows a command line to every user, and a token that begins with
    # "-" (1 in 64 of token_urlsafe's) was taken by argparse for an option, so the demo API
    # never started
    processes.start_process(
        settings,
        NAME,
        [
            str(tool("ioc")),
            "demo-api",
            "--data",
            str(demo_dir(settings)),
            "--port",
            str(port),
        ],
        env={"IOC_AGENCY_API_TOKEN": token},
    )
    url = f"http://127.0.0.1:{port}"
    processes.wait_http(url + "/api/v1/ho-so", timeout_s=60)
    _state_file(settings).write_text(json.dumps({"url": url, "token": token}))
    adopt(settings)
    return {"demo agency API": url}


def service_down(settings: Settings) -> list[str]:
    _state_file(settings).unlink(missing_ok=True)
    return [NAME] if processes.stop_process(settings, NAME) else []


def adopt(settings: Settings) -> bool:
    """Point this process (and its children) at the running demo API, unless an API is set."""
    state = _state_file(settings)
    if os.environ.get("IOC_AGENCY_API_URL") or not state.exists():
        return False
    if not processes.running_pid(settings, NAME):
        return False
    data = json.loads(state.read_text())
    os.environ["IOC_AGENCY_API_URL"] = data["url"]
    os.environ["IOC_AGENCY_API_TOKEN"] = data["token"]
    return True

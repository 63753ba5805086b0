"""Links from Superset to the IOC's other pages (issue 18).

`/ioc/tep-goc/<archive name>?ten=<file name>`: the report rows behind a figure
(mart_bao_cao.fct_dong_bao_cao, *Nguồn số liệu* tables) link here; this redirects to the upload
page's download of the archived original (`upload/app.py`, `/tep-goc/...`), which asks
Superset for the person's roles and serves the file to the data team only. The upload page's
address is `IOC_UPLOAD_URL`, else this server's host name with `IOC_UPLOAD_PORT` (8090).
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, redirect, request

ARCHIVE_NAME = re.compile(r"[0-9a-f]{64}(\.[a-z0-9]{1,10})?")

blueprint = Blueprint("ioc_links", __name__)


def upload_base() -> str:
    configured = (os.environ.get("IOC_UPLOAD_URL") or "").rstrip("/")
    if configured:
        return configured
    host = urlsplit(request.host_url).hostname or "127.0.0.1"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{os.environ.get('IOC_UPLOAD_PORT') or 8090}"


@blueprint.route("/ioc/tep-goc/<name>")
def original(name: str):
    if not ARCHIVE_NAME.fullmatch(name):
        abort(404)
    query = urlencode({"ten": request.args.get("ten", "")})
    return redirect(f"{upload_base()}/tep-goc/{name}?{query}", code=302)

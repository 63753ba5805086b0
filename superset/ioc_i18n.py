"""Superset in Vietnamese: this project's translation catalogue, compiled and served.

Superset ships no Vietnamese. The one source is the curated catalogue kept in the
repository, `superset/translations/<lang>/LC_MESSAGES/messages.po` (only the strings the
screens of leaders and commune users show; docs/superset.md says how to add one). Superset
needs it in two shapes:

- the back end (Flask-Babel: menus, page titles, API messages) reads `messages.mo` from the
  directories in `BABEL_TRANSLATION_DIRECTORIES`;
- the front end fetches `/superset/language_pack/<lang>/`, which Superset answers from its
  package folder only, behind a login (so the login page itself would stay English).

`compile_catalogues` writes both shapes from the `.po` under `$IOC_HOME/superset/translations`
(redone only when the `.po` changes; atomic, so several web workers may start at once), and
`install_language_pack` answers `/superset/language_pack/<lang>/` for those languages from the
compiled JSON, before Superset's own view, to everyone (it is the same public text as the
JavaScript bundle). Nothing is copied into the installed package.

Runs inside `.venv-superset` (Babel comes with Flask-Babel); loaded by path from
`superset_config.py`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().with_name("translations")
DOMAIN = "superset"  # the front end's Jed domain
PACK_PATH = re.compile(r"^/superset/language_pack/(?P<lang>[a-z]{2,3}(?:_[A-Z]{2})?)/?$")


def catalogues(source: Path = SOURCE) -> dict[str, Path]:
    """{language: its messages.po} kept in the repository."""
    return {
        po.parent.parent.name: po for po in sorted(source.glob("*/LC_MESSAGES/messages.po"))
    }


def read_catalogue(po: Path):
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        return read_po(fh, locale=po.parent.parent.name, abort_invalid=True)


def language_pack(catalog, lang: str) -> dict:
    """The front end's pack (the shape of Superset's own messages.json, po2json/Jed)."""
    plural_forms = catalog.plural_forms or "nplurals=1; plural=0;"
    messages: dict = {"": {"domain": DOMAIN, "plural_forms": plural_forms, "lang": lang}}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        messages[key] = list(strings)
    return {"domain": DOMAIN, "locale_data": {DOMAIN: messages}}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_catalogues(target: Path, source: Path = SOURCE) -> dict[str, Path]:
    """Compile every catalogue into `target/<lang>/LC_MESSAGES/messages.{mo,json}`.

    Returns {language: its compiled JSON}. A catalogue whose `.po` did not change since the
    last compilation (its digest is kept beside the output) is not compiled again.
    """
    from babel.messages.mofile import write_mo

    compiled = {}
    for lang, po in catalogues(source).items():
        out = target / lang / "LC_MESSAGES"
        digest = hashlib.sha256(po.read_bytes()).hexdigest()
        stamp = out / "messages.sha256"
        mo, pack = out / "messages.mo", out / "messages.json"
        fresh = stamp.exists() and stamp.read_text().strip() == digest
        if not (fresh and mo.exists() and pack.exists()):
            catalog = read_catalogue(po)
            with io.BytesIO() as buffer:
                write_mo(buffer, catalog)
                _write_atomic(mo, buffer.getvalue())
            _write_atomic(
                pack, json.dumps(language_pack(catalog, lang), ensure_ascii=False).encode()
            )
            _write_atomic(stamp, (digest + "\n").encode())
        compiled[lang] = pack
    return compiled


def install_language_pack(app, packs: dict[str, Path]) -> None:
    """Answer `/superset/language_pack/<lang>/` for our languages before Superset's view."""
    from flask import request, send_file

    def serve_pack():
        match = PACK_PATH.match(request.path)
        if match and match["lang"] in packs:
            response = send_file(packs[match["lang"]], mimetype="application/json")
            response.headers["Cache-Control"] = "no-cache"
            return response
        return None

    app.before_request(serve_pack)


def chain(*mutators):
    """One FLASK_APP_MUTATOR running several, in order (None entries skipped)."""

    def mutate(app):
        for mutator in mutators:
            if mutator is not None:
                mutator(app)

    return mutate

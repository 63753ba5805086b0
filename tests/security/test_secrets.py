"""No secret in the repository: every file git tracks is scanned; secrets come from the
environment or from files under `$IOC_HOME` (git-ignored), created readable by the owner only.

What counts as a secret here: private keys; tokens of known formats (GitHub, GitLab, AWS,
Slack, Google, Stripe, OpenAI-style, JWTs); a password inside a URL that is not a visible
placeholder; a literal password/secret/token assigned in code outside the tests (test
servers use throwaway tokens); files named like the platform's own secret files, `.env`,
keys and certificates' private halves. Allowed on purpose: `demo-token`, the documented
token of the demo agency API (docs/demo-data.md), and `bench`, the token of the connector
benchmark's local server.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from ioc.settings import PROJECT_ROOT, read_or_create_secret

PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")
TOKENS = {
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    "GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe live key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}"),
    "OpenAI-style key": re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}"),
    "JSON Web Token": re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
}
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@\"'`]+:([^\s@/\"'`]+)@")
PLACEHOLDER = re.compile(r"^(?:X{3,}|\*{3,}|\.{3}|<[^>]*>|\{[^}]*\}|\$\{?\w+\}?|%\(?\w+\)?s?|"
                         r"pass(?:word)?|secret|changeme|user|mật-khẩu)$", re.IGNORECASE)
ASSIGNED = re.compile(r"""(?ix)\b\w*(?:password|passwd|secret|secret_key|api_key|token)\b
                          ["']?\s*[:=]\s*["']([^"'\s]{4,})["']""")
ALLOWED_LITERALS = {"demo-token", "bench"}
SECRET_FILE_NAMES = re.compile(
    r"(?:^|/)(?:\.ioc/|\.env(?:\..*)?$|id_(?:rsa|ed25519|ecdsa)$|.*\.(?:pem|key|p12|pfx)$|"
    r"(?:warehouse-password|bi-reader-password|superset-secret-key|superset-admin-password|"
    r"demo-api-token)$)")


def findings(path: str, text: str) -> list[str]:
    """Every secret-looking thing in one file's text (the scanner, testable on its own)."""
    out = []
    if SECRET_FILE_NAMES.search(path):
        out.append(f"{path}: a secret's file name is tracked")
    if PRIVATE_KEY.search(text):
        out.append(f"{path}: private key")
    for kind, pattern in TOKENS.items():
        out += [f"{path}: {kind} {m.group(0)[:12]}…" for m in pattern.finditer(text)]
    for m in URL_PASSWORD.finditer(text):
        if not PLACEHOLDER.match(m.group(1)):
            out.append(f"{path}: password in a URL ({m.group(0)[:40]}…)")
    if not path.startswith("tests/"):
        for m in ASSIGNED.finditer(text):
            if m.group(1) not in ALLOWED_LITERALS and not PLACEHOLDER.match(m.group(1)):
                out.append(f"{path}: literal secret assigned ({m.group(0)[:40]}…)")
    return out


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True,
                         check=True).stdout
    return [p for p in out.decode().split("\0") if p]


def test_the_repository_holds_no_secret() -> None:
    files = tracked_files()
    assert len(files) > 100
    found = []
    for rel in files:
        path = PROJECT_ROOT / rel
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace") if b"\0" not in data[:8192] else ""
        found += findings(rel, text)
    assert found == []


# (planted secrets are assembled from pieces so that this file itself stays clean)
@pytest.mark.parametrize("path, text", [
    ("deploy/key.txt", "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n"),
    ("ioc/x.py", 'url = "postgresql://ioc:' + 'Tr0ub4dor3@db.example:5432/ioc"'),
    ("docs/x.md", "token ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("ioc/y.py", "AWS_KEY = 'AKIA" + "ABCDEFGHIJKLMNOP'"),
    ("ioc/z.py", 'SUPERSET_ADMIN_PASSWORD = "hunter2hunter2"'),
    ("superset/x.yaml", "jwt: eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"),
    (".ioc/warehouse-password", "s3cr3t"),
    ("config/.env", "IOC_AGENCY_API_TOKEN=abc"),
])
def test_the_scanner_finds_planted_secrets(path: str, text: str) -> None:
    assert findings(path, text), "a planted secret went unnoticed"


@pytest.mark.parametrize("path, text", [
    ("docs/superset.md", "`postgresql+psycopg2://ioc_bi:XXXXXXXXXX@127.0.0.1:54329/ioc`"),
    ("ioc/warehouse.py", 'f"postgresql://{OWNER_ROLE}:{password}@127.0.0.1:{port}/{db}"'),
    ("docs/orchestration.md", "IOC_DAGSTER_PG_URL=postgresql://user:pass@host:5432/dagster"),
    ("demo/api_server.py", '    token: str = "demo-token"'),
    ("tests/agency/conftest.py", 'TOKEN = "agency-test-token"'),
])
def test_the_scanner_lets_placeholders_pass(path: str, text: str) -> None:
    assert findings(path, text) == []


def test_demo_token_is_documented_as_a_demo_value() -> None:
    doc = (PROJECT_ROOT / "docs" / "demo-data.md").read_text(encoding="utf-8")
    assert "demo-token" in doc


def test_secret_files_live_outside_git(tmp_path: Path, monkeypatch) -> None:
    """Generated secrets go to `$IOC_HOME` (default `.ioc/`, git-ignored), mode 0600; an
    environment variable wins over the file."""
    ignored = subprocess.run(["git", "check-ignore", "-q", ".ioc/warehouse-password"],
                             cwd=PROJECT_ROOT)
    assert ignored.returncode == 0, ".ioc/ must be git-ignored"
    secret = tmp_path / "home" / "some-password"
    value = read_or_create_secret(secret)
    assert len(value) >= 20 and stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert read_or_create_secret(secret) == value
    monkeypatch.setenv("IOC_TEST_SECRET", "from-the-environment")
    assert read_or_create_secret(secret, "IOC_TEST_SECRET") == "from-the-environment"
    assert os.environ["IOC_TEST_SECRET"] not in secret.read_text()

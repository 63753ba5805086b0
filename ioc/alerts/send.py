"""Channels: email (SMTP), a chat webhook, and the dry-run outbox; who receives what; and a
ledger so that the same message is never delivered twice.

Configured by the environment (docs/alerts.md):

- `IOC_NOTIFY_RECIPIENTS`: the recipients file (YAML, kept outside the repository; default
  `$IOC_HOME/alerts/recipients.yaml`; `docs/alerts-recipients.example.yaml` shows the form);
- `IOC_SMTP_HOST`, `IOC_SMTP_PORT` (25), `IOC_SMTP_USER`, `IOC_SMTP_PASSWORD`,
  `IOC_SMTP_FROM`, `IOC_SMTP_STARTTLS` (1/0): email goes out through this server;
- `IOC_NOTIFY_DRY_RUN=1`: write every message to `$IOC_HOME/outbox/` instead of sending.

Dry run is the default when nothing is configured: with no SMTP server, email messages are
written to the outbox; with no recipients file, every message goes to the outbox addressed to
its roles. Webhook addresses (Slack / Mattermost / Rocket.Chat / Google Chat incoming
webhooks, `{"text": ...}`) are listed per recipient in the recipients file.
"""

from __future__ import annotations

import hashlib
import json
import os
import smtplib
import sqlite3
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ioc.alerts.catalogue import UNIT_ROLE
from ioc.alerts.rules import Message
from ioc.kpi.catalogue import validate_yaml
from ioc.settings import LOCAL_TZ, Settings

RECIPIENTS_VAR = "IOC_NOTIFY_RECIPIENTS"
DRY_RUN_VAR = "IOC_NOTIFY_DRY_RUN"


class RecipientsError(ValueError):
    """The recipients file is malformed; the message names the file and the entry."""


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str  # `don_vi` for a unit's own contacts, or lanh_dao, du_lieu, …
    units: list[str] | None = None  # org_unit_id; absent = every unit
    name: str = ""
    email: list[str] = Field(default_factory=list)
    webhook: list[str] = Field(default_factory=list)


class RecipientsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    recipients: list[Recipient]


def recipients_path(settings: Settings) -> Path:
    value = os.environ.get(RECIPIENTS_VAR)
    return Path(value).expanduser() if value else settings.home / "alerts" / "recipients.yaml"


def load_recipients(settings: Settings) -> RecipientsFile | None:
    """The recipients file, or None when there is none (everything goes to the outbox)."""
    path = recipients_path(settings)
    if not path.exists():
        if os.environ.get(RECIPIENTS_VAR):
            raise RecipientsError(f"{path}: tệp người nhận không tồn tại ({RECIPIENTS_VAR})")
        return None
    return validate_yaml(path.read_text(encoding="utf-8"), str(path), RecipientsFile,
                         RecipientsError)


@dataclass(frozen=True)
class Delivery:
    channel: Literal["email", "webhook", "outbox"]
    address: str  # an email address, a webhook URL, or the roles (outbox without recipients)


def deliveries(message: Message, book: RecipientsFile | None) -> list[Delivery]:
    """Where one message goes: every recipient with one of its roles, for its unit."""
    if book is None:
        return [Delivery("outbox", ",".join(message.roles))]
    out: dict[Delivery, None] = {}
    for person in book.recipients:
        if person.role not in message.roles:
            continue
        if person.units is not None and message.org_unit_id not in person.units:
            continue
        if person.role == UNIT_ROLE and person.units is None:
            continue  # a unit's own contact names its unit
        for address in person.email:
            out[Delivery("email", address)] = None
        for url in person.webhook:
            out[Delivery("webhook", url)] = None
    return list(out)


@dataclass
class Channels:
    """The configured ways out, read from the environment."""

    dry_run: bool
    smtp_host: str | None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "ioc@localhost"
    smtp_starttls: bool = False
    outbox: Path = field(default_factory=Path)

    @classmethod
    def from_env(cls, settings: Settings) -> Channels:
        env = os.environ
        return cls(
            dry_run=env.get(DRY_RUN_VAR, "") not in ("", "0", "false"),
            smtp_host=env.get("IOC_SMTP_HOST") or None,
            smtp_port=int(env.get("IOC_SMTP_PORT") or 25),
            smtp_user=env.get("IOC_SMTP_USER") or None,
            smtp_password=env.get("IOC_SMTP_PASSWORD") or None,
            smtp_from=env.get("IOC_SMTP_FROM") or "ioc@localhost",
            smtp_starttls=env.get("IOC_SMTP_STARTTLS", "") not in ("", "0", "false"),
            outbox=settings.home / "outbox",
        )


def email_of(message: Message, sender: str, to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="ioc.local")
    mail["X-IOC-Alert-Key"] = message.key
    mail.set_content(message.text())
    return mail


def _to_outbox(channels: Channels, message: Message, delivery: Delivery) -> Path:
    day = datetime.now(LOCAL_TZ).strftime("%Y-%m-%d")
    folder = channels.outbox / day
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(f"{message.key}|{delivery.address}".encode()).hexdigest()[:12]
    stem = f"{message.rule}-{message.org_unit_id}-{digest}"
    if delivery.channel == "webhook":
        path = folder / f"{stem}.json"
        path.write_text(json.dumps({"url": delivery.address, "text": message.text()},
                                   ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        to = delivery.address if delivery.channel == "email" else f"(vai trò: {delivery.address})"
        path = folder / f"{stem}.eml"
        path.write_bytes(bytes(email_of(message, channels.smtp_from, to)))
    return path


def _post(url: str, text: str) -> None:
    body = json.dumps({"text": text}).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _mail(channels: Channels, message: Message, to: str) -> None:
    with smtplib.SMTP(channels.smtp_host, channels.smtp_port, timeout=20) as smtp:
        if channels.smtp_starttls:
            smtp.starttls()
        if channels.smtp_user:
            smtp.login(channels.smtp_user, channels.smtp_password or "")
        smtp.send_message(email_of(message, channels.smtp_from, to))


def deliver(channels: Channels, message: Message, delivery: Delivery) -> str:
    """Send one delivery; returns where it went (`smtp`, `webhook`, or the outbox file)."""
    if channels.dry_run or delivery.channel == "outbox" or (
            delivery.channel == "email" and not channels.smtp_host):
        return str(_to_outbox(channels, message, delivery))
    if delivery.channel == "email":
        _mail(channels, message, delivery.address)
        return "smtp"
    _post(delivery.address, message.text())
    return "webhook"


# ------------------------------------------------------------------------------- the ledger

class Ledger:
    """What was delivered: one row per message key × channel × address, in
    `$IOC_HOME/alerts/ledger.sqlite3` (a failed delivery is not written, so the next run
    retries it; a delivered one is never repeated)."""

    def __init__(self, settings: Settings):
        path = settings.home / "alerts" / "ledger.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, timeout=30)
        self.conn.execute(
            "create table if not exists delivered (key text, channel text, address text, "
            "rule text, org_unit_id text, at text, target text, "
            "primary key (key, channel, address))")

    def seen(self, message: Message, delivery: Delivery) -> bool:
        return self.conn.execute(
            "select 1 from delivered where key = ? and channel = ? and address = ?",
            (message.key, delivery.channel, delivery.address)).fetchone() is not None

    def record(self, message: Message, delivery: Delivery, target: str) -> None:
        with self.conn:
            self.conn.execute(
                "insert or ignore into delivered values (?, ?, ?, ?, ?, ?, ?)",
                (message.key, delivery.channel, delivery.address, message.rule,
                 message.org_unit_id, datetime.now(LOCAL_TZ).isoformat(), target))

    def close(self) -> None:
        self.conn.close()


@dataclass
class Outcome:
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # key, channel, target
    skipped: int = 0  # already delivered earlier
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # key, address, error


def send(settings: Settings, messages: list[Message]) -> Outcome:
    """Deliver every message not delivered before, by every channel its recipients have."""
    channels = Channels.from_env(settings)
    book = load_recipients(settings)
    ledger = Ledger(settings)
    outcome = Outcome()
    try:
        for message in messages:
            for delivery in deliveries(message, book):
                if ledger.seen(message, delivery):
                    outcome.skipped += 1
                    continue
                try:
                    target = deliver(channels, message, delivery)
                except (OSError, smtplib.SMTPException) as exc:
                    outcome.failed.append((message.key, delivery.address, str(exc)[:300]))
                    continue
                ledger.record(message, delivery, target)
                outcome.sent.append((message.key, delivery.channel, target))
    finally:
        ledger.close()
    return outcome

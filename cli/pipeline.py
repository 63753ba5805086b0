"""`ioc pipeline`, `ioc up`, `ioc down`, `ioc demo`: the whole platform from one command.

`pipeline` executes Dagster's nightly job in this process but records the run in the same
Dagster instance the UI shows (`.ioc/dagster`), so a run started from the shell is visible
there with its logs and materialisations.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from cli import services
from ioc import processes
from ioc import settings as settings_mod
from ioc.settings import add_today_option


def _count(n: object) -> str:
    return f"{n:,}".replace(",", ".") if isinstance(n, int) else str(n)


def progress_line(step: str, metadata: dict) -> str | None:
    """One short line (Vietnamese) for a finished step of the nightly job."""
    def value(output: dict, key: str):
        item = output.get(key)
        return getattr(item, "value", item)

    outputs = [m for m in metadata.values() if isinstance(m, dict)]
    if step == "intake_files":
        m = next((o for o in outputs if value(o, "files_seen") is not None), {})
        return (f"  Tiếp nhận tệp: {_count(value(m, 'files_seen') or 0)} tệp "
                f"({_count(value(m, 'accepted') or 0)} nhận, "
                f"{_count(value(m, 'rejected') or 0)} từ chối, "
                f"{_count(value(m, 'duplicate') or 0)} trùng)")
    if step.startswith("agency_"):
        m = outputs[0] if outputs else {}
        name = step.removeprefix("agency_").replace("_", "-")
        if value(m, "skipped"):
            return f"  Dữ liệu {name}: bỏ qua (chưa cấu hình API)"
        fetched, new = value(m, "fetched") or 0, value(m, "inserted") or 0
        return (f"  Dữ liệu {name}: {_count(fetched)} bản ghi "
                f"(mới {_count(new)}, đổi {_count(value(m, 'updated') or 0)})")
    if step == "ioc_dbt_assets":
        ids = [str(value(o, "unique_id") or "") for o in outputs]
        models = sum(i.startswith(("model.", "seed.", "snapshot.")) for i in ids)
        return f"  Kho dữ liệu (dbt): {_count(models)} bảng và khung nhìn đã dựng, đã kiểm tra"
    if step in ("gui_canh_bao", "gui_nhac_nho"):  # issue 19 (orchestration/alerts/notify.py)
        m = outputs[0] if outputs else {}
        what = "Cảnh báo" if step == "gui_canh_bao" else "Nhắc nộp báo cáo"
        return (f"  {what}: {_count(value(m, 'delivered') or 0)} lượt gửi mới "
                f"({_count(value(m, 'messages') or 0)} thông báo, "
                f"{_count(value(m, 'already_delivered') or 0)} lượt đã gửi trước đó)")
    return None


def run_pipeline(job_name: str = "nightly_job", quiet: bool = True) -> bool:
    """Run a Dagster job once against the configured warehouse; True on success.

    Quiet (the default): one line per finished step on stdout; Dagster's own log (every
    event, dbt's output) goes to `$IOC_HOME/logs/pipeline.log` and to Dagster's UI.
    """
    import dagster as dg

    from ioc import warehouse

    cfg = settings_mod.load()
    warehouse.start(cfg)
    for hook in services.SERVICE_HOOKS:  # the demo API, when it is what is served
        hook.adopt(cfg)
    os.environ["DAGSTER_HOME"] = str(services.dagster_home(cfg))
    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    log_path = cfg.home / "logs" / "pipeline.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"{job_name}: đang chạy (nhật ký: {log_path})", flush=True)
    with _output_to(log_path if quiet else None) as say:
        @dg.success_hook
        def _done(context: dg.HookContext) -> None:
            line = progress_line(context.op.name, dict(context.op_output_metadata))
            if line:
                say(line)

        @dg.failure_hook
        def _failed(context: dg.HookContext) -> None:
            say(f"  LỖI ở bước {context.op.name}")

        with dg.DagsterInstance.get() as instance:
            result = job.with_hooks({_done, _failed}).execute_in_process(
                instance=instance, raise_on_error=False)
    state = "xong" if result.success else "THẤT BẠI — xem nhật ký và giao diện Dagster"
    print(f"{job_name}: {state} (run {result.run_id[:8]})", flush=True)
    return result.success


@contextlib.contextmanager
def _output_to(path: Path | None):
    """Send this process's stdout and stderr (Dagster's console log, dbt's output, warnings)
    to `path` for a while; yields a function that still writes a line to the terminal."""
    if path is None:
        yield lambda line: print(line, flush=True)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    terminal = os.fdopen(os.dup(saved[1]), "w", encoding="utf-8", buffering=1)

    def say(line: str) -> None:
        terminal.write(line + "\n")
        terminal.flush()

    with open(path, "ab") as log:
        for fd in saved:
            os.dup2(log.fileno(), fd)
        try:
            yield say
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            terminal.close()


def _print_urls(urls: dict[str, str], cfg: settings_mod.Settings) -> None:
    print("\nIOC platform is up:")
    for name, url in urls.items():
        if name == "warehouse":
            continue
        print(f"  {name:<10} {url}")
    pw_file = cfg.secret_file("superset-admin-password")
    if "superset" in urls:
        password = os.environ.get("IOC_SUPERSET_ADMIN_PASSWORD") or (
            pw_file.read_text().strip() if pw_file.exists() else "?"
        )
        print(f"  Superset login: admin / {password}   (kept in {pw_file})")
    if "nộp báo cáo" in urls and "superset" in urls:
        _print_upload_login(cfg)
    print("  Warehouse: `.venv/bin/ioc warehouse url` prints the psql URL.")


def _print_upload_login(cfg: settings_mod.Settings) -> None:
    """The account a commune's staff use on the upload page: with the demo world, a demo
    commune account (made now by its hook); otherwise how the data team makes one."""
    lines = [line for hook in services.SERVICE_HOOKS for line in hook.logins(cfg)]
    for line in lines:
        print(line)
    if not lines:
        print("  Nộp báo cáo: commune staff log in with their Superset account (one commune "
              "role): `.venv/bin/ioc superset add-user NAME --role ROLE`")


def _pin_today(args) -> settings_mod.Settings:
    """One "today" for everything a command starts: `--today`, else IOC_TODAY, else — when the
    demo world is what will be served — the day it was generated for (so the demo API, dbt,
    Dagster and Superset agree with the data), else the current day."""
    if getattr(args, "today", None):
        settings_mod.pin_today(args.today)
    cfg = settings_mod.load()
    if not cfg.today_pinned:
        day = next((d for hook in services.SERVICE_HOOKS if (d := hook.today(cfg))), None)
        if day is not None:
            settings_mod.pin_today(day)
            cfg = settings_mod.load()
    return cfg


def _up(args) -> int:
    cfg = _pin_today(args)
    print(f"today: {cfg.today}")
    _print_urls(services.up(cfg), cfg)
    return 0


def _down(_args) -> int:
    stopped = services.down(settings_mod.load())
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _pipeline(args) -> int:
    if args.today:
        settings_mod.pin_today(args.today)
    return 0 if run_pipeline(args.job, quiet=not args.verbose) else 1


def _serve(args) -> int:
    """Foreground mode for `make demo`: everything up, Ctrl-C stops everything cleanly."""
    cfg = _pin_today(args)
    print(f"today: {cfg.today}")
    run_first = args.pipeline
    with processes.stop_signals() as stop:
        try:
            # With the first load to run, Dagster's sensors and the watcher start after it:
            # they would otherwise race the pipeline for the demo history's files.
            urls = services.up(cfg, orchestration=not run_first)
            if run_first:
                # issue 19: the first load's alerts to the outbox / channels — the sensor that
                # sends them after each load starts only after this run
                if run_pipeline():
                    run_pipeline("thong_bao_job")
                for hook in services.SERVICE_HOOKS:
                    hook.refresh(cfg)
                urls.update(services.start_orchestration(cfg))
            _print_urls(urls, cfg)
            print("\nPress Ctrl-C to stop everything.", flush=True)
            stop.wait()
        finally:
            print("\nstopping...", flush=True)
            stopped = services.down(cfg)
            print("stopped: " + ", ".join(stopped), flush=True)
    return 0


def register(sub) -> None:
    p = sub.add_parser("pipeline", help="run the nightly job once (all sources, then dbt build)")
    p.add_argument("--job", default="nightly_job")
    p.add_argument("--verbose", action="store_true", help="Dagster's full log on the terminal")
    add_today_option(p, "dbt's as_of_date and the checks")
    p.set_defaults(func=_pipeline)
    up = sub.add_parser("up", help="start every service in the background")
    add_today_option(up, "given to every service; default with the demo world: its day")
    up.set_defaults(func=_up)
    sub.add_parser("down", help="stop every service started by `up`").set_defaults(func=_down)
    serve = sub.add_parser("serve", help="start everything, stop it all on Ctrl-C")
    serve.add_argument("--pipeline", action="store_true", help="run the nightly job once first")
    add_today_option(serve, "given to every service; default with the demo world: its day")
    serve.set_defaults(func=_serve)

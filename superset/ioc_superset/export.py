"""`ioc superset export`: write the assets of a running Superset back into `superset/assets/`.

The export is Superset's own (`GET /api/v1/assets/export/`: databases, datasets, charts,
dashboards; passwords masked) put in the canonical form of `assets_format` (ids replaced by
UUID-derived ones, stable file names, sorted keys, the warehouse URL reset to its committed
default), so `git diff` shows only what was changed in the UI.

Files that Superset no longer has are removed, except those generated from the spec
(`superset/spec/generated.txt`), which belong to the builder. An exported asset that the
spec generates but that differs from the spec's output is reported: either port the change
to `superset/spec/` or remove the asset from the spec to keep the UI version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ioc_superset import assets_builder, bundle
from ioc_superset.client import SupersetClient


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    differs_from_spec: list[str] = field(default_factory=list)


def export(
    client: SupersetClient,
    assets_dir: Path = bundle.ASSETS_DIR,
    spec_dir: Path = assets_builder.SPEC_DIR,
    prune: bool = True,
) -> ExportReport:
    files = bundle.canonical_export(client.export_assets())
    report = ExportReport()
    generated: dict[str, str] = {}
    if spec_dir.exists() and any(spec_dir.glob("*.yaml")):
        generated = assets_builder.build_files(assets_builder.load_spec(spec_dir))
    for rel, text in sorted(files.items()):
        path = assets_dir / rel
        if rel in generated and generated[rel] != text:
            report.differs_from_spec.append(rel)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            report.unchanged += 1
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        report.written.append(rel)
    if prune and assets_dir.exists():
        for path in sorted(assets_dir.rglob("*.yaml")):
            rel = str(path.relative_to(assets_dir))
            if rel not in files and rel not in generated:
                path.unlink()
                report.removed.append(rel)
    return report

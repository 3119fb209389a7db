"""``layerwise train --telemetry FILE.jsonl``: one JSON object per probe into FILE, and the problems the probes
show as ``warning:`` lines on stderr (each kind once, naming its layers, with the numbers of its first sighting)."""
from __future__ import annotations

from pathlib import Path

import click

from .common import fail


class TelemetryFile:
    """Writes the records as they come (the file is created at the first probe, flushed after each line)."""

    def __init__(self, path):
        self.path = Path(path)
        self.f = None
        self.count = 0
        self.seen = {}          # problem kind -> layers already named

    def __call__(self, rec):
        from core.telemetry import record_json
        if self.f is None:
            self.f = open(self.path, "w", encoding="utf-8")
        self.f.write(record_json(rec) + "\n")
        self.f.flush()
        self.count += 1
        self.say(rec.get("problems") or [], rec)

    def say(self, problems, rec):
        fresh = {}
        for p in problems:
            if p.layer not in self.seen.setdefault(p.kind, set()):
                fresh.setdefault(p.kind, []).append(p)
        for kind, ps in fresh.items():
            self.seen[kind].update(p.layer for p in ps)
            where = f"epoch {rec.get('epoch', 0) + 1}, batch {rec.get('step', 0) + 1}"
            others = f" (also {', '.join(repr(p.layer) for p in ps[1:])})" if len(ps) > 1 else ""
            click.echo(f"warning: {where}: {ps[0].message}{others}", err=True)


def attach_telemetry(path, project, cfg):
    """Add the probe to ``cfg``'s callbacks, writing to ``path`` (its folder must exist)."""
    from core.telemetry import telemetry_callback
    target = Path(path)
    if not target.parent.exists():
        fail(f"--telemetry {path}: the folder {target.parent} does not exist")
    if target.suffix.lower() not in (".jsonl", ".json", ".ndjson"):
        fail(f"--telemetry {path}: expected a .jsonl file")
    sink = TelemetryFile(target)
    cfg.extra_callbacks = list(cfg.extra_callbacks or ()) + [
        telemetry_callback(project, sink, warn=lambda m: click.echo(f"warning: {m}", err=True))]
    return sink

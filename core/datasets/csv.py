"""CSV files: a header row (or none), numeric feature columns, one or more target columns."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from .splits import make_dataset
from .targets import encode_target, task_hint
from .validate import F32_MAX, resolve_path


def _parse_number(text):
    try:
        v = float(text)
    except ValueError:
        return None
    return v


def _cell(text, limit=40):
    """A CSV cell for a message: quoted, and cut when long."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text):,} characters)"


def load(spec, base_dir):
    """The CSV file the data setting 'path' names: numeric feature columns and the target column(s)."""
    path = resolve_path(spec, base_dir, "CSV file")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a CSV file")
    table = _read_table(path, spec)
    targets = _targets(spec, table)
    features, skipped = _features(spec, table, targets)
    x = np.stack([table.numbers(f) for f in features], axis=1).astype(np.float32)
    ys, tasks, class_names = _encode_targets(spec, table, targets)
    desc = (f"{path.name}: {len(table.rows)} rows, {len(features)} numeric feature(s); target(s) "
            + ", ".join(f"{t} ({task}{', ' + str(len(c)) + ' classes' if c else ''})"
                        for t, task, c in zip(targets, tasks, class_names)))
    if skipped:
        desc += f"; text columns left out: {', '.join(skipped)}"
    return make_dataset(path.stem, spec, [x], ys, ["features"], targets, tasks, class_names, desc,
                        feature_names=features)


@dataclass
class _Table:
    """The cells of a CSV file by column, with the file line of each data row (for messages)."""
    name: str                   # the file's name
    header: list
    rows: list
    lines: list
    cols: dict

    @property
    def found(self):
        return ", ".join(self.header)

    def numbers(self, col):
        """Column ``col`` as float64 values; DataError naming the line of an empty, text or non-finite cell."""
        out = np.empty(len(self.rows), dtype=np.float64)
        for j, (text, line) in enumerate(zip(self.cols[col], self.lines)):
            if text == "":
                raise DataError(f"{self.name}: column {col!r} is empty in line {line} (row {j + 1}); fill in a "
                                f"number or remove the row")
            v = _parse_number(text)
            if v is None:
                raise DataError(f"{self.name}: column {col!r} has text {_cell(text)} in line {line} (row {j + 1}); "
                                f"it must hold numbers")
            out[j] = v
        bad = ~np.isfinite(out) | (np.abs(out) > F32_MAX)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            more = f"; {int(bad.sum())} rows in all hold such values" if bad.sum() > 1 else ""
            raise DataError(f"{self.name}: column {col!r} has {_cell(self.cols[col][j])} in line {self.lines[j]} "
                            f"(row {j + 1}){more}; values must be finite numbers that fit 32-bit floats (at most "
                            f"about 3.4e38): fix or drop those rows")
        return out

    def looks_numeric(self, col):
        vals = [v for v in self.cols[col] if v != ""]
        ok = sum(_parse_number(v) is not None for v in vals)
        return bool(vals) and ok * 2 >= len(vals)


def _read_text(path):
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path.name}: not a text file in UTF-8 (byte {e.start} cannot be read)") from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    if not raw.strip():
        raise DataError(f"{path.name} is empty: a CSV file needs a header row and data rows")
    return raw


def _read_rows(path, raw, delim):
    """(rows of stripped cells, the file line of each row), empty rows left out."""
    import csv
    if not delim:
        try:
            delim = csv.Sniffer().sniff(raw[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delim = ","
    reader = csv.reader(raw.splitlines(), delimiter=delim)
    rows, lines = [], []
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            rows.append([c.strip() for c in row])
            lines.append(reader.line_num)
    except csv.Error as e:
        raise DataError(f"{path.name} line {reader.line_num} cannot be read as CSV ({e})") from None
    if not rows:
        raise DataError(f"{path.name} holds no values (only empty rows): a CSV file needs a header row and data rows")
    return rows, lines


def _read_table(path, spec):
    rows, lines = _read_rows(path, _read_text(path), spec.get("delimiter"))
    header_flag = spec.get("header")
    if header_flag is None:     # no header when every cell of the first row is a number
        header_flag = not all(_parse_number(c) is not None for c in rows[0])
    if header_flag:
        header, rows, lines = rows[0], rows[1:], lines[1:]
        header = [h or f"column_{i + 1}" for i, h in enumerate(header)]
        dup = sorted({h for h in header if header.count(h) > 1})
        if dup:
            raise DataError(f"{path.name}: the header names column(s) {', '.join(repr(d) for d in dup)} more than once")
    else:
        header = [f"column_{i + 1}" for i in range(len(rows[0]))]
    if not rows:
        raise DataError(f"{path.name} has a header ({', '.join(header)}) but no data rows")
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise DataError(f"{path.name} line {line} has {len(row)} values, the header has {len(header)} columns")
    cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    return _Table(path.name, header, rows, lines, cols)


def _targets(spec, table):
    """The target column names: the data setting 'target' (or 'label'), else the last column."""
    header, found = table.header, table.found
    # "label" is taken as another name for "target" (when "target" is not set)
    key = "target" if "target" in spec or "label" not in spec else "label"
    targets = spec.get(key, header[-1])
    if isinstance(targets, bool) or (targets is not None and not isinstance(targets, (str, int, list, tuple))):
        raise DataError(f"data setting '{key}' is {targets!r}; it names the column to predict (or lists several); "
                        f"{table.name} has {found}")
    targets = [targets] if isinstance(targets, (str, int)) else list(targets or [])
    targets = [header[t] if isinstance(t, int) and -len(header) <= t < len(header) else t for t in targets]
    if not targets:
        raise DataError(f"data setting 'target' is empty: name the column(s) to predict ({table.name} has {found})")
    for t in targets:
        if t not in table.cols:
            raise DataError(f"{table.name} has no column {t!r} (the target); columns found: {found}")
    return targets


def _features(spec, table, targets):
    """(feature columns, text columns left out): the data setting 'features', else every numeric column."""
    features = spec.get("features")
    skipped = []
    if features:
        features = [features] if isinstance(features, str) else list(features)
        for f in features:
            if f not in table.cols:
                raise DataError(f"{table.name} has no column {f!r} (a feature); columns found: {table.found}")
            if f in targets:
                raise DataError(f"column {f!r} of {table.name} is both a feature and the target")
        return features, skipped
    features = []
    for h in table.header:
        if h in targets:
            continue
        (features if table.looks_numeric(h) else skipped).append(h)
    if not features:
        raise DataError(f"{table.name} has no numeric feature columns besides the target "
                        f"({', '.join(targets)})" + (f"; text columns: {', '.join(skipped)}" if skipped else ""))
    return features, skipped


def _encode_targets(spec, table, targets):
    """(labels or values, task, class names) per target column."""
    ys, tasks, class_names = [], [], []
    for i, t in enumerate(targets):
        hint = task_hint(spec, t, i)
        where = f"{table.name}: target column {t!r}"
        for j, (text, line) in enumerate(zip(table.cols[t], table.lines)):
            if text == "":
                raise DataError(f"{where} is empty in line {line} (row {j + 1})")
        numeric = all(_parse_number(v) is not None for v in table.cols[t])
        if hint == "regression" and not numeric:
            table.numbers(t)      # names the first row with text
        vals = table.numbers(t) if numeric else np.asarray(table.cols[t])
        y, task, names = encode_target(vals, where, hint, numeric)
        ys.append(y)
        tasks.append(task)
        class_names.append(names)
    return ys, tasks, class_names

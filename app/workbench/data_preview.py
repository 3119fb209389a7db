"""The data panel's file and preview work, Qt-free: the columns of a CSV file, the arrays of an NPZ file, and the
preview of a loaded dataset (samples, labels, class balance), made in a worker thread."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

PREVIEW_N = 24


def csv_header(path):
    """Column names of a CSV file (first row), or [] when it cannot be read."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return [c.strip() for c in next(csv.reader(f), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def npz_keys(path):
    try:
        with np.load(path, allow_pickle=False) as z:
            return list(z.files)
    except Exception:
        return []


def make_preview(ds, n=PREVIEW_N, spec=None, base_dir=None):
    """Preview data for ``show_dataset`` (runs in a worker thread; may read a streamed split)."""
    out = {}
    x = y = None
    if ds.train.x is not None:
        x = np.asarray(ds.train.x[0][:n])
        y = np.asarray(ds.train.y[0]) if ds.train.y else None
    elif ds.train.tf_dataset is not None:
        xs, ys = [], []
        try:
            for bx, by in ds.train.tf_dataset.take(max(1, n // 8 + 1)):
                xs.append(np.asarray(bx))
                ys.append(np.asarray(by))
                if sum(len(a) for a in xs) >= n:
                    break
        except Exception as e:  # noqa: BLE001  (an image that cannot be decoded: name the file)
            from core.datasets import stream_error
            err = stream_error(e)
            if err is None:
                raise
            raise err from None
        if xs:
            x = np.concatenate(xs)[:n]
            y = np.concatenate(ys)
    out["x"] = x
    names = ds.class_names[0] if ds.class_names else None
    task = ds.tasks[0] if ds.tasks else "regression"
    if y is not None and task != "regression":
        from core.evaluate import class_labels as labels_of
        lab = labels_of(y, task)
        k = ds.num_classes[0] or (int(lab.max()) + 1 if lab.size else 0)
        if ds.train.x is not None:
            out["counts"] = np.bincount(np.clip(lab, 0, k - 1), minlength=k)[:k]
        else:
            out["counts"] = folder_counts(spec, base_dir, names)
        out["class_names"] = list(names) if names else None
        out["labels"] = [str(names[v]) if names and 0 <= v < len(names) else str(v) for v in lab[:n]]
    elif y is not None:
        flat = np.asarray(y).reshape(len(y), -1)
        out["labels"] = [", ".join(f"{v:.3g}" for v in row[:3]) for row in flat[:n]]
    out["columns"] = ds.feature_names
    out["target_name"] = ds.output_names[0] if ds.output_names else "target"
    return out


IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}


def folder_counts(spec, base_dir, class_names):
    """Images per class subfolder of an image-folder dataset (all splits together), or None."""
    if not spec or spec.get("source") != "image_folder" or not class_names:
        return None
    root = Path(str(spec.get("path", ""))).expanduser()
    if not root.is_absolute() and base_dir is not None:
        root = Path(base_dir) / root
    counts = []
    for c in class_names:
        d = root / str(c)
        try:
            counts.append(sum(1 for f in d.iterdir() if f.suffix.lower() in IMAGE_EXT))
        except OSError:
            return None
    return np.asarray(counts)

"""The bad-input corpus through the window: every project file of the corpus is opened through File > Open.
A file that cannot be read is refused with a message naming it and the current project stays open, unchanged;
a file whose graph has problems opens and shows them. The window never crashes or lets an exception out."""
from __future__ import annotations

import json

from tests.corpus.bad_inputs import P, cases, write_case

from .test_editor_support import isolated, keras_loaded, win  # noqa: F401


def test_every_bad_project_file_is_answered_calmly(win, isolated, qtbot):
    before = win.project
    saved = json.dumps(before.to_dict(), sort_keys=True)
    failures = []
    opened = 0
    for case in (c for c in cases() if c.window):
        folder = isolated / case.id
        write_case(case, folder)
        path = folder / P
        win.last_error = None
        try:
            ok = win.files.open(str(path), ask=False)
        except Exception as e:   # noqa: BLE001 - the point of the test
            failures.append(f"{case.id}: {type(e).__name__}: {str(e)[:200]}")
            continue
        qtbot.wait(1)
        data_only = case.args[0] == "train"   # a dataset setting: the window may open it and say so in its data panel
        if 2 in case.codes and 1 not in case.codes and not (ok and data_only):
            # unreadable: refused, named, the current project untouched
            if ok:
                failures.append(f"{case.id}: opened, expected a refusal")
                win.files.open(str(isolated / "restore.layerwise"), ask=False)
                continue
            message = (win.last_error or ("", "", ""))[1]
            if str(path) not in message and P not in message:
                failures.append(f"{case.id}: the message does not name the file: {message[:200]!r}")
            if len(message) > 2000:
                failures.append(f"{case.id}: a message of {len(message)} characters")
            if win.project is not before or json.dumps(win.project.to_dict(), sort_keys=True) != saved:
                failures.append(f"{case.id}: the current project changed")
        elif ok:
            opened += 1
            win.document.infer_now()
            # the problems are shown, named by node, and the window still answers
            if 1 in case.codes and 2 not in case.codes and not win.document.result.problems:
                failures.append(f"{case.id}: opened without showing a problem")
            win.files.new()
            before = win.project
            saved = json.dumps(before.to_dict(), sort_keys=True)
    assert not failures, "\n".join(failures)
    assert opened >= 5

"""One editor widget per catalog Param kind. Each emits ``committed(value)`` with a value the user finished
entering; the inspector validates it with the catalog (``Param.value_error``) before it becomes an edit,
so invalid values are refused with the reason and the editor goes back to the node's value."""
from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QSizePolicy, QSpinBox, QWidget)

from core.catalog import ParamKind, format_value

from .. import safe

INT_MAX = 2_147_483_647


class FloatSpin(QDoubleSpinBox):
    """A QDoubleSpinBox that shows numbers compactly (1e-07, 0.0625, 32) and steps by about a tenth of
    the value's magnitude."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setKeyboardTracking(False)
        self.setRange(-1e12, 1e12)
        self.setAccelerated(True)

    def textFromValue(self, v):
        return f"{v:.6g}"

    def valueFromText(self, text):
        try:
            return float(text.strip().replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        t = text.strip().replace(",", ".")
        if t in ("", "-", "+", ".", "-.", "e", "E") or t.lower().endswith(("e", "e-", "e+")):
            return QValidator.State.Intermediate, text, pos
        try:
            float(t)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            return QValidator.State.Invalid, text, pos

    def stepBy(self, steps):
        v = self.value()
        if abs(v) < 1e-12:
            step = 0.1
        else:
            step = 10 ** math.floor(math.log10(abs(v))) * 0.1
        self.setValue(round(v + steps * step, 12))
        self.editingFinished.emit()


def compact(w, min_width=56):
    """Editors size to the panel, not to their range ("2147483647" would make a spin box 120 px wide)."""
    w.setMinimumWidth(min_width)
    w.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return w


class ParamEditor(QWidget):
    committed = Signal(object)
    tall = False   # several rows high (its label goes at the top of the row, not in the middle)

    def __init__(self, param, parent=None):
        super().__init__(parent)
        self.param = param
        self.lay = QHBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)
        self.lay.setSpacing(4)
        self.setToolTip(param.doc or "")

    _invalid = False

    def set_value(self, value):
        """Show ``value``. Whatever a file holds there (another JSON type, NaN, a huge number) never raises: a value
        the editor cannot show is replaced by the param's default, and a value the catalog would refuse marks the
        field invalid, with the reason in its tooltip."""
        try:
            why = self.param.value_error(value) if value is not None else None
        except Exception:  # noqa: BLE001 - a value of a type the check does not expect
            why = f"got {safe.clip(repr(value))}"
        shown = "it is shown as it is"
        try:
            if self._show(value) is False:
                shown = "the nearest value this field holds is shown"
        except (TypeError, ValueError, OverflowError, AttributeError, KeyError, IndexError):
            shown = "the default is shown"
            try:
                self._show(self.param.default)
            except (TypeError, ValueError, OverflowError, AttributeError, KeyError, IndexError):
                pass
        if why is None and not shown.startswith("it"):
            why = f"got {safe.clip(repr(value))}, which this field cannot show"
        self.set_invalid(why is not None, None if why is None else
                         f"The project's value is not usable ({safe.clip(why, safe.TIP_CHARS)}); {shown}")

    def _show(self, value):  # pragma: no cover - overridden
        """Put ``value`` in the widgets; False when only an approximation could be shown (raise when none)."""
        raise NotImplementedError

    def set_invalid(self, on: bool, reason=None):
        on = bool(on)
        tip = self.param.doc or ""
        self.setToolTip(f"{reason}\n\n{tip}".strip() if on and reason else tip)
        if on == self._invalid:
            return
        self._invalid = on
        for w in self.findChildren(QWidget):
            w.setProperty("invalid", "true" if on else "false")
            w.style().unpolish(w)
            w.style().polish(w)

    def is_invalid(self):
        return self._invalid


class IntEditor(ParamEditor):
    def __init__(self, param, parent=None, optional=False):
        super().__init__(param, parent)
        self.optional = optional
        self.spin = QSpinBox(self)
        self.spin.setKeyboardTracking(False)
        lo = int(param.min) if param.min is not None else -INT_MAX
        hi = int(param.max) if param.max is not None else INT_MAX
        if optional:
            lo = lo - 1
            self.spin.setSpecialValueText("default")
        self.spin.setRange(lo, hi)
        self.spin.setAccelerated(True)
        self.spin.valueChanged.connect(self._changed)
        compact(self.spin)
        self.lay.addWidget(self.spin)

    def _show(self, v):
        if v is None and self.optional:
            n, ok = self.spin.minimum(), True
        else:
            n, ok = safe.number(0 if v is None else v, None, self.spin.minimum(), self.spin.maximum(), whole=True)
            if n is None:
                raise ValueError(v)
        with QSignalBlocker(self.spin):
            self.spin.setValue(int(n))
        return ok

    def _changed(self, v):
        if self.optional and v == self.spin.minimum():
            self.committed.emit(None)
        else:
            self.committed.emit(int(v))


class FloatEditor(ParamEditor):
    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.spin = FloatSpin(self)
        lo = param.min if param.min is not None else -1e12
        hi = param.max if param.max is not None else 1e12
        self.spin.setRange(lo, hi)
        self.spin.editingFinished.connect(self._commit)
        compact(self.spin)
        self.lay.addWidget(self.spin)
        self._last = None

    def _show(self, v):
        f, ok = safe.number(0.0 if v is None else v, None, self.spin.minimum(), self.spin.maximum())
        if f is None:
            raise ValueError(v)
        self._last = f
        with QSignalBlocker(self.spin):
            self.spin.setValue(float(f))
        return ok

    def _commit(self):
        v = float(self.spin.value())
        if self._last is None or abs(v - float(self._last)) > 1e-15 * max(1.0, abs(v)):
            self._last = v
            self.committed.emit(v)


class _LineParamEditor(ParamEditor):
    """A param typed as text, parsed and committed by ``_commit`` when editing finishes."""
    placeholder = ""

    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(self.placeholder)
        compact(self.edit)
        self.edit.editingFinished.connect(self._commit)
        self.lay.addWidget(self.edit)
        self._last = None


class OptFloatEditor(_LineParamEditor):
    placeholder = "none"

    def _show(self, v):
        self._last = v
        with QSignalBlocker(self.edit):
            self.edit.setText("" if v is None else safe.clip(format_value(v), safe.EDIT_CHARS))

    def _commit(self):
        t = self.edit.text().strip()
        if t.lower() in ("", "none"):
            v = None
        else:
            try:
                v = float(t.replace(",", "."))
            except ValueError:
                v = t  # the inspector refuses it with the reason
        if v != self._last:
            self.committed.emit(v)


class BoolEditor(ParamEditor):
    def __init__(self, param, parent=None, text=""):
        super().__init__(param, parent)
        self.box = QCheckBox(text, self)
        self.box.toggled.connect(lambda on: self.committed.emit(bool(on)))
        self.lay.addWidget(self.box)
        self.lay.addStretch(1)

    def _show(self, v):
        with QSignalBlocker(self.box):
            self.box.setChecked(bool(v))


class ChoiceEditor(ParamEditor):
    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        for c in param.choices:
            self.combo.addItem("none" if c is None else str(c), c)
        self.combo.activated.connect(lambda i: self.committed.emit(self.combo.itemData(i)))
        compact(self.combo)
        self.lay.addWidget(self.combo, 1)

    def _show(self, v):
        with QSignalBlocker(self.combo):
            i = self.combo.findData(v)
            if i < 0:
                self.combo.addItem(safe.clip(str(v)), v)
                i = self.combo.count() - 1
            self.combo.setCurrentIndex(i)


class MultiChoiceEditor(ParamEditor):
    tall = True

    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        self.boxes = {}
        for i, c in enumerate(param.choices):
            b = QCheckBox(str(c), self)
            b.toggled.connect(self._changed)
            grid.addWidget(b, i // 2, i % 2)
            self.boxes[c] = b
        self.lay.addLayout(grid)

    def _show(self, v):
        v = set(v or [])
        for c, b in self.boxes.items():
            with QSignalBlocker(b):
                b.setChecked(c in v)

    def _changed(self):
        self.committed.emit([c for c, b in self.boxes.items() if b.isChecked()])


class IntsEditor(ParamEditor):
    """Fixed-length tuple (kernel size 3 × 3); ``optional`` adds an 'auto' box (strides of pooling)."""

    def __init__(self, param, parent=None, optional=False):
        super().__init__(param, parent)
        n = param.length or 2
        self.optional = optional
        self.auto = None
        if optional:
            self.auto = QCheckBox("auto", self)
            self.auto.setToolTip("use the default (for pooling: the pool size)")
            self.auto.toggled.connect(self._auto_toggled)
            self.lay.addWidget(self.auto)
        self.spins = []
        for i in range(n):
            if i:
                x = QLabel("×", self)
                x.setProperty("role", "muted")
                self.lay.addWidget(x)
            s = QSpinBox(self)
            s.setKeyboardTracking(False)
            s.setRange(int(param.min) if param.min is not None else 0, 65536)
            s.valueChanged.connect(self._changed)
            compact(s, 44)
            self.spins.append(s)
            self.lay.addWidget(s, 1)

    def _show(self, v):
        if isinstance(v, str):
            raise ValueError(v)
        if self.auto is not None:
            with QSignalBlocker(self.auto):
                self.auto.setChecked(v is None)
        vals = [v] * len(self.spins) if isinstance(v, int) else list(v or [])
        exact = True
        for s, x in zip(self.spins, vals + [s.value() for s in self.spins][len(vals):]):
            n, ok = safe.number(1 if x is None else x, None, s.minimum(), s.maximum(), whole=True)
            if n is None:
                raise ValueError(x)
            exact = exact and ok
            with QSignalBlocker(s):
                s.setValue(int(n))
            s.setEnabled(v is not None or self.auto is None)
        return exact

    def _auto_toggled(self, on):
        for s in self.spins:
            s.setEnabled(not on)
        self.committed.emit(None if on else [s.value() for s in self.spins])

    def _changed(self):
        self.committed.emit([s.value() for s in self.spins])


class ShapeEditor(_LineParamEditor):
    """A variable-length tuple typed as numbers separated by spaces or commas ("8 8 1", "-1")."""
    placeholder = "e.g. 28 28 1"

    def _show(self, v):
        if not isinstance(v, (list, tuple, type(None))):
            raise ValueError(v)
        self._last = v
        with QSignalBlocker(self.edit):
            self.edit.setText(safe.clip(" ".join("None" if x is None else str(x) for x in (v or [])), safe.EDIT_CHARS))

    def _commit(self):
        parts = self.edit.text().replace(",", " ").replace("×", " ").replace("(", " ").replace(")", " ").split()
        out = []
        for p in parts:
            if p.lower() in ("none", "?"):
                out.append(None)
                continue
            try:
                out.append(int(p))
            except ValueError:
                self.committed.emit(self.edit.text())  # refused with the reason by the inspector
                return
        if out != self._last:
            self.committed.emit(out)


class TextEditor(ParamEditor):
    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.edit = QLineEdit(self)
        self.edit.editingFinished.connect(self._commit)
        self.lay.addWidget(self.edit)

    _shown = None

    def _commit(self):
        if self.edit.text() != self._shown:   # a long text is shown shortened: leaving the field does not cut it
            self.committed.emit(self.edit.text())

    def _show(self, v):
        self._shown = "" if v is None else safe.clip(str(v), safe.EDIT_CHARS)
        with QSignalBlocker(self.edit):
            self.edit.setText(self._shown)


class ReadOnlyEditor(ParamEditor):
    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.label = QLabel(self)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.lay.addWidget(self.label)

    def _show(self, v):
        self.label.setText(safe.clip(format_value(v)))


class OptIntEditor(IntEditor):
    """An integer or None ("default", below the range)."""

    def __init__(self, param, parent=None):
        super().__init__(param, parent, optional=True)


class OptIntsEditor(IntsEditor):
    """A fixed-length tuple or None (the 'auto' box: the strides of pooling)."""

    def __init__(self, param, parent=None):
        super().__init__(param, parent, optional=True)


EDITORS: dict[ParamKind, type[ParamEditor]] = {   # the editor of each kind of param
    ParamKind.INT: IntEditor,
    ParamKind.OPTINT: OptIntEditor,
    ParamKind.FLOAT: FloatEditor,
    ParamKind.OPTFLOAT: OptFloatEditor,
    ParamKind.BOOL: BoolEditor,
    ParamKind.CHOICE: ChoiceEditor,
    ParamKind.MULTICHOICE: MultiChoiceEditor,
    ParamKind.INTS: IntsEditor,
    ParamKind.OPTINTS: OptIntsEditor,
    ParamKind.SHAPE: ShapeEditor,
    ParamKind.STR: TextEditor,
}


def make_editor(param, parent=None) -> ParamEditor:
    """The editor for ``param`` (``EDITORS`` by its kind; a choice without choices is shown read-only)."""
    cls = EDITORS.get(param.kind, ReadOnlyEditor)
    if cls is ChoiceEditor and not param.choices:
        cls = ReadOnlyEditor
    return cls(param, parent)


def align_label_columns(body: QWidget):
    """Give the label column of every form grid in ``body`` the same width, so editors line up across
    sections."""
    grids = [g for g in body.findChildren(QGridLayout) if g.parentWidget() is body]
    width = 0
    for g in grids:
        for r in range(g.rowCount()):
            it = g.itemAtPosition(r, 0)
            if it is not None and it.widget() is not None and g.itemAtPosition(r, 1) is not None:
                width = max(width, it.widget().sizeHint().width())
    for g in grids:
        g.setColumnMinimumWidth(0, width)


def label_for(name: str) -> str:
    """'kernel_size' -> 'Kernel size'."""
    s = name.replace("_", " ")
    return s[:1].upper() + s[1:]

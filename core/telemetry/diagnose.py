"""Problems in words from one probe record: vanishing and exploding gradients, NaN/inf (naming the first layer
where it appears), dead units, update ratios far from the usual range. Each problem carries a suggestion and the
numbers that triggered it."""
from __future__ import annotations

from dataclasses import dataclass, field

VANISH = 1e-3          # a layer's gradient per weight below this fraction of the output layer's
EXPLODE = 1e3          # ... above this multiple of it
EXPLODE_NORM = 1e4     # or a kernel gradient norm above this
DEAD = 0.5             # more than this fraction of the units dead
UPDATE_HIGH = 1e-1     # update / weight per step; about 1e-3 is usual
UPDATE_LOW = 1e-6


@dataclass(frozen=True)
class Problem:
    kind: str              # "nonfinite" | "vanishing" | "exploding" | "dead" | "update_large" | "update_small"
    layer: str             # the node (layer) name
    message: str
    numbers: dict = field(default_factory=dict, compare=False, hash=False)

    def __str__(self):
        return self.message

    def as_dict(self):
        return {"kind": self.kind, "layer": self.layer, "message": self.message, "numbers": dict(self.numbers)}


def _kernel_layers(layers):
    return [(n, d) for n, d in layers.items() if d.get("param") == "kernel" and d.get("kernel_grad_rms") is not None]


def nonfinite(layers):
    """The first layer (input to output) with NaN/inf in its weights, else in its output, else in its gradient."""
    for key, what in (("weights_nonfinite", "weights"), ("acts_nonfinite", "output"),
                      ("grads_nonfinite", "gradient")):
        for name, d in layers.items():
            if d.get(key):
                return Problem("nonfinite", name,
                               f"NaN/inf in the {what} of '{name}' (the first layer where it appears): lower the "
                               f"learning rate, check the data for NaN/inf, or clip gradients", {"where": what})
    return None


def gradient_scale(layers):
    """Vanishing / exploding problems: each kernel layer's gradient per weight against the output layer's."""
    ks = _kernel_layers(layers)
    if len(ks) < 2:
        return []
    ref_name, ref = ks[-1]
    r0 = ref["kernel_grad_rms"]
    out = []
    for name, d in ks[:-1]:
        g = d["kernel_grad_rms"]
        ratio = g / r0 if r0 > 0 else None
        nums = {"grad_rms": g, "output_grad_rms": r0, "ratio": ratio, "output_layer": ref_name}
        if ratio is not None and ratio < VANISH:
            out.append(Problem("vanishing", name,
                               f"vanishing gradients at '{name}': its gradient per weight is {g:.2e}, {ratio:.1e} "
                               f"of the output layer '{ref_name}''s ({r0:.2e}); try an initialiser matched to the "
                               f"activation (He for ReLU), ReLU instead of sigmoid/tanh, or batch normalisation", nums))
        elif (ratio is not None and ratio > EXPLODE) or (d.get("kernel_grad_norm") or 0) > EXPLODE_NORM:
            out.append(Problem("exploding", name,
                               f"exploding gradients at '{name}': gradient norm {d.get('kernel_grad_norm'):.2e}, "
                               f"{(ratio or float('nan')):.1e} times the output layer '{ref_name}''s per weight; lower "
                               f"the learning rate, clip gradients (clipnorm) or add normalisation", nums))
    return out


def dead_units(layers):
    out = []
    for name, d in layers.items():
        f = d.get("dead_fraction")
        if f is not None and f > DEAD:
            out.append(Problem("dead", name,
                               f"{f:.0%} of the units of '{name}' are dead (zero for every probe sample): lower the "
                               f"learning rate, use He initialisation, LeakyReLU/ELU, or batch normalisation before "
                               f"it", {"dead_fraction": f}))
    return out


def update_ratios(layers, lr=None):
    out = []
    at = f" (now {lr:g})" if isinstance(lr, float) else ""
    for name, d in layers.items():
        r = d.get("update_ratio")
        if r is None or r == 0 or d.get("param") != "kernel":
            continue   # no step measured, or a frozen layer
        nums = {"update_ratio": r, "usual": 1e-3}
        if r > UPDATE_HIGH:
            out.append(Problem("update_large", name,
                               f"the last step changed the weights of '{name}' by {r:.1e} of their size (about 1e-3 "
                               f"is usual): lower the learning rate{at}", nums))
        elif r < UPDATE_LOW:
            out.append(Problem("update_small", name,
                               f"the last step changed the weights of '{name}' by only {r:.1e} of their size (about "
                               f"1e-3 is usual): it barely learns; raise the learning rate{at} or fix vanishing "
                               f"gradients", nums))
    return out


def diagnose(record):
    """The problems one probe record shows (NaN/inf alone when there is any: the other figures mean nothing)."""
    layers = record.get("layers") or {}
    bad = nonfinite(layers)
    if bad is not None:
        return [bad]
    found = gradient_scale(layers) + dead_units(layers)
    if record.get("epoch", 1) > 0 or record.get("step", 99) >= 5:   # Adam's first steps are full size: no verdict
        found += update_ratios(layers, record.get("lr"))
    return found

"""The op registry (reram.ir.ops) owns each op kind: nothing outside it dispatches on an op's kind."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from reram.ir.ops import OPS, POOLS, float_forward

SRC = Path(__file__).resolve().parents[2] / "src" / "reram"

# a comparison with an op kind, a test of the conv geometry's presence, or a literal kind name in code
DISPATCH = re.compile(r"""kind\s*(==|!=|=)\s*["'](dense|conv2d)["']|\bconv\s+is\s+(not\s+)?None""")


def test_no_dispatch_on_op_kinds_outside_the_registry():
    allowed = {"ir/ops.py"}
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel in allowed:
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if DISPATCH.search(code):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert offenders == []


def test_every_op_has_its_parts():
    for kind, op in OPS.items():
        assert op.kind == kind
        assert isinstance(op.rtl_code, int)
    assert sorted(o.rtl_code for o in OPS.values()) == list(range(len(OPS)))
    assert set(POOLS) == {"max", "avg"}


def test_float_forward_is_the_torch_network(compiled_default, mnist_small):
    """The registry's float forward of the folded IR equals the trained torch model it was compiled from."""
    _, _, cm = compiled_default
    x = mnist_small["test_x"][:32].astype(np.float32) / 255.0
    out = float_forward(cm, x)
    model = mnist_small["model"].eval()
    with torch.no_grad():
        ref = model(torch.tensor(x).reshape(len(x), -1)).numpy()
    np.testing.assert_allclose(out[-1][1], ref, rtol=1e-4, atol=1e-4)

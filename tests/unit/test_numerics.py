"""`domain.numerics`: exp, log and tanh close to the C library's (`math`), the C
library's values at special inputs, no warnings; and the domain calls no numpy function
whose bits depend on the CPU (np.exp, np.log, np.tanh, BLAS products)."""

from __future__ import annotations

import ast
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from domain import numerics

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
# numpy functions whose kernel numpy or BLAS picks by CPU (their last bits differ).
CPU_DEPENDENT = {
    "exp", "log", "tanh", "expm1", "log1p", "log2", "log10", "exp2", "power", "sin",
    "cos", "tan", "sinh", "cosh", "arctan", "arctan2", "arcsin", "arccos", "cbrt",
    "float_power", "dot", "matmul", "inner", "outer", "tensordot", "vdot", "corrcoef",
    "cov", "linalg",
}  # fmt: skip
SAMPLES = 200_000


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Distance in units in the last place between two float64 arrays (same sign)."""
    a, b = got.view(np.int64), want.view(np.int64)
    return np.abs(a - b)


def _inputs(name: str) -> np.ndarray:
    rng = np.random.default_rng(11)
    n = SAMPLES // 4
    if name == "exp":
        parts = [rng.uniform(-745, 709, n), rng.normal(0, 1, n), rng.normal(0, 1e-3, n)]
        return np.concatenate([*parts, rng.uniform(-30, 30, n)])
    if name == "log":
        parts = [np.exp(rng.uniform(-700, 700, n)), rng.uniform(0.5, 2, n)]
        return np.concatenate([*parts, 1 + rng.normal(0, 1e-6, n), rng.uniform(1, 1e4, n)])
    parts = [rng.normal(0, 1, n), rng.normal(0, 1e-4, n), rng.uniform(-25, 25, n)]
    return np.concatenate([*parts, rng.uniform(-3, 3, n)])


@pytest.mark.parametrize(("name", "limit"), [("exp", 1), ("log", 1), ("tanh", 3)])
def test_function_when_random_inputs_then_within_limit_ulps_of_c_library(name, limit):
    xs = _inputs(name)
    want = np.array([getattr(math, name)(v) for v in xs.tolist()])
    got = getattr(numerics, name)(xs)
    assert np.all(np.sign(got) == np.sign(want))
    assert _ulps(got, want).max() <= limit


def test_function_when_special_inputs_then_c_library_values_and_no_warning():
    xs = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 709.79, -745.14, -1e-320, 1e-320])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = {name: getattr(numerics, name)(xs) for name in ("exp", "log", "tanh")}
    with np.errstate(all="ignore"):
        for name, values in got.items():
            np.testing.assert_array_equal(values, getattr(np, name)(xs), err_msg=name)
    assert np.signbit(numerics.tanh(np.array([-0.0])))[0]


def test_function_when_scalar_or_shaped_input_then_same_shape():
    assert numerics.log(2.0).shape == ()
    assert float(numerics.exp(0.0)) == 1.0
    assert numerics.tanh(np.zeros((3, 4))).shape == (3, 4)


def test_log_when_subnormal_or_near_sqrt2_then_within_one_ulp_of_c_library():
    rng = np.random.default_rng(12)
    tiny = rng.uniform(1, 2**52, 5_000) * 5e-324  # every subnormal magnitude
    near = rng.uniform(1.37, 1.43, 5_000) * 2.0 ** rng.integers(-1000, 1000, 5_000)
    xs = np.concatenate([tiny, near])  # near: fdlibm's other form (top fraction bits)
    want = np.array([math.log(v) for v in xs.tolist()])
    assert _ulps(numerics.log(xs), want).max() <= 1


@pytest.mark.parametrize("name", ["exp", "log", "tanh"])
def test_function_when_input_spans_chunks_then_bits_of_one_pass(name):
    function = getattr(numerics, name)
    xs = np.abs(_inputs(name)) if name == "log" else _inputs(name)
    grid = xs[: 3 * numerics.CHUNK].reshape(-1, 6)[:, ::2]  # 2-D, not contiguous
    assert grid.size > numerics.CHUNK and not grid.flags.c_contiguous
    one_pass = function.__wrapped__(grid)
    got = function(grid)
    assert got.shape == grid.shape and got.tobytes() == one_pass.tobytes()


def _cpu_dependent_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "np" and node.attr in CPU_DEPENDENT:
                found.append(f"{path.name}:{node.lineno} np.{node.attr}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append(f"{path.name}:{node.lineno} @")
    return found


def test_domain_when_scanned_then_no_cpu_dependent_numpy_call():
    offenders = [c for p in sorted(DOMAIN.rglob("*.py")) for c in _cpu_dependent_calls(p)]
    assert offenders == []


def test_scan_when_cpu_dependent_call_present_then_detected(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\ny = np.log(x) + np.dot(a, b) + a @ b + np.sqrt(x)\n")
    assert sorted(c.split(" ")[1] for c in _cpu_dependent_calls(bad)) == ["@", "np.dot", "np.log"]

"""A run gives the same message table whatever kernels numpy and BLAS pick for the CPU.

numpy dispatches many float64 loops by CPU feature (AVX-512 code on one machine, AVX2 or
the C library on another) and OpenBLAS picks its kernels by CPU; both change the last
bits of some results. The goldens were pinned on one machine; this test re-runs two of
them in fresh processes told to use other kernels (numpy's baseline loops only, through
`NPY_DISABLE_CPU_FEATURES`; an older OpenBLAS kernel, through `OPENBLAS_CORETYPE`) and
asserts the pinned message digest. It would fail if the domain went back to np.exp,
np.log, np.tanh or a BLAS product (tests/unit/test_numerics.py forbids those by name).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

from tests.golden.golden import CASES, load

REPO = Path(__file__).resolve().parents[2]
CHECKED = ("baseline", "large-synthetic")
SCRIPT = """
import json, sys, tempfile
from pathlib import Path
from tests.golden.golden import CASES, run_case
case = next(c for c in CASES if c.name == sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    print(json.dumps(run_case(case, Path(tmp) / "run.db").fingerprint["message_sha256"]))
"""

CORRELATIONS = """
import hashlib
import numpy as np
from domain.construction.buckets import abs_correlations
rng = np.random.default_rng(5)
h = hashlib.sha256()
for rows, m in ((20, 2), (60, 30), (120, 60), (250, 90)):
    block = rng.normal(0.0, 0.01, (rows, 1)) + rng.normal(0.0, 0.01, (rows, m))
    h.update(abs_correlations(block, 20).tobytes())
print(h.hexdigest())
"""


def _found_dispatch_targets() -> list[str]:
    return [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]


def _avx2() -> bool:
    return bool(__cpu_features__.get("AVX2"))


KERNELS = {
    "numpy-baseline-loops-prescott-blas": {
        "NPY_DISABLE_CPU_FEATURES": " ".join(_found_dispatch_targets()),
        "OPENBLAS_CORETYPE": "Prescott",
    },
    "numpy-without-avx512-haswell-blas": {
        "NPY_DISABLE_CPU_FEATURES": " ".join(
            f for f in _found_dispatch_targets() if f.startswith(("X86_V4", "AVX512"))
        ),
        "OPENBLAS_CORETYPE": "Haswell",
    },
}


def _fresh_process(env: dict[str, str], script: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("kernels", sorted(KERNELS))
@pytest.mark.parametrize("case", CHECKED)
def test_run_when_other_cpu_kernels_forced_then_pinned_message_table(case, kernels):
    if kernels.endswith("haswell-blas") and not _avx2():
        pytest.skip("OpenBLAS's Haswell kernels need a CPU with AVX2")
    pinned = load(next(c for c in CASES if c.name == case))
    assert pinned is not None
    digest = json.loads(_fresh_process(KERNELS[kernels], SCRIPT, case))
    assert digest == pinned.fingerprint["message_sha256"]


def test_correlations_when_other_cpu_kernels_forced_then_same_bits():
    # Blocks of 30 columns and more: where OpenBLAS's kernels sum a product differently.
    default = _fresh_process({}, CORRELATIONS)
    for name, env in KERNELS.items():
        if name.endswith("haswell-blas") and not _avx2():
            continue
        assert _fresh_process(env, CORRELATIONS) == default, name

"""The kernel tests again under numba's checking modes, each in a fresh process.

``NUMBA_BOUNDSCHECK=1`` compiles every kernel with bounds checks (an index out
of range raises IndexError instead of reading stray memory); it gets its own
cache directory so that the checked builds never replace the package's cache.
``NUMBA_DISABLE_JIT=1`` runs the kernels as plain Python, which checks the
Python semantics of the kernel code (and lets coverage see it).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("mode", ["NUMBA_BOUNDSCHECK", "NUMBA_DISABLE_JIT"])
def test_kernel_tests_pass_under_numba_checking_mode(mode, tmp_path):
    """tests/test_numba_kernels.py passes with bounds checking on, and without the JIT."""
    env = {**os.environ, mode: "1", "NUMBA_CACHE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "test_numba_kernels.py")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout

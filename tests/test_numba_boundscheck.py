"""The numba kernels never index out of bounds: a run with NUMBA_BOUNDSCHECK=1.

numba reads ``NUMBA_BOUNDSCHECK`` when it compiles, and its on-disk cache
(``cache=True``) is keyed by signature and bytecode, not by that flag: a kernel
compiled without bounds checks would be loaded as it is. So the run happens in
a child process with an empty ``NUMBA_CACHE_DIR`` of its own, which compiles
every kernel it uses afresh, with bounds checks. The child first proves that
the checks are on (an out-of-bounds read in its own jitted function, in this
package's kernels and in the plugin's kernels raises ``IndexError``), then fits,
predicts, embeds and streams on ragged data with edge lengths (1, the maximum,
mixed) for every built-in cell and the plugin kernel cell "direct",
bidirectional and two layers deep, and for the per-step tagger and truncated
BPTT. Any out-of-bounds access there raises ``IndexError`` in the child.
"""

import os
import subprocess
import sys
import textwrap
import time

import pytest

CHILD = textwrap.dedent(
    """
    import warnings

    import numba
    import numpy as np
    from numba import njit

    assert numba.config.BOUNDSCHECK, "NUMBA_BOUNDSCHECK=1 was not read"


    @njit
    def read_past_the_end(a):
        return a[a.shape[0]]


    def raises_index_error(function, *args):
        try:
            function(*args)
        except IndexError:
            return True
        return False


    from sklearn_rnn._numba import kernels
    from sklearn_rnn_feedback import _kernels as plugin_kernels

    short, long = np.zeros(1, np.float32), np.zeros(4, np.float32)
    assert raises_index_error(read_past_the_end, long), "bounds checks are off in the child"
    assert raises_index_error(kernels._copy, short, long), "package kernels are not checked"
    assert raises_index_error(plugin_kernels._copy, short, long), "plugin kernels are not checked"

    from sklearn.exceptions import ConvergenceWarning

    from sklearn_rnn import RecurrentClassifier, RecurrentRegressor, SequenceTagger

    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.RandomState(0)
    MAX = 7
    lengths = [1, MAX, 3, 1, MAX, 2, 5, 1]  # edge lengths mixed in one batch
    X = [rng.normal(size=(n, 3)).astype(np.float32) for n in lengths]
    y = np.array([0, 1] * 4)
    batches = {
        "mixed": X,
        "all length 1": [x[:1] for x in X],
        "all the maximum": [rng.normal(size=(MAX, 3)) for _ in range(3)],
        "one sequence of length 1": X[:1],
        "3-D": rng.normal(size=(2, MAX, 3)),
    }
    runs = 0
    for cell in ("rnn", "lstm", "gru", "direct"):
        for bidirectional in (False, True):
            for num_layers in (1, 2):
                est = RecurrentRegressor(
                    cell=cell, bidirectional=bidirectional, num_layers=num_layers,
                    hidden_size=4, max_iter=2, batch_size=3, backend="numba", random_state=0,
                ).fit(X, y.astype(float))
                random = [  # ragged batches of 1 to 9 sequences of 1 to MAX steps
                    [rng.normal(size=(rng.randint(1, MAX + 1), 3))
                     for _ in range(rng.randint(1, 10))]
                    for _ in range(5)
                ]
                for batch in [*batches.values(), *random]:
                    n = len(batch)
                    assert np.isfinite(est.predict(batch)).all()
                    assert est.transform(batch).shape == (n, 4 * (1 + bidirectional))
                if not bidirectional:
                    state = est.init_state(2)
                    for t in range(MAX):
                        out, state = est.predict_step(rng.normal(size=(2, 3)), state)
                    assert np.isfinite(out).all()
                runs += 1
        tagger = SequenceTagger(
            cell=cell, num_layers=2, hidden_size=4, max_iter=2, batch_size=3,
            backend="numba", random_state=0,
        ).fit(X, [rng.randint(0, 2, size=n) for n in lengths])
        assert [len(p) for p in tagger.predict(X)] == lengths
        RecurrentClassifier(
            cell=cell, tbptt_steps=2, hidden_size=4, max_iter=2, batch_size=3,
            backend="numba", random_state=0,
        ).fit(X, y)
        runs += 2
    print(f"OK {runs} models")
    """
)


def test_kernels_stay_in_bounds(tmp_path):
    """Fit, predict, transform and stream on edge-length ragged data with bounds checks on."""
    pytest.importorskip("sklearn_rnn_feedback")
    cache = tmp_path / "numba_cache"
    cache.mkdir()
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(cache)}
    env.pop("NUMBA_DISABLE_JIT", None)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=600
    )
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, f"child failed after {elapsed:.0f} s:\n{result.stderr[-4000:]}"
    assert result.stdout.strip() == "OK 24 models", result.stdout
    # Every kernel was compiled in the child (with the checks), not loaded from elsewhere.
    compiled = {path.name for path in cache.rglob("*.nbi")}
    assert any(name.startswith("kernels.") for name in compiled), sorted(compiled)

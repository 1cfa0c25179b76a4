"""Compiler options of every numba kernel, in one place.

``JIT_OPTIONS`` is passed to every ``@njit`` of this package:

* ``cache=True``: compiled kernels are written next to the source (or to
  ``NUMBA_CACHE_DIR``) and loaded by later processes instead of recompiling
  (about 8 s of compiling, 0.2 s of loading, see benchmarks/numba_kernels.py).
  Kernels take no jitted function as argument and read no module global, both
  of which would defeat or stale the cache. The cache is invalidated by edits
  of ``kernels.py`` only, not of this file: after changing an option here,
  delete ``sklearn_rnn/_numba/__pycache__``.
* ``fastmath`` allows reassociation (vectorised dot products and sums),
  contraction into FMA, approximate reciprocals/functions and ignoring the sign
  of zero, but *not* ``nnan``/``ninf``: NaN and infinity still propagate, so a
  diverging model shows up as NaN instead of as silently wrong numbers.
* ``error_model="numpy"``: division by zero gives inf/NaN instead of raising,
  which removes a branch from every division and lets the loops vectorise.
* ``nogil=True``: a caller may run kernels on several threads.
* No ``parallel=True``. A parallel kernel on numba's default threading layer
  (OpenMP when available) shares torch's OpenMP runtime: in a prototype it
  raised torch to 2 threads and the next ``nn.LSTM`` call went from 0.2 ms to
  800 ms. The kernels are serial; parallelism, if any, belongs to the caller
  (several batches on several threads, which ``nogil`` allows).
* ``boundscheck`` is left unset so that ``NUMBA_BOUNDSCHECK=1`` turns it on
  for a test run.
"""

# Every LLVM fast-math flag except "nnan" and "ninf".
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

JIT_OPTIONS = {
    "cache": True,
    "fastmath": FASTMATH,
    "error_model": "numpy",
    "nogil": True,
}

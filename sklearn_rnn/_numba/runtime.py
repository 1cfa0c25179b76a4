"""How the kernels run: BLAS on one thread, denormal floats flushed to zero.

Whole-sequence calls of :mod:`sklearn_rnn._numba.cells` run inside
:class:`kernel_runtime`, which sets both for the duration of the call and then
restores what the caller had.

One BLAS thread
---------------
The kernels use BLAS twice: ``np.dot`` inside the kernels for the per-step
recurrent product of a batch and for the input projection, which numba sends
to the OpenBLAS that SciPy bundles, and NumPy's ``matmul`` for the weight
gradients, on NumPy's own OpenBLAS -- two thread pools. Left alone, each
starts one thread per core and keeps it spinning after a call; between the
many small per-step products and torch's own OpenMP threads (the autograd
bridge alternates torch and kernels), those pools fight for the same cores.
Measured on 2 cores, an LSTM (batch 8, 100 steps, hidden 64) alternating with
a 2-thread torch forward: forward+backward 1.5 ms with one BLAS thread, 3.7 ms
with the default two, and torch's next forward 0.8 ms vs 4.3 ms. With one
thread, a kernel's speed depends less on what else runs, and BLAS runs on the
calling thread, where the floating-point mode below applies. The kernels
are serial too (see ``config``): parallelism, where wanted, is for the caller
to add over batches (the kernels release the GIL). The BLAS thread counts are
process-wide: they are saved by the first thread in and restored by the last
one out. The libraries are found once, on first use, with threadpoolctl (a
scikit-learn dependency), after importing SciPy's BLAS so that it is among
them.

Denormals flushed to zero
-------------------------
Gradients flowing back through hundreds of steps decay below the smallest
normal float (1.2e-38 in float32) and x86 CPUs compute on such denormal
floats many times slower. Measured here (LSTM, batch 64, 500 steps, hidden
128, loss on the final state only, float32): the backward pass took 1180 ms,
and 111 ms with flushing; GRU 840 -> 108 ms, RNN 230 -> 26 ms; forward
passes were unaffected. ``torch.set_flush_denormal(True)`` would reach the
kernels too (the mode is per thread, and the measurement above used it), but
the kernels must not depend on the caller's setting and the prediction path
must not import torch. So on x86 the runtime sets the flush-to-zero and
denormals-are-zero bits of this thread's MXCSR itself
(:func:`~sklearn_rnn._numba.kernels.set_mxcsr_bits`, one LLVM intrinsic) and
restores the caller's value on exit: it reaches the kernels and the one-thread
BLAS, but no other thread and nothing after the call. Only values below
1.2e-38 (float32) or 2.2e-308 (float64) change: they become 0. Elsewhere
(not measured; many ARM cores handle denormals without a large penalty) and
under ``NUMBA_DISABLE_JIT=1`` the mode is left alone. ``step`` never changes
it: one step does not produce denormals, and it is built for the smallest
cost per call (it switches BLAS threads only for several streams).

Cost of entering and leaving: about 5 us, paid once per whole-sequence call.
"""

import platform
import threading

import numba

from . import kernels

_FTZ_DAZ = 0x8040  # MXCSR bits: flush to zero (15), denormals are zero (6)
_X86 = platform.machine().lower() in {"x86_64", "amd64", "i386", "i686", "x86"}

_lock = threading.Lock()
_controllers = None  # threadpoolctl controllers of the loaded BLAS libraries
_depth = 0  # how many calls are inside, over all threads
_saved_threads = []  # BLAS thread counts before the outermost entry


def _blas_controllers():
    global _controllers
    if _controllers is None:
        import scipy.linalg.cython_blas  # noqa: F401  (the BLAS numba's np.dot calls)
        from threadpoolctl import ThreadpoolController

        _controllers = ThreadpoolController().select(user_api="blas").lib_controllers
    return _controllers


def flushes_denormals():
    """Whether :class:`kernel_runtime` flushes denormals on this platform."""
    return _X86 and not numba.config.DISABLE_JIT


class single_threaded_blas:
    """Context manager: every BLAS library on one thread inside."""

    __slots__ = ()

    def __enter__(self):
        global _depth, _saved_threads
        controllers = _blas_controllers()
        with _lock:
            if _depth == 0:
                _saved_threads = [c.get_num_threads() for c in controllers]
                for c, n in zip(controllers, _saved_threads):
                    if n != 1:
                        c.set_num_threads(1)
            _depth += 1
        return self

    def __exit__(self, *exc_info):
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0:
                for c, n in zip(_controllers, _saved_threads):
                    if n != 1:
                        c.set_num_threads(n)
        return False


class kernel_runtime(single_threaded_blas):
    """Context manager: one BLAS thread and, on x86, denormals flushed to zero."""

    __slots__ = ("_mxcsr",)

    def __enter__(self):
        super().__enter__()
        self._mxcsr = None
        if flushes_denormals():
            self._mxcsr = kernels.set_mxcsr_bits(_FTZ_DAZ, 0xFFFFFFFF)
        return self

    def __exit__(self, *exc_info):
        if self._mxcsr is not None:
            kernels.set_mxcsr_bits(self._mxcsr, self._mxcsr)
        return super().__exit__(*exc_info)

"""Fuzzing every entry point with malformed input (hypothesis).

Each test feeds generated input, valid and malformed, to one entry point of
the fitted (or unfitted, for ``fit``) estimators on both backends. The only
acceptable outcomes are

* success, with finite output of the right shape, where the input was valid;
* a ``ValueError`` or ``TypeError`` (of Python, scikit-learn or sklearn-rnn,
  never of torch, numba or NumPy's indexing) whose message says what is wrong.

Every generated case carries a verdict: "valid" input must succeed,
"invalid" input must be refused, and "either" input (finite but extreme
values, containers that are arguably sequences) may go either way, but
success must still give finite, correctly shaped output. The example counts
are fixed (``derandomize=True``) so that CI runs the same cases every time;
docs/reliability.md lists them.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_rnn import (
    CharLanguageModel,
    RecurrentClassifier,
    RecurrentRegressor,
    RNNForecaster,
    Seq2SeqClassifier,
    Seq2SeqRegressor,
    SequenceGenerator,
    SequenceTagger,
    StepwiseRegressor,
)
from sklearn_rnn._stream_state import StreamState

N_FEATURES = 2  # of every fitted model

# Expected along the way: R^2 of one target, scikit-learn's metrics on extreme values, and
# load's warning about a file with non-finite weights.
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.UndefinedMetricWarning",
    r"ignore::RuntimeWarning:sklearn\.",
    "ignore:.*holds NaN or infinite weights:UserWarning",
)


def fuzz(max_examples):
    """Hypothesis settings of a fuzz test: a fixed, reproducible set of examples."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# --- the judge --------------------------------------------------------------------------

# Where an acceptable exception class may come from: never torch, numba or NumPy
# (numpy's AxisError is a ValueError, but one about indexing, not about the input).
_OWN_MODULES = ("builtins", "sklearn_rnn", "sklearn")


def _acceptable(exc):
    return (
        isinstance(exc, (ValueError, TypeError))
        and not isinstance(exc, LookupError)
        and type(exc).__module__.split(".")[0] in _OWN_MODULES
        and len(str(exc)) >= 15
    )


def judge(call, verdict, check=None):
    """Run ``call``; fail unless its outcome is acceptable for ``verdict``.

    Returns the result on success and None when the call was refused.
    """
    assert verdict in ("valid", "invalid", "either")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # An overflow or invalid value in NumPy, in this package's code, is a
            # silent wrong result.
            warnings.filterwarnings("error", category=RuntimeWarning, module=r"sklearn_rnn\.")
            result = call()
    except Exception as exc:  # judged below
        if not _acceptable(exc):
            raise AssertionError(
                f"{verdict} input raised {type(exc).__module__}.{type(exc).__name__}: {exc}"
            ) from exc
        if verdict == "valid":
            raise AssertionError(f"valid input was refused: {type(exc).__name__}: {exc}") from exc
        event(f"{verdict} input: {type(exc).__name__}")
        return None
    event(f"{verdict} input: success")
    assert verdict != "invalid", f"invalid input was accepted, giving {result!r:.200}"
    if check is not None:
        check(result)
    return result


def assert_finite(values, what="output"):
    values = np.asarray(values, dtype=np.float64)
    assert np.isfinite(values).all(), f"{what} is not finite: {values!r:.200}"


# --- generated sequences ------------------------------------------------------------------


@dataclass
class Case:
    """A generated input and what must happen to it."""

    value: object
    verdict: str  # "valid", "invalid" or "either"
    kind: str
    n_samples: int = 0
    lengths: list = field(default_factory=list)
    array_format: bool = False  # whether per-step outputs come back as one array


def _values(draw, shape, dtype=np.float32):
    """Normal values of ``shape`` (seeded by hypothesis) in ``dtype``."""
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    scale = draw(st.sampled_from([1.0, 1e-3, 1e3]))
    values = rng.normal(size=shape) * scale
    if np.dtype(dtype).kind == "b":
        return values > 0
    if np.dtype(dtype).kind in "iu":
        return np.round(values).astype(dtype)
    return values.astype(dtype)


def _inject(draw, array, values):
    """A copy of float ``array`` with one entry (or all) replaced by one of ``values``."""
    array = np.array(array, dtype=np.result_type(array.dtype, np.float32), copy=True)
    value = draw(st.sampled_from(values))
    if draw(st.booleans()):
        array.flat[draw(st.integers(0, array.size - 1))] = value
    else:
        array[...] = value
    return array


VALID_DTYPES = [np.float32, np.float64, np.int64, np.int8, np.uint8, np.float16, np.bool_]
NONFINITE = [np.nan, np.inf, -np.inf]
EXTREME_FLOAT32 = [3e38, -3e38, 1e38, 1e-45, -1e-40]  # finite in float32
OVERFLOW_FLOAT32 = [1e39, -1e300, 1e300, 1.7e308]  # finite in float64 only


WELL_FORMED = [
    "3d", "3d_list", "ragged", "ragged_tuple", "ragged_object", "ragged_lists", "ragged_frames",
    "2d", "2d_frame", "ragged_1d", "extreme32", "int_extreme", "series",
]
MALFORMED = [
    "nonfinite", "ragged_nonfinite", "overflow64", "none", "scalar", "string", "bytes", "dict",
    "set", "1d", "1d_list", "4d", "wrong_features", "ragged_wrong_features", "zero_samples",
    "zero_steps", "zero_features", "empty_list", "ragged_empty_step", "ragged_mixed_features",
    "ragged_none", "ragged_string", "ragged_dict", "ragged_3d_item", "ragged_inhomogeneous",
    "str_array", "numeric_str_array", "object_none", "complex", "ragged_complex", "datetime",
    "timedelta", "list_of_strings", "nested_dicts",
]


@st.composite
def sequences(draw, n_features=N_FEATURES, fitted=True):
    """Sequence input ``X`` of every kind; ``n_features=None`` draws it (before fit)."""
    F = draw(st.integers(1, 3)) if n_features is None else n_features
    n = draw(st.integers(1, 4))
    lengths = [draw(st.integers(1, 5)) for _ in range(n)]
    T = max(lengths)
    # 2-D input is univariate: valid if the model has (or will get) one feature.
    uni = "valid" if F == 1 or n_features is None else "invalid"
    # Half the cases well-formed (some extreme), half malformed.
    kind = draw(st.one_of(st.sampled_from(WELL_FORMED), st.sampled_from(MALFORMED)))
    case = lambda value, verdict, **kw: Case(value, verdict, kind, **kw)  # noqa: E731
    ragged = lambda xs: dict(n_samples=len(xs), lengths=[len(x) for x in xs])  # noqa: E731
    full = dict(n_samples=n, lengths=[T] * n, array_format=True)

    def arrays(dtype=np.float32, width=F):
        return [_values(draw, (length, width), dtype) for length in lengths]

    if kind == "3d":
        dtype = draw(st.sampled_from(VALID_DTYPES))
        return case(_values(draw, (n, T, F), dtype), "valid", **full)
    if kind == "3d_list":
        return case(_values(draw, (n, T, F), np.float64).tolist(), "valid", **full)
    if kind == "ragged":
        xs = arrays(draw(st.sampled_from(VALID_DTYPES)))
        return case(xs, "valid", **ragged(xs))
    if kind == "ragged_tuple":
        xs = arrays()
        return case(tuple(xs), "valid", **ragged(xs))
    if kind == "ragged_object":
        xs = arrays()
        obj = np.empty(len(xs), dtype=object)
        obj[:] = xs
        return case(obj, "valid", **ragged(xs))
    if kind == "ragged_lists":
        xs = arrays(np.float64)
        return case([x.tolist() for x in xs], "valid", **ragged(xs))
    if kind == "ragged_frames":
        xs = arrays(np.float64)
        return case([pd.DataFrame(x) for x in xs], "valid", **ragged(xs))
    if kind == "2d":
        return case(_values(draw, (n, T)), uni, **full)
    if kind == "2d_frame":
        return case(pd.DataFrame(_values(draw, (n, T), np.float64)), uni, **full)
    if kind == "ragged_1d":  # univariate ragged: (T_i,) items
        xs = [_values(draw, (length,)) for length in lengths]
        return case(xs, uni, **ragged(xs))
    if kind == "extreme32":
        x = _inject(draw, _values(draw, (n, T, F)), EXTREME_FLOAT32)
        return case(x, "either", **full)
    if kind == "int_extreme":
        info = np.iinfo(draw(st.sampled_from([np.int64, np.uint64, np.int32])))
        x = np.full((n, T, F), draw(st.sampled_from([info.min, info.max])), dtype=info.dtype)
        return case(x, "either", **full)
    if kind == "nonfinite":
        return case(_inject(draw, _values(draw, (n, T, F)), NONFINITE), "invalid")
    if kind == "ragged_nonfinite":
        xs = arrays(np.float64)
        i = draw(st.integers(0, n - 1))
        xs[i] = _inject(draw, xs[i], NONFINITE)
        return case(xs, "invalid")
    if kind == "overflow64":
        x = _inject(draw, _values(draw, (n, T, F), np.float64), OVERFLOW_FLOAT32)
        return case(x, "invalid")
    if kind == "none":
        return case(None, "invalid")
    if kind == "scalar":
        return case(draw(st.sampled_from([1.5, 0, np.float32(2.0), np.array(3.0)])), "invalid")
    if kind == "string":
        return case(draw(st.sampled_from(["abc", "", "1.5"])), "invalid")
    if kind == "bytes":
        return case(b"\x00\x01", "invalid")
    if kind == "dict":
        return case({"X": _values(draw, (n, T, F))}, "invalid")
    if kind == "set":
        return case({1.0, 2.0}, "invalid")
    if kind == "1d":
        return case(_values(draw, (T,)), "invalid")
    if kind == "1d_list":
        return case(_values(draw, (T,), np.float64).tolist(), "invalid")
    if kind == "4d":
        return case(_values(draw, (n, T, F, 2)), "invalid")
    if kind == "wrong_features":
        wrong = draw(st.sampled_from([f for f in (1, 2, 3, 4) if f != F]))
        x = _values(draw, (n, T, wrong))
        return case(x, "invalid" if fitted else "valid", **full)
    if kind == "ragged_wrong_features":
        wrong = F + 1
        xs = arrays(width=wrong)
        return case(xs, "invalid" if fitted else "valid", **ragged(xs))
    if kind == "zero_samples":
        return case(np.zeros((0, T, F), np.float32), "invalid")
    if kind == "zero_steps":
        return case(np.zeros((n, 0, F), np.float32), "invalid")
    if kind == "zero_features":
        return case(np.zeros((n, T, 0), np.float32), "invalid")
    if kind == "empty_list":
        return case(draw(st.sampled_from([[], (), np.empty(0, dtype=object)])), "invalid")
    if kind == "ragged_empty_step":
        xs = arrays()
        xs[draw(st.integers(0, n - 1))] = np.zeros((0, F), np.float32)
        return case(xs, "invalid")
    if kind == "ragged_mixed_features":
        xs = arrays() + [_values(draw, (2, F + 1))]
        return case(xs, "invalid")
    if kind == "ragged_none":
        xs = arrays()
        xs.insert(draw(st.integers(0, n)), None)
        return case(xs, "invalid")
    if kind == "ragged_string":
        xs = arrays()
        xs.insert(draw(st.integers(0, n)), draw(st.sampled_from(["abc", "1.5", ""])))
        return case(xs, "invalid")
    if kind == "ragged_dict":
        xs = arrays()
        xs.insert(draw(st.integers(0, n)), {"a": 1.0})
        return case(xs, "invalid")
    if kind == "ragged_3d_item":
        xs = arrays()
        xs.insert(draw(st.integers(0, n)), _values(draw, (2, 2, F)))
        return case(xs, "invalid")
    if kind == "ragged_inhomogeneous":
        return case([[[1.0] * F, [2.0] * (F + 1)], [[1.0] * F]], "invalid")
    if kind == "str_array":
        return case(np.full((n, T, F), "x"), "invalid")
    if kind == "numeric_str_array":
        return case(_values(draw, (n, T, F)).astype(str), "invalid")
    if kind == "object_none":
        x = _values(draw, (n, T, F)).astype(object)
        x.flat[draw(st.integers(0, x.size - 1))] = None
        return case(x, "invalid")
    if kind == "complex":
        return case(_values(draw, (n, T, F)) + 1j, "invalid")
    if kind == "ragged_complex":
        xs = arrays()
        xs[-1] = xs[-1] + 0j
        return case(xs, "invalid")
    if kind == "datetime":
        return case(np.full((n, T, F), np.datetime64("2020-01-01")), "invalid")
    if kind == "timedelta":
        return case(np.full((n, T, F), np.timedelta64(1, "s")), "invalid")
    if kind == "list_of_strings":
        return case(["abc", "de"], "invalid")
    if kind == "nested_dicts":
        return case([[{"a": 1}]], "invalid")
    if kind == "series":  # a pandas Series of sequences: an object column of arrays
        xs = arrays()
        return case(pd.Series(xs), "valid", **ragged(xs))
    raise AssertionError(kind)  # pragma: no cover


# --- fitted models ----------------------------------------------------------------------------

BACKENDS = ["torch", "numba"]
TINY = dict(hidden_size=3, max_iter=2, batch_size=8, random_state=0)


def _train_X():
    rng = np.random.RandomState(0)
    return [rng.normal(size=(length, N_FEATURES)) for length in (2, 5, 3, 4, 1, 5)]


@pytest.fixture(scope="module")
def models():
    """A tiny fitted model of each many-to-one and per-step estimator on each backend."""
    X = _train_X()
    labels = np.array([0, 1, 0, 1, 1, 0])
    values = np.array([x[:, 0].sum() for x in X])
    step_labels = [np.where(x[:, 0] > 0, "up", "down") for x in X]
    step_values = [np.c_[x[:, 0], x[:, 1]] for x in X]
    cells = {"torch": ("lstm", "gru"), "numba": ("gru", "rnn")}
    fitted = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for backend in BACKENDS:
            a, b = cells[backend]
            common = dict(backend=backend, **TINY)
            fitted["classifier", backend] = RecurrentClassifier(cell=a, **common).fit(X, labels)
            fitted["regressor", backend] = RecurrentRegressor(
                cell=b, num_layers=2, **common
            ).fit(X, values)
            fitted["tagger", backend] = SequenceTagger(
                cell=b, bidirectional=False, **common
            ).fit(X, step_labels)
            fitted["stepwise", backend] = StepwiseRegressor(
                cell=a, bidirectional=False, **common
            ).fit(X, step_values)
            fitted["bidirectional", backend] = RecurrentClassifier(
                cell=a, bidirectional=True, **common
            ).fit(X, labels)
    return fitted


KINDS = ["classifier", "regressor", "tagger", "stepwise", "bidirectional"]
model_keys = st.tuples(st.sampled_from(KINDS), st.sampled_from(BACKENDS))


# --- prediction ------------------------------------------------------------------------------


def _check_per_sample(case, n_columns=None):
    def check(out):
        assert len(out) == case.n_samples, f"{len(out)} outputs for {case.n_samples} samples"
        out = np.asarray(out)
        if n_columns is not None:
            assert out.shape == (case.n_samples, n_columns), out.shape
        if out.dtype.kind in "fc":
            assert_finite(out)

    return check


def _check_per_step(case, tail=()):
    def check(out):
        if case.array_format:
            assert np.shape(out) == (case.n_samples, case.lengths[0], *tail), np.shape(out)
            assert_finite(out) if np.asarray(out).dtype.kind == "f" else None
            return
        assert isinstance(out, list) and len(out) == case.n_samples
        for steps, length in zip(out, case.lengths):
            assert np.shape(steps) == (length, *tail), (np.shape(steps), length)
            if np.asarray(steps).dtype.kind == "f":
                assert_finite(steps)

    return check


@fuzz(1500)
@given(key=model_keys, case=sequences())
def test_fuzz_predict(models, key, case):
    """predict: labels or values of the right shape, or a clear error."""
    est = models[key]
    if key[0] in ("tagger", "stepwise"):
        tail = (2,) if key[0] == "stepwise" else ()
        check = _check_per_step(case, tail)
    else:
        check = _check_per_sample(case)
    out = judge(lambda: est.predict(case.value), case.verdict, check)
    if out is not None and key[0] in ("classifier", "bidirectional"):
        assert set(np.asarray(out).tolist()) <= set(est.classes_.tolist())


@fuzz(600)
@given(key=model_keys.filter(lambda k: k[0] != "regressor" and k[0] != "stepwise"),
       case=sequences(), log=st.booleans())
def test_fuzz_predict_proba(models, key, case, log):
    """predict_proba (and predict_log_proba): probabilities that sum to one, or a clear error."""
    est = models[key]
    if log and key[0] == "tagger":
        log = False  # the tagger has no predict_log_proba
    n_classes = len(est.classes_)
    if key[0] == "tagger":
        check = _check_per_step(case, (n_classes,))
    else:
        check = _check_per_sample(case, n_classes)
    method = est.predict_log_proba if log else est.predict_proba
    out = judge(lambda: method(case.value), case.verdict, check)
    if out is not None:
        rows = np.concatenate([np.asarray(p).reshape(-1, n_classes) for p in out])
        np.testing.assert_allclose((np.exp(rows) if log else rows).sum(axis=1), 1.0, rtol=1e-6)


@fuzz(600)
@given(key=st.tuples(st.sampled_from(["classifier", "regressor", "bidirectional"]),
                     st.sampled_from(BACKENDS)),
       case=sequences())
def test_fuzz_transform(models, key, case):
    """transform: one finite embedding per sequence, or a clear error."""
    est = models[key]
    width = est.hidden_size * (2 if est.bidirectional else 1)
    judge(lambda: est.transform(case.value), case.verdict, _check_per_sample(case, width))


@st.composite
def targets(draw, kind, case, labels=None):
    """``(y, verdict, choice)`` for ``kind`` of estimator and the sequences of ``case``."""
    n, lengths = case.n_samples, case.lengths
    if n == 0:  # the sequences are malformed anyway: any y
        return draw(st.sampled_from([None, [0, 1], np.zeros(3)])), "either", "any"
    # Half the targets well-formed, half malformed.
    choice = draw(st.one_of(st.just("valid"), st.sampled_from(MALFORMED_TARGETS)))
    return (*_target(draw, kind, case, choice, labels), choice)


MALFORMED_TARGETS = ["none", "short", "long", "nan", "inf", "huge", "strings", "scalar", "dict",
                     "nested", "2d", "step_mismatch", "single_class", "empty"]


def _target(draw, kind, case, choice, pool=None):
    """``(y, verdict)`` of one kind of target (labels drawn from ``pool`` if given)."""
    n, lengths = case.n_samples, case.lengths
    per_step = kind in ("tagger", "stepwise", "seq2seq_reg", "seq2seq_clf")
    classes = kind in ("classifier", "bidirectional", "tagger", "seq2seq_clf")
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))

    if pool is None:
        pool = draw(st.sampled_from([np.array([0, 1]), np.array(["up", "down"]),
                                     np.array([True, False]), np.array([1.0, 2.0])]))

    def labels(size):
        return pool[rng.randint(0, len(pool), size=size)]

    def make(size):
        if classes:
            return labels(size)
        width = 2 if kind == "stepwise" else None
        return rng.normal(size=size if width is None else (size, width))

    if per_step:
        y = [make(length) for length in lengths]
    else:
        y = make(n)

    def enough_classes(y):
        flat = np.concatenate([np.ravel(v) for v in y]) if per_step else np.asarray(y)
        return len(np.unique(flat)) >= 2

    if choice == "valid":
        if classes and not enough_classes(y):
            return y, "invalid"  # one class: nothing to learn
        return y, "valid"
    if choice == "none":
        return None, "invalid"
    if choice == "short":
        return y[:-1] if n > 1 else (y[:0] if not per_step else []), "invalid"
    if choice == "long":
        extra = make(1) if not per_step else [make(1)]
        if per_step:
            return y + extra, "invalid"
        return np.concatenate([y, extra]), "invalid"
    if choice in ("nan", "inf"):
        bad = np.nan if choice == "nan" else draw(st.sampled_from([np.inf, -np.inf]))
        if per_step:
            y = [np.zeros(np.shape(v)) for v in y]
            y[draw(st.integers(0, n - 1))].flat[0] = bad
        else:
            y = np.zeros(np.shape(y))
            y.flat[0] = bad
        return y, "invalid"
    if choice == "huge":
        if classes:
            return y, "invalid" if not enough_classes(y) else "valid"
        big = draw(st.sampled_from([1e39, 1e300, -1.7e308]))
        if per_step:
            y = [np.asarray(v, dtype=np.float64) for v in y]
            y[draw(st.integers(0, n - 1))].flat[0] = big
        else:
            y = np.asarray(y, dtype=np.float64)
            y.flat[0] = big
        return y, "invalid"
    if choice == "strings":
        if classes:  # strings are labels: fine unless mixed with numbers
            mixed = np.array(["a", 1] * 3, dtype=object)
            return (mixed[:n] if not per_step else [mixed[:length] for length in lengths]), (
                "invalid"
            )
        return np.full(n, "abc") if not per_step else [np.full(len_, "x") for len_ in lengths], (
            "invalid"
        )
    if choice == "scalar":
        return draw(st.sampled_from([1.0, "a", 3])), "invalid"
    if choice == "dict":
        return {"y": y}, "invalid"
    if choice == "nested":
        return [[[[1.0]]]] * n, "invalid"
    if choice == "2d":
        if per_step:  # one target per sequence: the many-to-one layout
            return rng.normal(size=n), "invalid"
        return np.c_[y, y], ("either" if not classes else "invalid")
    if choice == "step_mismatch":
        if not per_step:
            return y, "invalid" if classes and not enough_classes(y) else "valid"
        i = draw(st.integers(0, n - 1))
        y[i] = make(lengths[i] + draw(st.sampled_from([1, -1])) or 2)
        return y, "invalid"
    if choice == "single_class":
        if not classes:
            return y, "valid"
        one = labels(1)[0]
        return ([np.full(length, one) for length in lengths] if per_step else np.full(n, one)), (
            "invalid"
        )
    if choice == "empty":
        return draw(st.sampled_from([[], np.array([])])), "invalid"
    raise AssertionError(choice)  # pragma: no cover


def _combine(*verdicts):
    if "invalid" in verdicts:
        return "invalid"
    return "valid" if all(v == "valid" for v in verdicts) else "either"


@st.composite
def sample_weights(draw, n):
    """``(sample_weight, verdict)`` for ``n`` samples: None, valid weights, or malformed ones."""
    kind = draw(st.sampled_from(["none", "none", "valid", "valid", "zeros", "short", "negative",
                                 "nan", "inf", "strings", "2d", "scalar", "dict"]))
    weights = np.arange(1.0, n + 1)
    return {
        "none": (None, "valid"),
        "valid": (weights, "valid"),
        "zeros": (np.zeros(n), "either"),  # nothing counts: no score
        "short": (weights[:-1], "invalid"),
        "negative": (-weights, "either"),  # scikit-learn allows negative weights
        "nan": (np.full(n, np.nan), "invalid"),
        "inf": (np.full(n, np.inf), "invalid"),
        "strings": (np.full(n, "a"), "invalid"),
        "2d": (np.ones((n, 2)), "invalid"),
        "scalar": (2.0, "either"),  # scikit-learn reads a number as equal weights
        "dict": ({"w": 1}, "invalid"),
    }[kind]


@fuzz(1500)
@given(key=model_keys, data=st.data())
def test_fuzz_score(models, key, data):
    """score: a finite number, or a clear error (X, y and sample_weight fuzzed)."""
    est = models[key]
    case = data.draw(sequences(), label="X")
    is_classifier = key[0] in ("classifier", "bidirectional", "tagger")
    labels = est.classes_ if is_classifier else None
    y, y_verdict, choice = data.draw(targets(key[0], case, labels), label="y")
    weights, w_verdict = data.draw(sample_weights(max(case.n_samples, 1)), label="sample_weight")
    if is_classifier and choice in ("valid", "single_class", "huge") or (
        key[0] in ("classifier", "bidirectional") and choice == "step_mismatch"
    ):
        y_verdict = "valid"  # the model's own labels, of any number of classes: accuracy
    elif is_classifier and choice == "strings":
        y_verdict = "either"  # labels of mixed types, unknown to the model
    if not is_classifier and choice == "huge":
        # R^2 is scikit-learn's, in float64: 1e39 is a fine target there, and 1e300
        # overflows its sums of squares to NaN.
        y_verdict = "either"
    if key[0] == "regressor" and choice == "2d":
        y_verdict = "invalid"  # fitted on one output
    verdict = _combine(case.verdict, y_verdict, w_verdict)
    # R^2 of fewer than two targets is undefined: NaN and a warning, as scikit-learn's.
    one_target = key[0] in ("regressor", "stepwise") and sum(case.lengths if key[0] == "stepwise"
                                                            else [1] * case.n_samples) < 2

    def check(score):
        if not ((one_target or choice == "huge" or w_verdict == "either") and np.isnan(score)):
            assert_finite(score, "score")

    judge(lambda: est.score(case.value, y, sample_weight=weights), verdict, check)


# --- fit -------------------------------------------------------------------------------------

FIT_ESTIMATORS = {
    "classifier": RecurrentClassifier,
    "regressor": RecurrentRegressor,
    "tagger": SequenceTagger,
    "stepwise": StepwiseRegressor,
}
FIT = dict(hidden_size=2, max_iter=1, batch_size=16, random_state=0)


@fuzz(2000)
@given(kind=st.sampled_from(list(FIT_ESTIMATORS)), backend=st.sampled_from(BACKENDS),
       data=st.data())
def test_fuzz_fit(kind, backend, data):
    """fit: a fitted model that predicts finite output of the right shape, or a clear error."""
    case = data.draw(sequences(n_features=None, fitted=False), label="X")
    y, y_verdict, _ = data.draw(targets(kind, case), label="y")
    est = FIT_ESTIMATORS[kind](backend=backend, **FIT)
    if kind in ("tagger", "stepwise"):
        est.set_params(bidirectional=False)
    verdict = _combine(case.verdict, y_verdict)
    # Finite but extreme input may legitimately stop training (TrainingDivergedError).
    fitted = judge(lambda: est.fit(case.value, y), verdict)
    if fitted is None:
        return
    if kind in ("tagger", "stepwise"):
        tail = (2,) if kind == "stepwise" and np.ndim(y[0]) == 2 else ()
        check = _check_per_step(case, tail)
    else:
        check = _check_per_sample(case)
    judge(lambda: fitted.predict(case.value), "valid" if case.verdict == "valid" else "either",
          check)


@fuzz(600)
@given(key=st.tuples(st.sampled_from(["classifier", "regressor", "tagger", "stepwise"]),
                     st.sampled_from(BACKENDS)), first_call=st.booleans(), data=st.data())
def test_fuzz_partial_fit(models, key, first_call, data):
    """partial_fit, first call (with classes) or continuing a fitted model: a model that
    predicts, or a clear error."""
    import copy

    kind = key[0]
    classifier = kind in ("classifier", "tagger")
    if first_call:
        est = FIT_ESTIMATORS[kind](backend=key[1], **FIT)
        if kind in ("tagger", "stepwise"):
            est.set_params(bidirectional=False)
        case = data.draw(sequences(n_features=None, fitted=False), label="X")
    else:
        est = copy.deepcopy(models[key])  # one epoch more on a fitted model
        case = data.draw(sequences(), label="X")
    labels = models[key].classes_ if classifier and not first_call else None
    y, y_verdict, choice = data.draw(targets(kind, case, labels), label="y")
    label_only = ("valid", "single_class", "huge") + (("step_mismatch",) if kind == "classifier"
                                                       else ())
    if (classifier and not first_call and choice in label_only
            or not classifier and choice in ("valid", "single_class")):
        y_verdict = "valid"  # well-formed; one chunk may hold one class of those set up
    kwargs = {}
    if classifier and first_call:  # classes= is required, and must hold every label of y
        option = data.draw(st.sampled_from([None, [], "ab", "seen", "one_of_them"]),
                           label="classes")
        if option in ("seen", "one_of_them"):
            if choice not in label_only:  # y is malformed anyway
                option = [0, 1]
            else:
                seen = np.unique(np.concatenate([np.ravel(v) for v in y]) if isinstance(y, list)
                                 else np.ravel(y))
                y_verdict = "valid" if option == "seen" and len(seen) >= 2 else "invalid"
                option = seen if option == "seen" else seen[:1]
        else:
            y_verdict = "invalid"  # no classes, none, or the single class "ab"
        kwargs["classes"] = option
    fitted = judge(lambda: est.partial_fit(case.value, y, **kwargs), _combine(case.verdict,
                                                                              y_verdict))
    if fitted is not None:
        judge(lambda: fitted.predict(case.value), "valid" if case.verdict == "valid" else "either")


# --- streaming --------------------------------------------------------------------------------


def _common_malformed(draw, x):
    """Malformed versions of the numbers ``x`` that every entry point must refuse, by kind."""
    return {
        "nan": lambda: _inject(draw, x, NONFINITE[:1]),
        "inf": lambda: _inject(draw, x, NONFINITE[1:]),
        "none": lambda: None,
        "string": lambda: "abc",
        "scalar": lambda: 1.5,
        "dict": lambda: {"x": x},
        "ragged": lambda: [[1.0, 2.0], [3.0]],
        "str_array": lambda: x.astype(str),
        "object_none": lambda: _with_none(x),
        "complex": lambda: x + 1j,
        "datetime": lambda: np.full(x.shape, np.datetime64("2020-01-01")),
    }


COMMON_MALFORMED = list(_common_malformed(None, None))


def _with_none(x):
    """``x`` as an object array with a None in it."""
    obj = x.astype(object)
    obj.flat[0] = None
    return obj


@st.composite
def matrices(draw, n_rows=None):
    """``(x, verdict)``: ``(n_rows, N_FEATURES)`` numbers (``n_rows=None``: 1 to 4 rows),
    or something malformed. One time step of each stream for ``predict_step``, one
    feature vector per sample for SequenceGenerator."""
    n = draw(st.integers(1, 4)) if n_rows is None else n_rows
    x = _values(draw, (n, N_FEATURES))
    kind = draw(st.one_of(
        st.sampled_from(["valid", "list", "int", "frame", "extreme"]),
        st.sampled_from(COMMON_MALFORMED + ["overflow64", "1d", "3d", "0d", "rows", "features",
                                            "empty"]),
    ))
    if kind in COMMON_MALFORMED:
        return _common_malformed(draw, x)[kind](), "invalid"
    if kind == "rows" and n_rows is None:
        kind = "features"  # any number of rows is fine when n_rows is free
    return {
        "valid": lambda: (x, "valid"),
        "list": lambda: (x.tolist(), "valid"),
        "int": lambda: (np.round(x).astype(np.int64), "valid"),
        "frame": lambda: (pd.DataFrame(x), "valid"),
        "extreme": lambda: (_inject(draw, x, EXTREME_FLOAT32), "either"),
        "overflow64": lambda: (_inject(draw, x.astype(np.float64), OVERFLOW_FLOAT32), "invalid"),
        "1d": lambda: (x[0], "invalid"),
        "3d": lambda: (x[:, None], "invalid"),
        "0d": lambda: (np.float32(1.0), "invalid"),
        "rows": lambda: (_values(draw, (n + draw(st.sampled_from([1, -1])), N_FEATURES)),
                         "invalid"),
        "features": lambda: (_values(draw, (n, draw(st.sampled_from([1, 3])))), "invalid"),
        "empty": lambda: (np.zeros((0, N_FEATURES), np.float32), "invalid"),
    }[kind]()


STREAMABLE = ["classifier", "regressor", "tagger", "stepwise"]


@fuzz(300)
@given(key=model_keys, n_streams=st.one_of(
    st.integers(-2, 6), st.sampled_from([True, False, 1.0, 2.5, "2", None, np.int64(3),
                                         np.uint8(2), [2], np.array(2)])))
def test_fuzz_init_state(models, key, n_streams):
    """init_state: a state for n_streams streams, or a clear error."""
    est = models[key]
    valid_count = (
        isinstance(n_streams, (int, np.integer)) and not isinstance(n_streams, bool)
        and n_streams >= 1
    )
    verdict = "valid" if valid_count and key[0] != "bidirectional" else "invalid"
    if isinstance(n_streams, np.ndarray):
        verdict = "either"
    state = judge(lambda: est.init_state(n_streams), verdict)
    if state is not None:
        assert state.n_streams == n_streams


def _foreign_state(models, key, n_streams, draw):
    """A state of another model, or a tampered one: predict_step must refuse it."""
    how = draw(st.sampled_from(["other_model", "none", "tuple", "shape", "dtype", "layers",
                                "nonfinite", "n_streams"]))
    est = models[key]
    state = est.init_state(n_streams)
    if how == "other_model":
        others = [k for k in models if k[0] in STREAMABLE and k != key]
        other = models[draw(st.sampled_from(sorted(others)))]
        theirs = other.init_state(n_streams)
        same = len(theirs.layers) == len(state.layers) and all(
            len(a) == len(b) and all(x.shape == y.shape for x, y in zip(a, b))
            for a, b in zip(theirs.layers, state.layers)
        )
        return theirs, "either" if same else "invalid"
    if how == "none":
        return None, "invalid"
    if how == "tuple":
        return tuple(state.layers), "invalid"
    if how == "shape":
        layers = [tuple(np.zeros((n_streams, a.shape[1] + 1), a.dtype) for a in leaves)
                  for leaves in state.layers]
        return StreamState(layers, n_streams), "invalid"
    if how == "dtype":
        layers = [tuple(a.astype(np.float64) for a in leaves) for leaves in state.layers]
        return StreamState(layers, n_streams), "either"
    if how == "layers":
        return StreamState(state.layers + state.layers[:1], n_streams), "invalid"
    if how == "nonfinite":
        layers = [tuple(np.full_like(a, np.nan) for a in leaves) for leaves in state.layers]
        return StreamState(layers, n_streams), "invalid"
    if how == "n_streams":
        return StreamState(state.layers, n_streams + 1), "invalid"
    raise AssertionError(how)  # pragma: no cover


@fuzz(1500)
@given(key=st.tuples(st.sampled_from(STREAMABLE), st.sampled_from(BACKENDS)), data=st.data())
def test_fuzz_predict_step(models, key, data):
    """predict_step: one finite output per stream and a new state, or a clear error."""
    est = models[key]
    n_streams = data.draw(st.integers(1, 3), label="n_streams")
    x_t, verdict = data.draw(matrices(n_streams), label="x_t")
    if data.draw(st.integers(0, 3), label="bad_state") == 0:
        state, state_verdict = _foreign_state(models, key, n_streams, data.draw)
    else:
        state, state_verdict = est.init_state(n_streams), "valid"
        for _ in range(data.draw(st.integers(0, 2), label="steps_before")):
            _, state = est.predict_step(np.zeros((n_streams, N_FEATURES)), state)
    verdict = _combine(verdict, state_verdict)
    tail = (2,) if key[0] == "stepwise" else ()

    def check(result):
        out, new_state = result
        assert np.shape(out) == (n_streams, *tail), np.shape(out)
        if np.asarray(out).dtype.kind == "f":
            assert_finite(out)
        assert isinstance(new_state, StreamState) and new_state.n_streams == n_streams
        for leaves in new_state.layers:
            for leaf in leaves:
                assert_finite(leaf, "state")

    judge(lambda: est.predict_step(x_t, state), verdict, check)


# --- the character language model ------------------------------------------------------------

TEXTS = ["abc", "abd", "ba", ""]


@st.composite
def texts(draw):
    """``(X, verdict)``: texts for CharLanguageModel, or something that is not texts."""
    words = st.lists(st.text(max_size=6), min_size=1, max_size=4)
    kind = draw(st.one_of(
        st.sampled_from(["list", "tuple", "array", "series"]),
        st.sampled_from(["str", "bytes", "none", "empty", "ints", "mixed_none", "mixed_bytes",
                         "nested", "array_2d", "dict", "set", "number", "float_array"]),
    ))
    xs = draw(words)
    if kind == "list":
        return xs, "valid"
    if kind == "tuple":
        return tuple(xs), "valid"
    if kind == "array":
        return np.array(xs, dtype=object), "valid"
    if kind == "series":
        return pd.Series(xs, dtype=object), "valid"
    if kind == "str":
        return "abc", "invalid"
    if kind == "bytes":
        return b"abc", "invalid"
    if kind == "none":
        return None, "invalid"
    if kind == "empty":
        return draw(st.sampled_from([[], (), np.array([], dtype=object)])), "invalid"
    if kind == "ints":
        return [1, 2, 3], "invalid"
    if kind == "mixed_none":
        return xs + [None], "invalid"
    if kind == "mixed_bytes":
        return [b"ab"] + xs, "invalid"
    if kind == "nested":
        return [xs], "invalid"
    if kind == "array_2d":
        return np.array([xs, xs]), "invalid"
    if kind == "dict":
        return {x: 1 for x in xs}, "invalid"
    if kind == "set":
        return set(xs), "invalid"
    if kind == "number":
        return 3.5, "invalid"
    if kind == "float_array":
        return np.ones((2, 3)), "invalid"
    raise AssertionError(kind)  # pragma: no cover


@pytest.fixture(scope="module")
def language_models():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            backend: CharLanguageModel(
                hidden_size=3, embedding_dim=2, max_iter=1, backend=backend, random_state=0
            ).fit(TEXTS)
            for backend in BACKENDS
        }


@fuzz(400)
@given(backend=st.sampled_from(BACKENDS), case=texts())
def test_fuzz_language_model_fit(backend, case):
    """CharLanguageModel.fit: texts train, anything else is a clear error."""
    X, verdict = case
    est = CharLanguageModel(hidden_size=2, embedding_dim=2, max_iter=1, backend=backend)
    fitted = judge(lambda: est.fit(X), verdict)
    if fitted is not None:
        assert_finite(fitted.score(X), "score")


@fuzz(500)
@given(backend=st.sampled_from(BACKENDS), case=texts(), perplexity=st.booleans())
def test_fuzz_language_model_score(language_models, backend, case, perplexity):
    """CharLanguageModel.score and perplexity: a finite number, or a clear error."""
    X, verdict = case
    est = language_models[backend]
    method = est.perplexity if perplexity else est.score
    judge(lambda: method(X), verdict, lambda s: assert_finite(s, "score"))


@fuzz(500)
@given(
    backend=st.sampled_from(BACKENDS),
    prefix=st.one_of(st.text(max_size=8), st.sampled_from([None, b"ab", 3, ["a"], np.str_("ab")])),
    n_chars=st.one_of(st.integers(-3, 12),
                      st.sampled_from([None, 2.0, 2.5, "3", True, np.int64(4)])),
    temperature=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0, 1, 5e-324, 1e-300, 1e-30, 1e308, -1.0, None, "1", True,
                         np.float32(0.5)]),
    ),
)
def test_fuzz_language_model_generate(language_models, backend, prefix, n_chars, temperature):
    """generate: a string that starts with the prefix, or a clear error."""
    est = language_models[backend]
    valid = (
        isinstance(prefix, str)
        and isinstance(n_chars, (int, np.integer)) and not isinstance(n_chars, bool)
        and n_chars >= 0
        and isinstance(temperature, (int, float, np.floating)) and not isinstance(temperature, bool)
        and np.isfinite(temperature) and temperature > 0
    )

    def check(text):
        assert isinstance(text, str) and text.startswith(prefix)
        assert len(text) <= len(prefix) + n_chars

    judge(lambda: est.generate(prefix, n_chars, temperature, random_state=0),
          "valid" if valid else "either" if isinstance(temperature, bool) else "invalid", check)


# --- forecasting -----------------------------------------------------------------------------

WINDOW = 3


@st.composite
def series(draw, n_columns=None, min_length=1):
    """``(y, verdict)``: a time series (``n_columns=None``: 1-D or 2-D), or a malformed one."""
    columns = n_columns or draw(st.integers(1, 2))
    length = draw(st.integers(min_length, 12))
    one_d = n_columns is None and columns == 1 and draw(st.booleans())
    values = _values(draw, (length,) if one_d else (length, columns), np.float64)
    kind = draw(st.one_of(
        st.sampled_from(["valid", "list", "frame", "int", "extreme", "huge_int"]),
        st.sampled_from(COMMON_MALFORMED + ["overflow", "3d", "empty", "no_columns"]),
    ))
    if kind in COMMON_MALFORMED:
        return _common_malformed(draw, values)[kind](), "invalid"
    return {
        "valid": lambda: (values, "valid"),
        "list": lambda: (values.tolist(), "valid"),
        "frame": lambda: (pd.Series(values) if values.ndim == 1 else pd.DataFrame(values),
                          "valid"),
        "int": lambda: (np.round(values).astype(np.int64), "valid"),
        "extreme": lambda: (_inject(draw, values, [1e300, -1e300, 1.7e308, 1e-320]), "either"),
        "huge_int": lambda: (np.full(values.shape, np.iinfo(np.int64).max), "either"),
        "overflow": lambda: (_inject(draw, values.astype(object), [10**400]), "invalid"),
        "3d": lambda: (values.reshape(len(values), -1, 1), "invalid"),
        "empty": lambda: (np.zeros((0,) + values.shape[1:]), "invalid"),
        "no_columns": lambda: (np.zeros((length, 0)), "invalid"),
    }[kind]()


FORECAST = dict(window=WINDOW, hidden_size=2, max_iter=1, batch_size=16, random_state=0)


@pytest.fixture(scope="module")
def forecasters():
    y = np.sin(np.arange(20.0))
    exog = np.cos(np.arange(20.0))[:, None]
    fitted = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for backend in BACKENDS:
            fitted["recursive", backend] = RNNForecaster(backend=backend, **FORECAST).fit(y)
            fitted["direct", backend] = RNNForecaster(
                strategy="direct", horizon=3, backend=backend, **FORECAST
            ).fit(np.c_[y, -y])
            fitted["exog", backend] = RNNForecaster(backend=backend, difference=1, **FORECAST).fit(
                y, exog
            )
    return fitted


@fuzz(700)
@given(backend=st.sampled_from(BACKENDS), strategy=st.sampled_from(["recursive", "direct"]),
       case=series(), data=st.data())
def test_fuzz_forecaster_fit(backend, strategy, case, data):
    """RNNForecaster.fit: a forecaster whose forecast is finite, or a clear error."""
    y, verdict = case
    est = RNNForecaster(strategy=strategy, horizon=2, backend=backend, **FORECAST)
    needed = WINDOW + (2 if strategy == "direct" else 1)
    if verdict != "invalid" and len(y) < needed:
        verdict = "invalid"  # too short for one window and its target
    X = None
    if data.draw(st.booleans(), label="with_exog") and verdict != "invalid":
        X, x_verdict = data.draw(series(n_columns=1, min_length=len(y)), label="X")
        if x_verdict == "valid" and len(X) != len(y):
            x_verdict = "invalid"
        verdict = _combine(verdict, x_verdict)
    fitted = judge(lambda: est.fit(y, X), verdict)
    if fitted is not None and X is None:
        judge(lambda: fitted.predict(2), "either" if verdict == "either" else "valid",
              lambda f: assert_finite(f, "forecast"))


@fuzz(500)
@given(key=st.tuples(st.sampled_from(["recursive", "direct", "exog"]), st.sampled_from(BACKENDS)),
       horizon=st.one_of(st.integers(-2, 6), st.sampled_from(
           [None, 1.0, 2.5, "2", True, np.int64(2), [2]])),
       data=st.data())
def test_fuzz_forecaster_predict(forecasters, key, horizon, data):
    """RNNForecaster.predict: a finite forecast of horizon steps, or a clear error."""
    est = forecasters[key]
    valid = (isinstance(horizon, (int, np.integer)) and not isinstance(horizon, bool)
             and horizon >= 1 and (key[0] != "direct" or horizon <= 3))
    verdict = "valid" if valid else "invalid"
    X = None
    if key[0] == "exog":
        rows = horizon if valid else 2
        X, x_verdict = data.draw(series(n_columns=1, min_length=1), label="X")
        if x_verdict != "invalid" and len(X) != rows:
            x_verdict = "invalid"
        verdict = _combine(verdict, x_verdict)
    elif data.draw(st.integers(0, 4), label="stray_X") == 0:
        X, verdict = np.ones((3, 1)), "invalid"  # fitted without exogenous features

    def check(forecast):
        assert len(forecast) == horizon
        assert_finite(forecast, "forecast")

    judge(lambda: est.predict(horizon, X), verdict, check)


@fuzz(400)
@given(key=st.tuples(st.sampled_from(["recursive", "direct"]), st.sampled_from(BACKENDS)),
       case=series())
def test_fuzz_forecaster_score(forecasters, key, case):
    """RNNForecaster.score: a finite R^2, or a clear error."""
    y, verdict = case
    est = forecasters[key]
    columns = 2 if key[0] == "direct" else 1
    if verdict != "invalid":
        shape = np.shape(y)
        if len(shape) == 2 and shape[1] != columns or len(shape) == 1 and columns != 1:
            verdict = "invalid"
        if key[0] == "direct" and len(y) > 3:
            verdict = "invalid"  # more steps than the direct horizon
        if len(y) < 2:
            verdict = "either"  # R^2 of one step is undefined
        if verdict == "valid" and not np.isfinite(np.asarray(y, dtype=float)).all():
            verdict = "invalid"
    judge(lambda: est.score(y), verdict if verdict != "valid" or len(y) >= 2 else "either",
          None if verdict != "valid" else lambda s: assert_finite(s, "score"))


# --- encoder-decoders and the generator (a smaller share) --------------------------------------


@pytest.fixture(scope="module")
def decoders():
    X = _train_X()
    lengths = [len(x) for x in X]
    fitted = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for backend in BACKENDS:
            common = dict(backend=backend, **TINY)
            fitted["seq2seq_clf", backend] = Seq2SeqClassifier(max_output_length=4, **common).fit(
                X, ["ab", "b", "ba", "a", "abb", "bb"]
            )
            fitted["seq2seq_reg", backend] = Seq2SeqRegressor(**common).fit(
                X, [np.arange(float(n % 3 + 1)) for n in lengths]
            )
            fitted["generator", backend] = SequenceGenerator(**common).fit(
                np.array([x[0] for x in X]), np.ones((len(X), 3))
            )
    return fitted


DECODERS = ["seq2seq_clf", "seq2seq_reg", "generator"]
decoder_keys = st.tuples(st.sampled_from(DECODERS), st.sampled_from(BACKENDS))


def _decoder_input(data, kind, fitted=True):
    """``(X, verdict, n_samples)`` for a decoder: feature vectors for the generator,
    sequences for the encoder-decoders (of any feature count before fit)."""
    if kind == "generator":
        X, verdict = data.draw(matrices(), label="X")
        return X, verdict, len(X) if verdict != "invalid" else 0
    case = data.draw(sequences() if fitted else sequences(n_features=None, fitted=False),
                     label="X")
    return case.value, case.verdict, case.n_samples


@fuzz(500)
@given(key=decoder_keys, data=st.data())
def test_fuzz_decoder_predict(decoders, key, data):
    """Seq2Seq*/SequenceGenerator.predict: one finite output per sample, or a clear error."""
    est = decoders[key]
    X, verdict, n = _decoder_input(data, key[0])

    def check(out):
        assert len(out) == n
        if key[0] != "seq2seq_clf":
            for row in out:
                assert_finite(row)

    judge(lambda: est.predict(X), verdict, check)


@st.composite
def decoder_targets(draw, kind, n, fitting):
    """``(y, verdict)``: output sequences of ``n`` samples for a decoder of ``kind``, or not."""
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    valid = {
        "seq2seq_clf": (["ab", "b", "ba", "a"] * n)[:n],
        "seq2seq_reg": [rng.normal(size=rng.randint(1, 4)) for _ in range(n)],  # lengths vary
        "generator": rng.normal(size=(n, 3)),
    }[kind]
    choice = draw(st.one_of(st.just("valid"), st.sampled_from(
        ["none", "long", "short", "nan", "empty", "mixed", "scalar", "nested", "unknown"])))
    tokens = kind == "seq2seq_clf"
    return {
        "valid": lambda: (valid, "valid"),
        "none": lambda: (None, "invalid"),
        "long": lambda: ([*valid, valid[0]], "invalid"),
        "short": lambda: (valid[:-1], "invalid"),
        # NaN is a token like any other to a token model
        "nan": lambda: ([[np.nan, 1.0]] * n, "either" if tokens else "invalid"),
        "empty": lambda: ([], "invalid"),
        "mixed": lambda: ((["ab", [1.0, 2.0]] * n)[:n] if n > 1
                          else [np.array([1.0, "a"], dtype=object)], "invalid"),
        "scalar": lambda: (3.0, "invalid"),
        "nested": lambda: ([[[[1.0]]]] * n, "invalid"),
        # Never-seen tokens are simply wrong to an exact-match accuracy (and one
        # token is a vocabulary to fit); strings are no values.
        "unknown": lambda: (["zz"] * n,
                            ("either" if fitting else "valid") if tokens else "invalid"),
    }[choice]()


ENCODER_DECODERS = {
    "seq2seq_clf": Seq2SeqClassifier,
    "seq2seq_reg": Seq2SeqRegressor,
    "generator": SequenceGenerator,
}


@fuzz(400)
@given(kind=st.sampled_from(DECODERS), backend=st.sampled_from(BACKENDS), data=st.data())
def test_fuzz_decoder_fit(kind, backend, data):
    """Seq2Seq*/SequenceGenerator.fit: a model that predicts, or a clear error."""
    est = ENCODER_DECODERS[kind](backend=backend, **FIT)
    X, verdict, n = _decoder_input(data, kind, fitted=False)
    y, y_verdict = data.draw(decoder_targets(kind, max(n, 1), fitting=True), label="y")
    fitted = judge(lambda: est.fit(X, y), _combine(verdict, y_verdict))
    if fitted is not None:
        judge(lambda: fitted.predict(X), "either")


@fuzz(300)
@given(key=decoder_keys, data=st.data())
def test_fuzz_decoder_score(decoders, key, data):
    """Seq2Seq*/SequenceGenerator.score: a finite score, or a clear error (X, y and weights)."""
    est = decoders[key]
    X, verdict, n = _decoder_input(data, key[0])
    n = max(n, 1)
    y, y_verdict = data.draw(decoder_targets(key[0], n, fitting=False), label="y")
    weights, w_verdict = data.draw(sample_weights(n), label="sample_weight")
    verdict = _combine(verdict, y_verdict, w_verdict)
    # R^2 of fewer than two target values is undefined (NaN), as scikit-learn's.
    one_target = (key[0] != "seq2seq_clf" and y_verdict == "valid"
                  and sum(np.size(values) for values in y) < 2)

    def check(score):
        if not ((one_target or w_verdict == "either") and np.isnan(score)):
            assert_finite(score, "score")

    judge(lambda: est.score(X, y, sample_weight=weights), verdict, check)


# --- save and load -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory, models, language_models, forecasters, decoders):
    """Saved files of several fitted models: ``name -> (bytes, how to use the loaded model)``."""
    X = _train_X()
    uses = {
        "classifier": (models["classifier", "torch"], lambda est: est.predict_proba(X)),
        "regressor": (models["regressor", "numba"], lambda est: est.predict(X)),
        "tagger": (models["tagger", "torch"],
                   lambda est: est.predict_step(X[0][:1], est.init_state(1))),
        "language_model": (language_models["numba"], lambda est: est.score(TEXTS)),
        "forecaster": (forecasters["exog", "torch"], lambda est: est.predict(2, np.ones((2, 1)))),
        "seq2seq": (decoders["seq2seq_clf", "torch"], lambda est: est.predict(X)),
    }
    directory = tmp_path_factory.mktemp("saved")
    files = {}
    for name, (est, use) in uses.items():
        path = directory / name
        est.save(path)
        files[name] = (path.read_bytes(), use)
    return files


def _load_bytes(data, tmp_path_factory):
    from sklearn_rnn import load

    path = tmp_path_factory.mktemp("load") / "model"
    path.write_bytes(data)
    return load(path)


def _header_length(data):
    return int.from_bytes(data[:8], "little")


@fuzz(600)
@given(name=st.sampled_from(["classifier", "regressor", "tagger", "language_model", "forecaster",
                             "seq2seq"]), data=st.data())
def test_fuzz_load_corrupted_bytes(saved, tmp_path_factory, name, data):
    """load of a truncated, bit-flipped or random file: a ValueError/TypeError, never a model."""
    original, _ = saved[name]
    header_end = 8 + _header_length(original)
    how = data.draw(st.sampled_from(["truncate", "flip", "random", "splice", "prefix"]),
                    label="how")
    if how == "truncate":  # at every class of offset: the length prefix, the header, the data
        offset = data.draw(st.one_of(
            st.integers(0, 8), st.integers(9, header_end),
            st.integers(header_end, len(original) - 1),
            st.sampled_from([header_end - 1, header_end + 1, len(original) - 1]),
        ), label="offset")
        corrupted = original[:offset]
    elif how == "flip":
        position = data.draw(st.one_of(
            st.integers(0, 7), st.integers(8, header_end - 1),
            st.integers(header_end, len(original) - 1),
        ), label="position")
        bit = data.draw(st.integers(0, 7), label="bit")
        corrupted = bytearray(original)
        corrupted[position] ^= 1 << bit
        corrupted = bytes(corrupted)
    elif how == "random":
        corrupted = data.draw(st.binary(max_size=200), label="bytes")
    elif how == "splice":  # a chunk of random bytes over the file
        start = data.draw(st.integers(0, len(original) - 1), label="start")
        chunk = data.draw(st.binary(min_size=1, max_size=16), label="chunk")
        corrupted = original[:start] + chunk + original[start + len(chunk):]
        if corrupted == original:
            return
    else:  # a plausible length prefix before random JSON
        text = data.draw(st.one_of(st.text(max_size=60), st.sampled_from(
            ['{"__metadata__": {"sklearn_rnn": "{}"}}', '{"__metadata__": {"sklearn_rnn": 1}}',
             '{"__metadata__": []}', "[]", "null", '{"a": {"dtype": "F32", "shape": [1], '
             '"data_offsets": [0, 4]}}'])), label="header").encode()
        corrupted = len(text).to_bytes(8, "little") + text + data.draw(st.binary(max_size=8))
    judge(lambda: _load_bytes(corrupted, tmp_path_factory), "invalid")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 2**40), st.floats(allow_nan=True),
              st.text(max_size=8), st.sampled_from(["estimator", "ndarray", "tensor", "tuple",
                                                    "dict", "scalar", "History", "<f4", "lstm"])),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=6,
)


def _paths(node, path=()):
    """Every path to a value in a JSON document."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


@fuzz(800)
@given(name=st.sampled_from(["classifier", "regressor", "tagger", "language_model", "forecaster",
                             "seq2seq"]), data=st.data())
def test_fuzz_load_documents(saved, tmp_path_factory, name, data):
    """load of a file with a valid checksum but an altered document or arrays: a model that
    works, or a ValueError/TypeError; never anything else."""
    import copy
    import json

    from sklearn_rnn._io import read_bundle, write_bundle

    original, use = saved[name]
    source = tmp_path_factory.mktemp("doc") / "model"
    source.write_bytes(original)
    arrays, document = read_bundle(source)
    document, arrays = copy.deepcopy(document), dict(arrays)
    if data.draw(st.integers(0, 3), label="target") == 0:  # the arrays
        key = data.draw(st.sampled_from(sorted(arrays)), label="array")
        how = data.draw(st.sampled_from(["drop", "shape", "dtype", "nonfinite", "scalar"]))
        if how == "drop":
            del arrays[key]
        elif how == "shape":
            arrays[key] = np.zeros(np.shape(arrays[key]) + (2,), arrays[key].dtype)
        elif how == "dtype":
            arrays[key] = arrays[key].astype(data.draw(st.sampled_from(
                [np.float64, np.float16, np.int64, np.bool_, np.uint8])))
        elif how == "nonfinite":
            if arrays[key].dtype.kind != "f" or not arrays[key].size:
                return
            arrays[key] = np.full_like(arrays[key], data.draw(st.sampled_from(NONFINITE)))
        else:
            arrays[key] = np.asarray(1.5, np.float32)
    else:  # the document
        paths = list(_paths(document))
        path = data.draw(st.sampled_from(paths[1:]), label="path")
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        how = data.draw(st.sampled_from(["replace", "delete", "add"]), label="how")
        if how == "replace":
            parent[path[-1]] = data.draw(json_values, label="value")
        elif how == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8), label="key")] = data.draw(json_values)
        else:
            parent.append(data.draw(json_values, label="value"))
    path = tmp_path_factory.mktemp("doc") / "altered"
    try:
        write_bundle(path, arrays, json.loads(json.dumps(document)))
    except TypeError:  # e.g. a float16 array safetensors cannot hold: nothing to load
        return
    loaded = judge(lambda: _load_bytes(path.read_bytes(), tmp_path_factory), "either")
    if loaded is not None:
        judge(lambda: use(loaded), "either")


def test_load_refuses_a_file_without_a_fitted_attribute(saved, tmp_path_factory):
    """A file (with a valid checksum) that lacks a fitted attribute is refused when loaded."""
    from sklearn_rnn._io import read_bundle, write_bundle

    source = tmp_path_factory.mktemp("attr") / "model"
    source.write_bytes(saved["regressor"][0])
    arrays, document = read_bundle(source)
    del document["estimator"]["attributes"]["_target_is_1d"]
    write_bundle(source, arrays, document)
    with pytest.raises(ValueError, match="_target_is_1d"):
        _load_bytes(source.read_bytes(), tmp_path_factory)

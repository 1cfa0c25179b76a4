"""The one sequence validator: formats, dtypes and errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_rnn._validation import check_sequences


def test_three_formats_become_padded_arrays_with_lengths():
    """3-D, 2-D and ragged input become (n, max_len, n_features) plus lengths."""
    s3 = check_sequences(np.ones((2, 4, 3)))
    assert (s3.padded.shape, s3.lengths.tolist(), s3.format) == ((2, 4, 3), [4, 4], "3d")
    s2 = check_sequences(np.ones((2, 4)))
    assert (s2.padded.shape, s2.format, s2.n_features) == ((2, 4, 1), "2d", 1)
    ragged = check_sequences([np.ones((2, 3)), np.ones((5, 3))])
    assert ragged.padded.shape == (2, 5, 3) and ragged.lengths.tolist() == [2, 5]
    assert ragged.format == "ragged" and ragged.n_samples == 2
    np.testing.assert_array_equal(ragged.padded[0, 2:], 0.0)


@pytest.mark.parametrize("container", [list, tuple, lambda xs: np.array(xs + [None], dtype=object)[:-1]])
def test_list_tuple_and_object_array_are_ragged(container):
    """Lists, tuples and 1-D object arrays of (T_i,) or (T_i, F) arrays are ragged input."""
    seqs = check_sequences(container([np.arange(3.0), np.arange(5.0)]))
    assert seqs.format == "ragged" and seqs.lengths.tolist() == [3, 5] and seqs.n_features == 1


def test_dtype_policy():
    """Estimators get float32; dtype=None keeps float32/64 and promotes integers to float64."""
    assert check_sequences(np.ones((2, 3), dtype=np.int64)).padded.dtype == np.float32
    assert check_sequences(np.ones((2, 3), dtype=np.float32), dtype=None).padded.dtype == np.float32
    assert check_sequences(np.ones((2, 3), dtype=np.int32), dtype=None).padded.dtype == np.float64
    assert check_sequences([np.ones(2, dtype=np.float32)], dtype=None).padded.dtype == np.float32


@pytest.mark.parametrize("X, error, match", [
    (None, ValueError, "None"),
    (np.ones(3), ValueError, "Reshape your data"),
    ([1.0, 2.0], ValueError, "Reshape your data"),
    (np.ones((2, 2, 2, 2)), ValueError, "4 dimension"),
    (np.ones((2, 3), dtype=complex), ValueError, "Complex data not supported"),
    (sp.csr_matrix(np.ones((2, 3))), TypeError, "sparse"),
    ([np.ones((2, 3)), np.ones((2, 3, 1))], ValueError, r"X\[1\] has 3 dimension"),
    ([np.ones((2, 3)), [[1, 2], [3]]], ValueError, "could not be read"),
    (np.array([["1", "x"]]), TypeError, "must hold numbers"),
    (np.ones((0, 3)), ValueError, "0 sample"),
    (np.ones((3, 0)), ValueError, "0 time step"),
    (np.ones((3, 2, 0)), ValueError, "0 feature"),
])
def test_bad_input_errors_name_the_problem(X, error, match):
    """Each malformed input gets a ValueError/TypeError saying what is wrong."""
    with pytest.raises(error, match=match):
        check_sequences(X)


def test_feature_count_is_enforced_when_given():
    """n_features= makes a different feature count a clear error."""
    with pytest.raises(ValueError, match="2 features per time step, but the estimator was fitted with 3"):
        check_sequences(np.ones((1, 4, 2)), n_features=3)


def test_input_is_not_modified():
    """Validation never writes into the caller's arrays."""
    X = [np.arange(6.0).reshape(3, 2), np.arange(2.0).reshape(1, 2)]
    copies = [x.copy() for x in X]
    check_sequences(X)
    for x, c in zip(X, copies):
        np.testing.assert_array_equal(x, c)


# --- bugs found by the fuzz test (tests/test_fuzz.py) ------------------------------------

FAST = dict(hidden_size=3, max_iter=1, random_state=0)


@pytest.mark.parametrize("X, kind", [
    (np.full((2, 3, 1), np.datetime64("2020-01-01")), "dates"),
    (np.full((2, 3), np.timedelta64(1, "s")), "time differences"),
    (np.array([["1.5", "2"]]), "strings"),
    (np.array([[b"1"]]), "bytes"),
    ([np.array(["1", "2"]), np.ones(2)], "strings"),
])
def test_dates_and_numeric_strings_are_not_numbers(X, kind):
    """Bug: dates, time differences and numeric strings were cast to floats silently."""
    with pytest.raises(TypeError, match=f"{kind}.*must hold numbers"):
        check_sequences(X)


@pytest.mark.parametrize("X", [
    np.array([[1.0, 1e300]]),
    np.array([[1.0, -1e39]]),
    np.array([[1.0, 1e300]], dtype=object),
])
def test_values_beyond_float32_are_named_as_too_large(X):
    """Bug: finite float64 values beyond float32's range became infinity, reported as such."""
    with pytest.raises(ValueError, match="too large for float32"):
        check_sequences(X)


def test_huge_python_integers_are_a_clear_error():
    """Bug: an object array holding 10**400 raised OverflowError."""
    with pytest.raises(TypeError, match="must hold numbers.*too large"):
        check_sequences(np.array([[1, 10**400]], dtype=object))


def test_pandas_series_of_sequences_is_ragged_input():
    """Bug: a pandas Series of arrays (an object column) was refused as non-numeric."""
    pd = pytest.importorskip("pandas")
    seqs = check_sequences(pd.Series([np.ones((2, 3)), np.ones((4, 3))]))
    assert seqs.format == "ragged" and seqs.lengths.tolist() == [2, 4]


def test_classifier_with_empty_y_is_a_clear_error():
    """Bug: fit(X, y=[]) raised IndexError while formatting its own error message."""
    from sklearn_rnn import RecurrentClassifier

    with pytest.raises(ValueError, match="y is empty"):
        RecurrentClassifier(**FAST).fit(np.ones((1, 2, 1)), [])
    with pytest.raises(ValueError, match="at least 2 classes"):
        RecurrentClassifier(**FAST).partial_fit(np.ones((2, 2, 1)), [0, 0], classes=[])


@pytest.mark.parametrize("make_y", [
    lambda n: np.r_[1e39, np.zeros(n - 1)],  # per sequence
    lambda n: [np.r_[1e300, np.zeros(1)]] + [np.zeros(2)] * (n - 1),  # per step
])
def test_regression_targets_beyond_float32_are_named_as_too_large(make_y):
    """Bug: y = 1e39 overflowed to infinity with a RuntimeWarning and a misleading error."""
    from sklearn_rnn import RecurrentRegressor, StepwiseRegressor

    y = make_y(4)
    est = StepwiseRegressor(**FAST) if isinstance(y, list) else RecurrentRegressor(**FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="too large for float32"):
            est.fit(np.zeros((4, 2, 1)), y)


def test_regression_targets_must_be_numbers_not_dates():
    """Bug: dates as regression targets were counted in days since 1970."""
    from sklearn_rnn import RecurrentRegressor

    y = np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match="must hold numbers"):
        RecurrentRegressor(**FAST).fit(np.zeros((2, 2, 1)), y)


def test_generator_features_must_be_numbers():
    """Bug: SequenceGenerator cast string and date features to floats."""
    from sklearn_rnn import SequenceGenerator

    X = np.full((3, 2), np.datetime64("2020-01-01"))
    with pytest.raises(TypeError, match="dates"):
        SequenceGenerator(**FAST).fit(X, np.ones((3, 2)))


def test_seq2seq_accuracy_checks_its_sample_weights():
    """Bug (fuzz): Seq2SeqClassifier.score raised ZeroDivisionError for all-zero weights and
    returned NaN for NaN weights."""
    from sklearn_rnn import Seq2SeqClassifier

    X = np.random.RandomState(0).normal(size=(4, 3, 2))
    est = Seq2SeqClassifier(**FAST).fit(X, ["ab", "b", "ba", "a"])
    y = ["ab", "b", "ba", "a"]
    with pytest.raises(ValueError, match="at least one non-zero"):
        est.score(X, y, sample_weight=np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        est.score(X, y, sample_weight=np.full(4, np.nan))


def test_read_only_input_gives_no_torch_warning():
    """Bug (fuzz): a read-only X or x_t (pandas copy-on-write, np.broadcast_to, a read-only
    memory map) made torch warn that it does not support non-writable arrays."""
    from sklearn_rnn import RecurrentRegressor

    X = np.random.RandomState(0).normal(size=(6, 4, 2)).astype(np.float32)
    reg = RecurrentRegressor(backend="torch", **FAST).fit(X, X[:, 0, 0])
    X.flags.writeable = False
    assert check_sequences(X).padded.flags.writeable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.predict(X)
        reg.predict_step(X[:, 0], reg.init_state(6))

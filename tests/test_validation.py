"""The one sequence validator: formats, dtypes and errors."""

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

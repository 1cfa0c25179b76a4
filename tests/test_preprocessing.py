import pickle

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_rnn.preprocessing import SequencePadder, SequenceScaler

# In this package a 2-D X is (n_samples, n_timesteps) and a list is a list of
# sequences; these checks assume (n_samples, n_features) and a list of rows.
_CHECKS_2D_IS_TIMESTEPS = {
    "check_n_features_in": (
        "a 2-D X is (n_samples, n_timesteps): n_features_in_ is 1 (features per "
        "time step), not X.shape[1]"
    ),
    "check_n_features_in_after_fitting": (
        "n_features_in_ is 1 for a 2-D X, not X.shape[1], and X[:, [1]] is a valid "
        "batch of shorter univariate sequences, not a feature mismatch"
    ),
    "check_transformer_general": (
        "transform(X[:, :-1]) must raise, but for a 2-D X it is a valid batch of "
        "sequences one step shorter; the rest is in test_fit_transform_consistent"
    ),
    "check_estimators_empty_data_messages": (
        "check_sequences says '0 time step(s)' for shape (12, 0), since the columns "
        "of a 2-D X are time steps; the check wants the words '0 feature(s)'"
    ),
}
_SCALER_ONLY = {
    "check_transformer_data_not_an_array": (
        "X.tolist() is a list of sequences, and the scaler returns a list for a "
        "list, which has no .shape"
    ),
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, SequenceScaler):
        return {**_CHECKS_2D_IS_TIMESTEPS, **_SCALER_ONLY}
    return _CHECKS_2D_IS_TIMESTEPS


@parametrize_with_checks(
    [
        SequenceScaler(),
        SequenceScaler(with_mean=False),
        SequencePadder(),
        SequencePadder(3, padding="pre", truncating="pre", value=-1.0),
    ],
    expected_failed_checks=_expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    """Both transformers pass scikit-learn's estimator checks."""
    check(estimator)


def _ragged(n_features=2, lengths=(3, 1, 5, 2), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(3.0, 2.0, size=(t, n_features)) for t in lengths]


def _mean_of_each(X):
    return np.stack([np.mean(seq, axis=0) for seq in X])


def _flatten(X):
    return X.reshape(len(X), -1)


def _naive_pad(sequences, length, padding, truncating, value):
    """Keras' pad_sequences, one sequence at a time."""
    out = []
    for seq in sequences:
        seq = seq[:length] if truncating == "post" else seq[-length:]
        fill = np.full((length - len(seq), seq.shape[1]), value)
        parts = [seq, fill] if padding == "post" else [fill, seq]
        out.append(np.concatenate(parts))
    return np.stack(out)


def test_statistics_match_standard_scaler_on_real_steps():
    """Fitting a ragged list equals StandardScaler on its concatenated time steps."""
    X = _ragged()
    reference = StandardScaler().fit(np.concatenate(X))
    scaler = SequenceScaler().fit(X)
    assert_allclose(scaler.mean_, reference.mean_)
    assert_allclose(scaler.var_, reference.var_)
    assert_allclose(scaler.scale_, reference.scale_)
    assert scaler.n_samples_seen_ == reference.n_samples_seen_ == 11
    assert scaler.n_features_in_ == 2
    assert_allclose(
        np.concatenate(scaler.transform(X)), reference.transform(np.concatenate(X))
    )


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_with_mean_with_std_as_standard_scaler(with_mean, with_std):
    """with_mean/with_std set attributes (None too) and output as StandardScaler."""
    X = _ragged()
    params = dict(with_mean=with_mean, with_std=with_std)
    reference = StandardScaler(**params).fit(np.concatenate(X))
    scaler = SequenceScaler(**params).fit(X)
    for name in ("mean_", "var_", "scale_"):
        expected = getattr(reference, name)
        if expected is None:
            assert getattr(scaler, name) is None
        else:
            assert_allclose(getattr(scaler, name), expected)
    assert_allclose(
        np.concatenate(scaler.transform(X)), reference.transform(np.concatenate(X))
    )


def test_2d_input_is_univariate_sequences():
    """A 2-D X has one feature per step, scaled over all steps together."""
    X = np.random.default_rng(0).normal(size=(6, 4))
    scaler = SequenceScaler().fit(X)
    assert scaler.n_features_in_ == 1
    assert scaler.n_samples_seen_ == 24
    assert_allclose(scaler.transform(X), (X - X.mean()) / X.std())


def test_3d_array_and_equivalent_list_agree():
    """A 3-D array and the list of its sequences give the same fit and transform."""
    X = np.random.default_rng(0).normal(size=(5, 4, 3))
    from_array = SequenceScaler().fit(X)
    from_list = SequenceScaler().fit(list(X))
    assert_allclose(from_array.mean_, from_list.mean_)
    assert_allclose(from_array.scale_, from_list.scale_)
    assert from_array.n_features_in_ == from_list.n_features_in_ == 3
    assert_allclose(np.stack(from_list.transform(list(X))), from_array.transform(X))


def test_constant_feature_has_unit_scale():
    """A constant feature gets scale 1 and is only centered."""
    X = [np.column_stack([np.full(t, 5.0), np.arange(t)]) for t in (2, 4)]
    scaler = SequenceScaler().fit(X)
    assert scaler.scale_[0] == 1.0
    assert scaler.var_[0] == 0.0
    assert_array_equal(np.concatenate(scaler.transform(X))[:, 0], 0.0)


@pytest.mark.parametrize(
    "X",
    [
        np.arange(24.0).reshape(2, 4, 3),
        np.arange(8.0).reshape(2, 4),
        [np.ones((2, 3)), np.arange(12.0).reshape(4, 3)],
        [np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])],
        (np.array([1.0, 2.0]), np.ones((3, 1))),
        np.array([np.ones((2, 3)), np.zeros((1, 3))], dtype=object),
    ],
    ids=["3d", "2d", "list", "list-1d", "tuple-mixed", "object-array"],
)
def test_transform_keeps_format_and_inverse_round_trips(X):
    """transform gives X's format back and inverse_transform undoes it."""
    scaler = SequenceScaler().fit(X)
    Xt = scaler.transform(X)
    if isinstance(X, np.ndarray) and X.dtype != object:
        assert isinstance(Xt, np.ndarray) and Xt.shape == X.shape
    else:
        assert isinstance(Xt, list)
        assert [np.shape(seq) for seq in Xt] == [np.shape(seq) for seq in X]
    X_back = scaler.inverse_transform(Xt)
    for back, seq in zip(X_back, X):
        assert_allclose(back, seq, atol=1e-12)


@pytest.mark.parametrize("fmt", ["3d", "2d", "list"])
@pytest.mark.parametrize("transformer", [SequenceScaler(), SequencePadder(5)])
def test_fit_transform_consistent(transformer, fmt):
    """fit_transform equals fit then transform, for every format."""
    X3 = np.random.default_rng(0).normal(size=(4, 3, 2))
    X = {"3d": X3, "2d": X3[:, :, 0], "list": [s[: i + 1] for i, s in enumerate(X3)]}
    X = X[fmt]
    first = clone(transformer).fit_transform(X)
    second = clone(transformer).fit(X).transform(X)
    for a, b in zip(first, second):
        assert_allclose(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transformer", [SequenceScaler(), SequencePadder(6)])
def test_float_dtype_is_preserved(transformer, dtype):
    """float32 and float64 stay as they are, in every format."""
    X3 = np.random.default_rng(0).normal(size=(3, 4, 2)).astype(dtype)
    for X in (X3, X3[:, :, 0], [X3[0], X3[1, :2]]):
        out = clone(transformer).fit(X).transform(X)
        dtypes = {seq.dtype for seq in out} if isinstance(out, list) else {out.dtype}
        assert dtypes == {np.dtype(dtype)}


@pytest.mark.parametrize("transformer", [SequenceScaler(), SequencePadder()])
def test_integer_input_becomes_float64(transformer):
    """Integer sequences are converted to float64."""
    out = transformer.fit_transform(np.arange(12).reshape(2, 3, 2))
    assert out.dtype == np.float64


def test_copy_false_scales_in_place():
    """copy=False modifies a float array in place; copy=True leaves it alone."""
    X = np.arange(12.0).reshape(2, 3, 2)
    original = X.copy()
    SequenceScaler().fit(X).transform(X)
    assert_array_equal(X, original)
    out = SequenceScaler(copy=False).fit(X).transform(X)
    assert np.shares_memory(out, X)
    assert_allclose(X.reshape(-1, 2).mean(axis=0), 0.0, atol=1e-12)


def test_copy_false_with_read_only_input():
    """copy=False on a read-only array copies instead of failing."""
    X = np.arange(12.0).reshape(2, 3, 2)
    X.flags.writeable = False
    out = SequenceScaler(copy=False).fit(X).transform(X)
    assert not np.shares_memory(out, X)
    assert_allclose(out.reshape(-1, 2).mean(axis=0), 0.0, atol=1e-12)


def test_partial_fit_equals_fit():
    """partial_fit over batches of sequences gives fit's statistics."""
    X = _ragged(lengths=(3, 1, 5, 2, 7, 4))
    scaler = SequenceScaler()
    for start in range(0, len(X), 2):
        scaler.partial_fit(X[start : start + 2])
    full = SequenceScaler().fit(X)
    assert_allclose(scaler.mean_, full.mean_)
    assert_allclose(scaler.var_, full.var_)
    assert scaler.n_samples_seen_ == full.n_samples_seen_ == 22


def test_fit_resets_partial_fit_state():
    """fit starts over, also after partial_fit with other features."""
    scaler = SequenceScaler().partial_fit(np.ones((2, 3, 4)))
    scaler.fit(np.arange(6.0).reshape(3, 2))
    assert scaler.n_features_in_ == 1
    assert scaler.n_samples_seen_ == 6


@pytest.mark.parametrize(
    "X",
    [
        np.array([[[1.0], [np.nan]]]),
        [np.ones((2, 2)), np.array([[1.0, np.inf]])],
        [],
        np.empty((0, 3, 2)),
        np.empty((2, 0, 2)),
        [np.ones((2, 2)), np.ones((0, 2))],
        [np.ones((2, 2)), np.ones((3, 3))],
        np.ones((2, 3, 4, 5)),
        np.ones(4),
    ],
    ids=[
        "nan",
        "inf",
        "empty-list",
        "no-samples",
        "no-steps",
        "empty-sequence",
        "mixed-features",
        "4d",
        "1d",
    ],
)
@pytest.mark.parametrize("transformer", [SequenceScaler(), SequencePadder()])
def test_invalid_sequences_raise(transformer, X):
    """NaN, inf, empty and mixed-feature input raise ValueError in fit and transform."""
    with pytest.raises(ValueError):
        clone(transformer).fit(X)
    fitted = clone(transformer).fit(np.ones((2, 3, 2)))
    with pytest.raises(ValueError):
        fitted.transform(X)


@pytest.mark.parametrize("transformer", [SequenceScaler(), SequencePadder()])
def test_transform_with_other_n_features_raises(transformer):
    """A different number of features per step at transform is a clear error."""
    transformer.fit(np.ones((2, 3, 2)))
    with pytest.raises(ValueError, match="3 features per time step.*fitted with 2"):
        transformer.transform([np.ones((4, 3))])
    if isinstance(transformer, SequenceScaler):
        with pytest.raises(ValueError, match="features per time step"):
            transformer.inverse_transform(np.ones((2, 3)))
        with pytest.raises(ValueError, match="features per time step"):
            transformer.partial_fit(np.ones((2, 3, 5)))


@pytest.mark.parametrize(
    "params",
    [{"length": 0}, {"padding": "middle"}, {"truncating": "both"}, {"value": "zero"}],
)
def test_padder_rejects_invalid_parameters(params):
    """Invalid parameters are reported by fit."""
    with pytest.raises(ValueError, match="parameter of SequencePadder"):
        SequencePadder(**params).fit(np.ones((2, 3)))


@pytest.mark.parametrize(
    "padding, truncating, expected",
    [
        ("post", "post", [[1, 0, 0], [1, 2, 3], [1, 2, 3]]),
        ("pre", "post", [[0, 0, 1], [1, 2, 3], [1, 2, 3]]),
        ("post", "pre", [[1, 0, 0], [1, 2, 3], [3, 4, 5]]),
        ("pre", "pre", [[0, 0, 1], [1, 2, 3], [3, 4, 5]]),
    ],
)
def test_padder_pre_and_post(padding, truncating, expected):
    """padding and truncating follow Keras' pad_sequences."""
    X = [[1.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0]]
    padder = SequencePadder(3, padding=padding, truncating=truncating)
    assert_array_equal(padder.fit_transform(X), expected)


def test_padder_length_none_uses_longest_in_fit():
    """length=None pads to the longest fitted sequence and truncates longer ones."""
    padder = SequencePadder(value=-1.0).fit([np.ones((2, 2)), np.ones((4, 2))])
    assert padder.length_ == 4
    out = padder.transform([np.arange(12.0).reshape(6, 2), np.ones((1, 2))])
    assert out.shape == (2, 4, 2)
    assert_array_equal(out[0], np.arange(8.0).reshape(4, 2))
    assert_array_equal(out[1, 1:], -1.0)


def test_padder_value_nan():
    """value=np.nan marks added steps as missing."""
    out = SequencePadder(3, value=np.nan).fit_transform([[1.0, 2.0], [3.0]])
    assert_array_equal(np.isnan(out), [[False, False, True], [False, True, True]])


@pytest.mark.parametrize(
    "X, shape",
    [
        (np.ones((2, 3, 2)), (2, 5, 2)),
        (np.ones((2, 3)), (2, 5)),
        ([np.ones((3, 2)), np.ones((1, 2))], (2, 5, 2)),
        ([np.ones(3), np.ones(1)], (2, 5)),
        ([np.ones(3), np.ones((1, 1))], (2, 5, 1)),
    ],
    ids=["3d", "2d", "list", "list-1d", "list-mixed"],
)
def test_padder_output_dimensions(X, shape):
    """The output is 2-D for 2-D or 1-D sequences and 3-D otherwise."""
    assert SequencePadder(5).fit_transform(X).shape == shape


def test_pipeline_cross_val_score_on_ragged_sequences():
    """SequenceScaler works in a pipeline cross-validated on a ragged list."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    lengths = rng.integers(2, 9, size=len(y))
    X = [rng.normal(100.0 + 5 * c, 1.0, size=(t, 3)) for c, t in zip(y, lengths)]
    model = make_pipeline(
        SequenceScaler(), FunctionTransformer(_mean_of_each), LogisticRegression()
    )
    scores = cross_val_score(model, X, y, cv=4)
    assert scores.mean() > 0.9


def test_pipeline_with_padder_and_flattening():
    """SequencePadder turns ragged sequences into fixed-size rows for a flat model."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    X = [rng.normal(3 * label, 1.0, size=(rng.integers(2, 9), 2)) for label in y]
    model = make_pipeline(
        SequenceScaler(),
        SequencePadder(4),
        FunctionTransformer(_flatten),
        LogisticRegression(),
    )
    assert cross_val_score(model, X, y, cv=4).mean() > 0.9


@pytest.mark.parametrize("transformer", [SequenceScaler(), SequencePadder()])
def test_clone_and_pickle(transformer):
    """Fitted transformers pickle with their state; clones are unfitted copies."""
    X = _ragged()
    fitted = clone(transformer).fit(X)
    restored = pickle.loads(pickle.dumps(fitted))
    for a, b in zip(restored.transform(X), fitted.transform(X)):
        assert_array_equal(a, b)
    fresh = clone(fitted)
    assert fresh.get_params() == transformer.get_params()
    assert not hasattr(fresh, "n_features_in_")


@pytest.mark.parametrize("transformer", [SequenceScaler(), SequencePadder()])
def test_pandas_output_config_leaves_sequences_alone(transformer):
    """transform_output="pandas" does not try to wrap sequences in a DataFrame."""
    with sklearn.config_context(transform_output="pandas"):
        out = transformer.fit_transform(np.ones((2, 3, 2)))
    assert isinstance(out, np.ndarray)
    assert not hasattr(transformer, "set_output")


def test_tags_declare_3d_input_and_no_nan():
    """Tags say 3-D input is accepted, NaN is not, and float32 is kept."""
    for transformer in (SequenceScaler(), SequencePadder()):
        tags = transformer.__sklearn_tags__()
        assert tags.input_tags.three_d_array
        assert not tags.input_tags.allow_nan
        assert tags.transformer_tags.preserves_dtype == ["float64", "float32"]


@st.composite
def _ragged_lists(draw, max_sequences=6, max_length=7):
    """Lists of (T_i, n_features) integer-valued float sequences."""
    n_features = draw(st.integers(1, 3))
    lengths = draw(
        st.lists(st.integers(1, max_length), min_size=1, max_size=max_sequences)
    )
    # Integer values keep sums exact, so "constant feature" means exactly constant.
    elements = st.integers(-100, 100).map(float)
    shapes = [(t, n_features) for t in lengths]
    return [draw(arrays(np.float64, shape, elements=elements)) for shape in shapes]


@settings(max_examples=50, deadline=None)
@given(X=_ragged_lists())
def test_property_fit_on_list_equals_fit_on_concatenation(X):
    """Fitting a ragged list equals StandardScaler on the concatenated steps."""
    reference = StandardScaler().fit(np.concatenate(X))
    scaler = SequenceScaler().fit(X)
    assert_allclose(scaler.mean_, reference.mean_, rtol=1e-12, atol=1e-12)
    assert_allclose(scaler.var_, reference.var_, rtol=1e-10, atol=1e-10)
    assert_allclose(scaler.scale_, reference.scale_, rtol=1e-10)
    assert_allclose(
        np.concatenate(scaler.transform(X)),
        reference.transform(np.concatenate(X)),
        rtol=1e-9,
        atol=1e-9,
    )


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_property_transform_ignores_the_other_sequences(data):
    """A sequence is scaled the same alone, in a list or next to longer sequences."""
    X = data.draw(_ragged_lists())
    n_features = X[0].shape[1]
    others = data.draw(
        st.lists(
            arrays(
                np.float64,
                st.tuples(st.integers(1, 12), st.just(n_features)),
                elements=st.floats(-1e6, 1e6),
            ),
            max_size=3,
        )
    )
    scaler = SequenceScaler().fit(X)
    in_list = scaler.transform(X)
    with_others = scaler.transform(others + X)[len(others) :]
    for seq, a, b in zip(X, in_list, with_others):
        alone = scaler.transform(seq[None])[0]
        assert_array_equal(a, alone)
        assert_array_equal(b, alone)


@settings(max_examples=100, deadline=None)
@given(
    X=_ragged_lists(max_length=10),
    length=st.integers(1, 8),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
    value=st.floats(-5, 5),
)
def test_property_padder_matches_naive_reference(X, length, padding, truncating, value):
    """The vectorised padder equals padding one sequence at a time."""
    padder = SequencePadder(length, padding=padding, truncating=truncating, value=value)
    expected = _naive_pad(X, length, padding, truncating, value)
    assert_array_equal(padder.fit_transform(X), expected)

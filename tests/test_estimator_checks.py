"""scikit-learn's own estimator checks on every public estimator."""

import functools
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import estimator_checks
from sklearn.utils._testing import assert_allclose, assert_allclose_dense_sparse
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_rnn

# The per-step estimators take a target per time step, which these checks never
# generate: tests/test_tagger.py runs the checks on them, listing those that fail.
PER_STEP = {"StepwiseRegressor"}
# Seq2SeqClassifier takes a token sequence per sample: tests/test_seq2seq.py runs the
# checks on it, listing those that fail. (Seq2SeqRegressor reads a 1-D y as one-step
# outputs and passes here.)
SEQUENCE_TARGETS = {"Seq2SeqClassifier"}
ESTIMATOR_NAMES = sorted(
    name
    for name in sklearn_rnn.__all__
    if name.endswith(("Classifier", "Regressor")) and name not in PER_STEP | SEQUENCE_TARGETS
)

# Small networks and a high learning rate: the checks fit a few hundred short
# sequences dozens of times, and check_classifiers_train/check_regressors_train
# still need a model that really learns.
FAST = dict(hidden_size=16, max_iter=50, learning_rate=1e-2, random_state=0)

# In scikit-learn's checks a 2-D X is (n_samples, n_features); here a 2-D X is
# (n_samples, n_timesteps) of univariate sequences, as the package documents.
# Fewer columns at predict time are shorter sequences, which are valid, and
# n_features_in_ counts features per time step (1 for a 2-D X).
_TWO_D_IS_TIME = (
    "a 2-D X holds univariate sequences: its columns are time steps, so "
    "n_features_in_ is 1 and a different number of columns is a different, valid, "
    "sequence length"
)
EXPECTED_FAILED_CHECKS = {
    "check_n_features_in": _TWO_D_IS_TIME,
    "check_n_features_in_after_fitting": _TWO_D_IS_TIME,
    "check_estimators_partial_fit_n_features": _TWO_D_IS_TIME,
    "check_classifiers_train": _TWO_D_IS_TIME + " (fails only at its final "
    "'different number of features in predict' step; accuracy is tested in "
    "test_estimators.py)",
    "check_estimators_empty_data_messages": "an (n, 0) array is sequences of 0 time "
    "steps, and the error says so instead of '0 feature(s)'",
    # transform (the final hidden state) makes the many-to-one estimators transformers.
    "check_transformer_general": _TWO_D_IS_TIME + " (fails only at its final "
    "'different number of features in transform' step; fit_transform against "
    "fit().transform and repeated fits pass before it, see test_transform.py)",
}


# These checks compare predictions on subsets or permutations of a batch with
# those of the whole batch at rtol=1e-7. Networks compute in float32, and BLAS
# kernels round differently for different batch sizes (differences of ~1e-7 were
# seen), so these two checks run with float32's tolerance. Exact padding
# invariance is tested in test_estimators.py.
FLOAT32_CHECKS = {"check_methods_subset_invariance", "check_methods_sample_order_invariance"}


def _estimators():
    for name in ESTIMATOR_NAMES:
        yield getattr(sklearn_rnn, name)(**FAST)
    # The numba backend trains and predicts through the same estimator code.
    yield sklearn_rnn.GRUClassifier(backend="numba", **FAST)
    yield sklearn_rnn.RNNRegressor(backend="numba", **FAST)


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(
    list(_estimators()), expected_failed_checks=_expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible_estimator(estimator, check, monkeypatch):
    """Each estimator passes scikit-learn's estimator checks (except those listed)."""
    check_name = getattr(check, "func", check).__name__
    if check_name in FLOAT32_CHECKS:
        for name, function in [
            ("assert_allclose", assert_allclose),
            ("assert_allclose_dense_sparse", assert_allclose_dense_sparse),
        ]:
            monkeypatch.setattr(
                estimator_checks, name, functools.partial(function, rtol=1e-5, atol=1e-6)
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)

"""Write the saved-model fixtures of the current format version, for tests/test_persistence.py.

Run from the repository root when the format version is bumped (the files of
older versions stay, untouched, so that the tests keep checking that they load):

    python tests/data/make_fixtures.py

Each model is saved as ``<name>_v<format version>.skrnn`` next to a
``.json`` file with the inputs and the predictions it made when saved.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_rnn import GRUClassifier
from sklearn_rnn._persistence import FORMAT_VERSION

HERE = Path(__file__).resolve().parent


def classifier():
    """A small bidirectional GRU with string labels and class weights, on ragged input."""
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(2, 6), 2)).round(3) for _ in range(16)]
    y = np.where([x[:, 0].sum() > 0 for x in X], "up", "down")
    model = GRUClassifier(
        hidden_size=3,
        bidirectional=True,
        max_iter=2,
        batch_size=8,
        class_weight={"down": 1.0, "up": 2.0},
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model, X


def main():
    torch.set_num_threads(1)
    model, X = classifier()
    stem = HERE / f"classifier_v{FORMAT_VERSION}"
    model.save(stem.with_suffix(".skrnn"))
    expected = {
        "X": [x.tolist() for x in X],
        "predict": model.predict(X).tolist(),
        "predict_proba": model.predict_proba(X).tolist(),
    }
    stem.with_suffix(".json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Loaders for UCR/UEA problems: vendored ones, and those sktime or aeon ship.

Lookup never imports sktime or aeon (both are slow to import and pull in
pandas): ``importlib.util.find_spec`` locates their package directory and we
read the ``.ts`` files in it ourselves.
"""

import difflib
import functools
import importlib.util
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ._ts_format import load_ts_file

_DATA_DIR = Path(__file__).parent / "data"
# Searched in this order after our own data folder; the first match wins.
_PROVIDERS = ("sktime", "aeon")
_SUFFIXES = (".ts", ".ts.gz")

_JAPANESE_VOWELS_DESCR = """\
.. _japanese_vowels_dataset:

Japanese Vowels dataset
-----------------------

**Data Set Characteristics:**

=================   ==============================================
Classes             9 speakers, labelled "1" to "9"
Sequences           640: 270 train, 370 test
Channels            12 LPC cepstrum coefficients
Sequence length     7 to 29 time steps (varies)
Train per class     30
Test per class      31, 35, 88, 44, 29, 24, 40, 50, 29
Missing values      none
=================   ==============================================

Nine male speakers uttered the two Japanese vowels /ae/ in succession. Each
utterance was analysed by 12-degree linear prediction (sampling rate 10 kHz,
frames of 25.6 ms shifted by 6.4 ms), giving one time step of 12 cepstrum
coefficients per frame. The task is to tell which speaker spoke. The test
utterances were recorded on other occasions than the training ones.

The data were donated to the UCI Machine Learning Repository by Mineichi
Kudo, Jun Toyama and Masaru Shimbo (Hokkaido University) [1]_ under the
CC BY 4.0 license; the train/test split is theirs. The copy shipped here is
the ``.ts`` file of the UEA multivariate archive [2]_ as bundled with sktime.

Recurrent networks do well on this problem: leaky-integrator echo state
networks classified all 370 test utterances correctly [3]_.

References
~~~~~~~~~~

.. [1] M. Kudo, J. Toyama and M. Shimbo (1999). "Multidimensional curve
   classification using passing-through regions". Pattern Recognition
   Letters 20(11-13), 1103-1111.
.. [2] A. Bagnall, H. A. Dau, J. Lines, M. Flynn, J. Large, A. Bostrom,
   P. Southam and E. Keogh (2018). "The UEA multivariate time series
   classification archive, 2018". arXiv:1811.00075.
.. [3] H. Jaeger, M. Lukosevicius, D. Popovici and U. Siewert (2007).
   "Optimization and applications of echo state networks with
   leaky-integrator neurons". Neural Networks 20(3), 335-352.
"""


def _split_file(directory, name, split):
    """The ``<name>_<SPLIT>.ts`` or ``.ts.gz`` file in ``directory``, or None."""
    for suffix in _SUFFIXES:
        path = directory / f"{name}_{split.upper()}{suffix}"
        if path.is_file():
            return path
    return None


def _problem_files(directory, name):
    """``{"train": path, "test": path}`` if both files are in ``directory``."""
    files = {split: _split_file(directory, name, split) for split in ("train", "test")}
    return files if all(files.values()) else None


def _provider_data_dir(package):
    """``<package>/datasets/data`` of an installed package, or None; no import."""
    try:
        # A top-level name: find_spec does not run the package's __init__.
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        directory = Path(location) / "datasets" / "data"
        if directory.is_dir():
            return directory
    return None


def _find_problem(name):
    """Locate ``name``; return ``(source, files)`` or None. Our data folder wins."""
    files = _problem_files(_DATA_DIR, name)
    if files:
        return "sklearn_rnn", files
    for package in _PROVIDERS:
        directory = _provider_data_dir(package)
        if directory is not None:
            files = _problem_files(directory / name, name)
            if files:
                return package, files
    return None


def _available_problems():
    """``{name: source}`` of every problem that ``load_ucr_uea`` can load."""
    available = {}
    for path in _DATA_DIR.glob("*_TRAIN.ts*"):
        name = path.name.split("_TRAIN.ts")[0]
        if _problem_files(_DATA_DIR, name):
            available.setdefault(name, "sklearn_rnn")
    for package in _PROVIDERS:
        directory = _provider_data_dir(package)
        if directory is None:
            continue
        for sub in directory.iterdir():
            if sub.is_dir() and _problem_files(sub, sub.name):
                available.setdefault(sub.name, package)
    return dict(sorted(available.items(), key=lambda item: item[0].lower()))


@functools.lru_cache(maxsize=8)
def _read_cached(path, mtime_ns):
    """Parse one file once; ``mtime_ns`` in the key drops stale entries."""
    X, y, header = load_ts_file(path, return_header=True)
    if y is None:
        raise ValueError(
            f"{path} has neither class labels nor regression targets; "
            "read it with load_ts_file."
        )
    # Read-only, so that a bug handing out the cached arrays fails loudly.
    for x in X:
        x.flags.writeable = False
    y.flags.writeable = False
    return tuple(X), y, header


def _read(path):
    """Parse ``path`` through the cache; return arrays the caller may modify.

    The header dict is shared with the cache: it must stay internal.
    """
    X, y, header = _read_cached(str(path), os.stat(path).st_mtime_ns)
    return [x.copy() for x in X], y.copy(), header


def _load(name, source, files, split, return_X_y, descr):
    """Read the requested split(s) of a located problem into X, y or a Bunch."""
    splits = ("train", "test") if split is None else (split,)
    parts = [_read(files[s]) for s in splits]
    headers = [header for _, _, header in parts]
    if any(h["target_label"] != headers[0]["target_label"] for h in headers):
        raise ValueError(
            f"{name}: the train file is a "
            f"{'regression' if headers[0]['target_label'] else 'classification'} "
            "problem but the test file is not; load one split at a time."
        )
    X = [x for part_X, _, _ in parts for x in part_X]
    y = np.concatenate([part_y for _, part_y, _ in parts])
    if return_X_y:
        return X, y

    descr = descr or headers[0]["description"] or f"{name}, read from {source}."
    bunch = Bunch(data=X, target=y, DESCR=descr)
    if headers[0]["class_labels"] is not None:
        bunch.target_names = np.asarray(headers[0]["class_labels"])
    return bunch


@validate_params(
    {"split": [StrOptions({"train", "test"}), None], "return_X_y": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_japanese_vowels(*, split=None, return_X_y=False):
    """Load the Japanese Vowels speaker-identification dataset (classification).

    640 utterances of the Japanese vowels /ae/ by 9 male speakers, each a
    sequence of 7 to 29 time steps of 12 LPC cepstrum coefficients. The task is
    to identify the speaker. The data ship with sklearn-rnn; nothing is
    downloaded.

    =================   ==============
    Classes                          9
    Sequences (train)              270
    Sequences (test)               370
    Channels                        12
    Sequence length             7 - 29
    =================   ==============

    Parameters
    ----------
    split : {"train", "test"} or None, default=None
        Which part of the original train/test split to load. None loads both,
        the 270 training sequences first, then the 370 test sequences.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch object.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : list of ndarray of shape (T_i, 12), dtype float64
            The sequences, time steps first.
        target : ndarray of shape (n_sequences,), dtype str
            The speaker of each sequence, ``"1"`` to ``"9"``.
        target_names : ndarray of shape (9,), dtype str
            The class labels.
        DESCR : str
            The full description of the dataset, with references.

    (data, target) : tuple if ``return_X_y`` is True
        The list of sequences and the array of labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn.datasets import load_japanese_vowels
    >>> X_train, y_train = load_japanese_vowels(split="train", return_X_y=True)
    >>> len(X_train), X_train[0].shape
    (270, (20, 12))
    >>> np.unique(y_train)
    array(['1', '2', '3', '4', '5', '6', '7', '8', '9'], dtype='<U1')
    >>> bunch = load_japanese_vowels()
    >>> len(bunch.data), min(map(len, bunch.data)), max(map(len, bunch.data))
    (640, 7, 29)
    """
    name = "JapaneseVowels"
    files = _problem_files(_DATA_DIR, name)
    descr = _JAPANESE_VOWELS_DESCR
    return _load(name, "sklearn_rnn", files, split, return_X_y, descr)


@validate_params(
    {
        "name": [str],
        "split": [StrOptions({"train", "test"}), None],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_ucr_uea(name, *, split=None, return_X_y=False):
    """Load a problem of the UCR/UEA time series archives by name.

    The ``<name>_TRAIN.ts`` and ``<name>_TEST.ts`` files (optionally
    gzip-compressed) are looked for first among the files shipped with
    sklearn-rnn, then in the ``datasets/data/<name>/`` folder of an installed
    sktime or aeon package. Neither package is imported, and nothing is
    downloaded.

    Parameters
    ----------
    name : str
        The problem name, exactly as in the archive, e.g. ``"JapaneseVowels"``
        (shipped with sklearn-rnn) or, with sktime installed,
        ``"BasicMotions"`` or ``"Tecator"``.

    split : {"train", "test"} or None, default=None
        Which part of the archive's train/test split to load. None loads both,
        the training cases first.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch object.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : list of ndarray of shape (T_i, n_channels), dtype float64
            The sequences, time steps first. Missing values are NaN.
        target : ndarray of shape (n_sequences,)
            Class labels as strings, as written in the files, or float targets
            for regression problems.
        target_names : ndarray of str
            The class labels declared by the file; classification only.
        DESCR : str
            The description found in the file's header comments.

    (data, target) : tuple if ``return_X_y`` is True
        The list of sequences and the array of targets.

    Raises
    ------
    ValueError
        If no problem of that name is found; the message lists the names that
        are available.

    See Also
    --------
    load_japanese_vowels : The shipped Japanese Vowels problem, with a fuller
        description.
    load_ts_file : Read any ``.ts`` file.

    Examples
    --------
    >>> from sklearn_rnn.datasets import load_ucr_uea
    >>> X, y = load_ucr_uea("JapaneseVowels", split="test", return_X_y=True)
    >>> len(X), X[0].shape[1], y[:3]
    (370, 12, array(['1', '1', '1'], dtype='<U1'))
    """
    # A name is a file-name stem, never a path into some other folder.
    found = None if "/" in name or "\\" in name else _find_problem(name)
    if found is None:
        available = _available_problems()
        close = difflib.get_close_matches(name, list(available), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        names = ", ".join(f"{n} ({source})" for n, source in available.items())
        more = ""
        if not any(_provider_data_dir(package) for package in _PROVIDERS):
            more = (
                " Installing sktime (pip install sktime) or aeon makes more "
                "available, e.g. BasicMotions, GunPoint, ItalyPowerDemand and, for "
                "regression, Tecator."
            )
        raise ValueError(
            f"Unknown UCR/UEA problem {name!r}.{hint} Available: {names}.{more}"
        )
    source, files = found
    return _load(name, source, files, split, return_X_y, descr=None)

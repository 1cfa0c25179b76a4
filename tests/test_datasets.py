import gzip
import hashlib
import importlib.util
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sklearn_rnn.datasets import (
    _loaders,
    load_japanese_vowels,
    load_ts_file,
    load_ucr_uea,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
needs_sktime = pytest.mark.skipif(
    importlib.util.find_spec("sktime") is None, reason="sktime is not installed"
)


def _ts(text):
    """A file object over dedented ``.ts`` text."""
    return io.StringIO(textwrap.dedent(text).lstrip())


# JapaneseVowels ---------------------------------------------------------------


@pytest.mark.parametrize(
    "split, n_sequences, max_length",
    [("train", 270, 26), ("test", 370, 29), (None, 640, 29)],
)
def test_japanese_vowels_shapes(split, n_sequences, max_length):
    """Each split has the documented size, 12 float64 channels and lengths 7-29."""
    X, y = load_japanese_vowels(split=split, return_X_y=True)
    assert len(X) == len(y) == n_sequences
    assert all(x.dtype == np.float64 and x.ndim == 2 and x.shape[1] == 12 for x in X)
    assert all(x.flags.c_contiguous for x in X)
    lengths = [len(x) for x in X]
    assert min(lengths) == 7 and max(lengths) == max_length
    assert len(set(lengths)) > 1
    assert all(np.isfinite(x).all() for x in X)


def test_japanese_vowels_classes():
    """Nine speakers "1".."9" with the per-speaker counts given by UCI."""
    y_train = load_japanese_vowels(split="train", return_X_y=True)[1]
    y_test = load_japanese_vowels(split="test", return_X_y=True)[1]
    labels, train_counts = np.unique(y_train, return_counts=True)
    assert labels.tolist() == [str(i) for i in range(1, 10)]
    assert train_counts.tolist() == [30] * 9
    _, test_counts = np.unique(y_test, return_counts=True)
    assert test_counts.tolist() == [31, 35, 88, 44, 29, 24, 40, 50, 29]


def test_japanese_vowels_time_steps_first():
    """Row t of a case holds value t of every channel of the file's line."""
    X, _ = load_japanese_vowels(split="train", return_X_y=True)
    assert X[0].shape == (20, 12)
    np.testing.assert_allclose(X[0][:3, 0], [1.860936, 1.891651, 1.939205])
    np.testing.assert_allclose(X[0][:2, 1], [-0.207383, -0.193249])


def test_japanese_vowels_all_is_train_then_test():
    """split=None is the training split followed by the test split."""
    X_train, y_train = load_japanese_vowels(split="train", return_X_y=True)
    X_test, y_test = load_japanese_vowels(split="test", return_X_y=True)
    X, y = load_japanese_vowels(return_X_y=True)
    np.testing.assert_array_equal(y, np.concatenate([y_train, y_test]))
    for a, b in zip(X, X_train + X_test, strict=True):
        np.testing.assert_array_equal(a, b)


def test_japanese_vowels_bunch():
    """The Bunch holds data, target, target_names and a DESCR with the reference."""
    bunch = load_japanese_vowels()
    X, y = load_japanese_vowels(return_X_y=True)
    assert len(bunch.data) == len(X)
    np.testing.assert_array_equal(bunch.target, y)
    assert bunch.target_names.tolist() == [str(i) for i in range(1, 10)]
    assert "Kudo" in bunch.DESCR and "CC BY 4.0" in bunch.DESCR


def test_japanese_vowels_returns_independent_copies():
    """Modifying what a call returned does not change what the next call returns."""
    X, y = load_japanese_vowels(split="train", return_X_y=True)
    first = X[0].copy()
    X[0][:] = -1.0
    X.pop()
    y[:] = "x"
    X_again, y_again = load_japanese_vowels(split="train", return_X_y=True)
    assert len(X_again) == 270
    np.testing.assert_array_equal(X_again[0], first)
    assert X_again[0].flags.writeable
    assert "x" not in y_again


@pytest.mark.parametrize("split", ["TRAIN", "validation", 1])
def test_invalid_split(split):
    """An unknown split is rejected with the allowed values."""
    with pytest.raises(ValueError, match="'split' parameter"):
        load_japanese_vowels(split=split)


def test_vendored_files_match_readme_checksums():
    """The vendored files decompress to the bytes the data README records."""
    readme = (_loaders._DATA_DIR / "README.md").read_text()
    for split in ("TRAIN", "TEST"):
        with gzip.open(_loaders._DATA_DIR / f"JapaneseVowels_{split}.ts.gz") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        assert f"`{digest}` ({split})" in readme


def test_import_is_light():
    """Importing and loading needs neither torch, pandas, sktime nor aeon."""
    script = textwrap.dedent(
        """
        import sys
        # scikit-learn imports pandas itself whenever it is installed; make it
        # unimportable so that any use of pandas by us fails here.
        sys.modules["pandas"] = None
        import sklearn_rnn.datasets
        sklearn_rnn.datasets.load_japanese_vowels()
        sklearn_rnn.datasets.load_ucr_uea("JapaneseVowels")
        print(sorted(m for m in ("torch", "sktime", "aeon") if m in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# load_ucr_uea -----------------------------------------------------------------


def test_ucr_uea_vendored_japanese_vowels():
    """load_ucr_uea finds JapaneseVowels among the vendored files."""
    X, y = load_ucr_uea("JapaneseVowels", split="test", return_X_y=True)
    X_ref, y_ref = load_japanese_vowels(split="test", return_X_y=True)
    assert len(X) == 370
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(X[-1], X_ref[-1])
    assert _loaders._find_problem("JapaneseVowels")[0] == "sklearn_rnn"


def test_ucr_uea_unknown_name_lists_available(monkeypatch):
    """An unknown name gets the available names, a close match and a pip hint."""
    monkeypatch.setattr(_loaders, "_PROVIDERS", ())
    with pytest.raises(ValueError, match="Unknown UCR/UEA problem") as excinfo:
        load_ucr_uea("JapaneseVowel")
    message = str(excinfo.value)
    assert "JapaneseVowels (sklearn_rnn)" in message
    assert "Did you mean 'JapaneseVowels'?" in message
    assert "pip install sktime" in message


def test_ucr_uea_rejects_paths():
    """A name containing a path separator is not looked up as a path."""
    with pytest.raises(ValueError, match="Unknown UCR/UEA problem"):
        load_ucr_uea("../data/JapaneseVowels")


def test_ucr_uea_provider_is_not_imported(tmp_path, monkeypatch):
    """Problems in a provider package load without importing that package."""
    package = tmp_path / "fakeprovider"
    problem = package / "datasets" / "data" / "Toy"
    problem.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")
    text = "@problemName Toy\n@targetLabel true\n@data\n1,2,3:0.5\n4,5:1.5\n"
    (problem / "Toy_TRAIN.ts").write_text(text)
    with gzip.open(problem / "Toy_TEST.ts.gz", "wt") as f:
        f.write(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_loaders, "_PROVIDERS", ("fakeprovider",))

    bunch = load_ucr_uea("Toy")
    assert "fakeprovider" not in sys.modules
    np.testing.assert_array_equal(bunch.target, [0.5, 1.5, 0.5, 1.5])
    assert [x.shape for x in bunch.data] == [(3, 1), (2, 1)] * 2
    assert "target_names" not in bunch
    assert "Toy" in _loaders._available_problems()


@needs_sktime
def test_ucr_uea_basic_motions_from_sktime():
    """BasicMotions loads from an installed sktime: 80 cases of 100 x 6."""
    bunch = load_ucr_uea("BasicMotions")
    assert len(bunch.data) == 80
    assert all(x.shape == (100, 6) for x in bunch.data)
    assert set(bunch.target) == {"Standing", "Running", "Walking", "Badminton"}
    assert bunch.DESCR


@needs_sktime
def test_ucr_uea_tecator_regression_from_sktime():
    """Tecator (regression) loads from sktime with float targets."""
    X, y = load_ucr_uea("Tecator", split="train", return_X_y=True)
    assert len(X) == len(y) == 172
    assert y.dtype == np.float64
    assert all(x.shape == (100, 1) for x in X)


# The .ts reader ---------------------------------------------------------------


def test_read_univariate():
    """A univariate file gives (T, 1) arrays and its string labels."""
    X, y = load_ts_file(
        _ts(
            """
            # a comment
            @problemName Uni
            @univariate true
            @equalLength true
            @seriesLength 3
            @classLabel true yes no
            @data
            1,2,3:yes
            4,5,6:no
            """
        )
    )
    assert [x.shape for x in X] == [(3, 1), (3, 1)]
    np.testing.assert_array_equal(X[1][:, 0], [4.0, 5.0, 6.0])
    assert y.tolist() == ["yes", "no"]


def test_read_multivariate_variable_length():
    """Channels become columns and each case keeps its own length."""
    X, y, header = load_ts_file(
        _ts(
            """
            @problemname Multi
            @univariate false
            @dimensions 3
            @equallength false
            @classlabel true 1 2
            @data
            1,2:3,4:5,6:1
            7,8,9,10:11,12,13,14:15,16,17,18:2
            """
        ),
        return_header=True,
    )
    np.testing.assert_array_equal(X[0], [[1, 3, 5], [2, 4, 6]])
    assert X[1].shape == (4, 3)
    np.testing.assert_array_equal(X[1][-1], [10, 14, 18])
    assert y.tolist() == ["1", "2"]
    assert header["problem_name"] == "Multi"
    assert header["dimensions"] == 3 and header["class_labels"] == ["1", "2"]


def test_read_missing_values():
    """'?' is NaN when the header says '@missing true'."""
    X, _ = load_ts_file(
        _ts(
            """
            @missing true
            @classLabel true a
            @data
            1,?,3:a
            """
        )
    )
    np.testing.assert_array_equal(X[0][:, 0], [1.0, np.nan, 3.0])


def test_read_missing_values_not_declared():
    """'?' in a file that says '@missing false' is an error naming the line."""
    text = "@missing false\n@classLabel true a\n@data\n1,2:a\n1,?,3:a\n"
    with pytest.raises(ValueError, match=r"line 5: .*'@missing false'"):
        load_ts_file(io.StringIO(text))


def test_read_regression_targets():
    """'@targetLabel true' gives float targets."""
    X, y = load_ts_file(_ts("@targetlabel true\n@data\n1,2:0.25\n3,4,5:-1e3\n"))
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [0.25, -1000.0])
    assert [len(x) for x in X] == [2, 3]


def test_read_unlabelled():
    """A file without labels or targets gives y=None."""
    X, y = load_ts_file(_ts("@classLabel false\n@data\n1,2:3,4\n"))
    assert y is None
    np.testing.assert_array_equal(X[0], [[1, 3], [2, 4]])


@pytest.mark.parametrize(
    "data_lines, line, match",
    [
        (["1,2,3:a", "1,x,3:a"], 6, "could not read the values"),
        (["1,2,3:a", "1,2:3,4:a"], 6, "expected 1 channel"),
        (["1,2,3:a", "1,2,3:c"], 6, "class label 'c' is not among"),
        (["1,2,3"], 5, "found no ':'"),
        (["1,2,3:"], 5, "label after the last ':' is empty"),
        (["1,2,3:a", "", "1,,3:a"], 7, "could not read the values"),
        (["(0,1),(1,2):a"], 5, "timestamped series are not supported"),
    ],
)
def test_read_malformed_line(data_lines, line, match):
    """A malformed data line is a ValueError naming the file and line number."""
    text = "@problemName Bad\n@univariate true\n@classLabel true a b\n@data\n"
    text += "\n".join(data_lines) + "\n"
    with pytest.raises(ValueError, match=rf"<file>, line {line}: .*{match}"):
        load_ts_file(io.StringIO(text))


def test_read_channels_of_different_lengths():
    """The channels of one case must have the same length."""
    text = "@dimensions 2\n@classLabel true a\n@data\n1,2,3:4,5:a\n"
    with pytest.raises(ValueError, match="line 4: channel 1 has 2 values"):
        load_ts_file(io.StringIO(text))


def test_read_series_length_mismatch():
    """A series longer than '@seriesLength' is an error."""
    text = "@equalLength true\n@seriesLength 2\n@classLabel true a\n@data\n1,2,3:a\n"
    with pytest.raises(ValueError, match="line 5: .*'@seriesLength 2'"):
        load_ts_file(io.StringIO(text))


@pytest.mark.parametrize(
    "header, match",
    [
        ("@classLabel true\n", "must be followed by the class labels"),
        ("@missing maybe\n", "must be 'true' or 'false'"),
        ("@dimensions two\n", "must be a positive integer"),
        ("1,2,3\n", "expected a header tag"),
        ("@classLabel true a\n@targetLabel true\n", "both"),
    ],
)
def test_read_malformed_header(header, match):
    """A malformed header is a ValueError with the reason."""
    with pytest.raises(ValueError, match=match):
        load_ts_file(io.StringIO(header + "@data\n"))


def test_read_no_data_tag():
    """A file without '@data' is rejected."""
    with pytest.raises(ValueError, match="no '@data' line"):
        load_ts_file(io.StringIO("@problemName Empty\n"))


def test_read_timestamps_not_implemented():
    """'@timeStamps true' files are rejected, naming the feature."""
    with pytest.raises(NotImplementedError, match="@timeStamps true"):
        load_ts_file(io.StringIO("@timeStamps true\n@data\n(0,1.0):a\n"))


def test_read_paths_and_gzip(tmp_path):
    """Paths (str or Path, plain or .gz) and binary files give the same result."""
    text = "@classLabel true a b\n@data\n1,2:a\n3,4,5:b\n"
    plain = tmp_path / "toy.ts"
    plain.write_text(text)
    compressed = tmp_path / "toy.ts.gz"
    with gzip.open(compressed, "wt") as f:
        f.write(text)
    expected_X, expected_y = load_ts_file(io.StringIO(text))
    with open(plain, "rb") as binary:
        results = [load_ts_file(plain), load_ts_file(str(compressed))]
        results.append(load_ts_file(binary))
        assert not binary.closed
    for X, y in results:
        np.testing.assert_array_equal(y, expected_y)
        for a, b in zip(X, expected_X, strict=True):
            np.testing.assert_array_equal(a, b)


def test_read_error_names_path(tmp_path):
    """Errors in a file read from a path name that path."""
    path = tmp_path / "broken.ts.gz"
    with gzip.open(path, "wt") as f:
        f.write("@classLabel true a\n@data\n1,2:a\n1,2\n")
    with pytest.raises(ValueError, match=r"broken\.ts\.gz, line 4"):
        load_ts_file(path)

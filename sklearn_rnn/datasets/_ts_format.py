"""Reader for the ``.ts`` text format of the UCR/UEA time series archives.

A ``.ts`` file is a header of ``@tag value`` lines (``#`` and ``%`` lines are
comments) ended by ``@data``, then one line per case::

    1.0,2.0,3.0:4.0,5.0,6.0:label

Channels are separated by ``:``, the values of one channel by ``,`` and the last
``:``-field is the class label or regression target. The file stores each case
channel-major; we hand back time-major ``(T_i, n_channels)`` arrays, the layout
every sklearn-rnn estimator takes.

The format is described at https://www.timeseriesclassification.com and in
the sktime and aeon readers. This reader needs NumPy only.
"""

import contextlib
import gzip
import io
import os

import numpy as np

# Header tags that take ``true``/``false``, keyed by their lower-cased name.
_BOOLEAN_TAGS = {
    "timestamps": "timestamps",
    "missing": "missing",
    "univariate": "univariate",
    "equallength": "equal_length",
    "targetlabel": "target_label",
}
_INTEGER_TAGS = {"serieslength": "series_length", "dimensions": "dimensions"}
# '%' is the ARFF comment the format inherited; some bundled files still use it.
_COMMENT_MARKERS = ("#", "%")


def _new_header():
    """The header of a file that declares nothing; ``None`` means "not stated"."""
    return {
        "problem_name": None,
        "timestamps": False,
        "missing": False,
        "univariate": None,
        "equal_length": None,
        "series_length": None,
        "dimensions": None,
        "class_labels": None,
        "target_label": False,
        "description": "",
    }


@contextlib.contextmanager
def _open_text(file):
    """Yield ``(lines, name)`` for a path (``.gz`` is decompressed) or an open file."""
    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        opener = gzip.open if path.endswith(".gz") else open
        # utf-8-sig: a byte-order mark would otherwise end up in the first tag.
        with opener(path, "rt", encoding="utf-8-sig") as opened:
            yield opened, path
    elif isinstance(file, (io.RawIOBase, io.BufferedIOBase)):
        text = io.TextIOWrapper(file, encoding="utf-8-sig")
        try:
            yield text, getattr(file, "name", "<file>")
        finally:
            # Detach so that the wrapper does not close the caller's file.
            text.detach()
    elif hasattr(file, "read"):
        yield file, getattr(file, "name", "<file>")
    else:
        raise TypeError(
            f"file must be a path or an open text file, got {type(file).__name__}."
        )


def _parse_bool(tag, value, where):
    """``"true"``/``"false"`` -> bool, anything else is an error at ``where``."""
    if value not in ("true", "false"):
        raise ValueError(f"{where}: @{tag} must be 'true' or 'false', got {value!r}.")
    return value == "true"


def _parse_header_line(line, header, where):
    """Store one ``@tag value`` line in ``header``; return True at ``@data``."""
    tag, _, rest = line[1:].partition(" ")
    key = tag.lower()
    tokens = rest.split()
    if key == "data":
        if tokens:
            raise ValueError(f"{where}: @data takes no value, got {rest.strip()!r}.")
        return True
    if key == "problemname":
        header["problem_name"] = rest.strip()
    elif key in _BOOLEAN_TAGS:
        value = tokens[0].lower() if len(tokens) == 1 else " ".join(tokens)
        header[_BOOLEAN_TAGS[key]] = _parse_bool(tag, value, where)
    elif key in _INTEGER_TAGS:
        if len(tokens) != 1 or not tokens[0].isdigit() or int(tokens[0]) < 1:
            raise ValueError(
                f"{where}: @{tag} must be a positive integer, got {rest.strip()!r}."
            )
        header[_INTEGER_TAGS[key]] = int(tokens[0])
    elif key == "classlabel":
        flag = _parse_bool(tag, tokens[0].lower() if tokens else "", where)
        if flag and len(tokens) < 2:
            raise ValueError(
                f"{where}: '@{tag} true' must be followed by the class labels, "
                "e.g. '@classLabel true 1 2 3'."
            )
        header["class_labels"] = tokens[1:] if flag else None
    # Other tags are ignored so that files written by newer tools still load.
    return False


def _read_header(lines, name):
    """Consume ``(lineno, line)`` pairs up to ``@data``; return the header dict."""
    header = _new_header()
    comments = []
    for lineno, raw in lines:
        line = raw.strip()
        where = f"{name}, line {lineno}"
        if not line:
            continue
        if line.startswith(_COMMENT_MARKERS):
            comments.append(line.lstrip("#%").strip())
            continue
        if not line.startswith("@"):
            raise ValueError(
                f"{where}: expected a header tag such as '@problemName' or "
                f"'@data' before the data, got {line[:40]!r}."
            )
        if _parse_header_line(line, header, where):
            break
    else:
        raise ValueError(f"{name}: no '@data' line; this is not a .ts file.")

    if header["class_labels"] is not None and header["target_label"]:
        raise ValueError(
            f"{name}: the header declares both '@classLabel true' and "
            "'@targetLabel true'; a problem is classification or regression."
        )
    if header["timestamps"]:
        raise NotImplementedError(
            f"{name}: '@timeStamps true' (series stored as (time, value) tuples) "
            "is not supported; convert the file to the plain comma-separated form."
        )
    header["description"] = "\n".join(comments).strip()
    return header


def _expected_channels(header):
    """The channel count the header promises, or None to take the first case's."""
    if header["dimensions"] is not None:
        return header["dimensions"]
    if header["univariate"]:
        return 1
    return None


def _to_floats(rows, missing):
    """Rows of number strings as a float array; ``?`` is NaN if ``missing``."""
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:
        if not missing:
            raise
    # Only the slow path looks for '?', so files without gaps pay nothing.
    rows = [[np.nan if v.strip() == "?" else v for v in row] for row in rows]
    return np.array(rows, dtype=np.float64)


def _parse_case(line, header, n_channels, where):
    """One data line -> ``(array of shape (T, n_channels), label or None)``."""
    fields = line.split(":")
    labelled = header["class_labels"] is not None or header["target_label"]
    label = None
    if labelled:
        if len(fields) < 2:
            raise ValueError(
                f"{where}: expected channels followed by ':<label>', found no ':'."
            )
        label = fields.pop().strip()
        if not label:
            raise ValueError(f"{where}: the label after the last ':' is empty.")
    if any("(" in field for field in fields):
        raise ValueError(
            f"{where}: found '(' but the header does not say '@timeStamps true'; "
            "timestamped series are not supported."
        )
    if n_channels is not None and len(fields) != n_channels:
        raise ValueError(
            f"{where}: expected {n_channels} channel(s) separated by ':', "
            f"found {len(fields)}."
        )

    rows = []
    for channel, field in enumerate(fields):
        values = field.split(",")
        if rows and len(values) != len(rows[0]):
            raise ValueError(
                f"{where}: channel {channel} has {len(values)} values but channel 0 "
                f"has {len(rows[0])}; all channels of a case must have the same length."
            )
        rows.append(values)
    try:
        case = _to_floats(rows, header["missing"])
    except ValueError as exc:
        if not header["missing"] and any("?" in field for field in fields):
            raise ValueError(
                f"{where}: found the missing-value marker '?' but the header "
                "says '@missing false'; set '@missing true'."
            ) from exc
        raise ValueError(
            f"{where}: could not read the values as numbers ({exc})."
        ) from exc

    length = header["series_length"]
    # An '@equalLength false' file may still carry a (meaningless) @seriesLength.
    binding = length is not None and header["equal_length"] is not False
    if binding and case.shape[1] != length:
        raise ValueError(
            f"{where}: the series has {case.shape[1]} time steps but the "
            f"header says '@seriesLength {length}'."
        )
    if header["class_labels"] is not None and label not in header["class_labels"]:
        raise ValueError(
            f"{where}: class label {label!r} is not among the labels declared by "
            f"@classLabel: {header['class_labels']}."
        )
    if header["target_label"]:
        try:
            label = float(label)
        except ValueError:
            raise ValueError(
                f"{where}: regression target {label!r} is not a number."
            ) from None
    # Channel-major in the file, time-major for the estimators.
    return np.ascontiguousarray(case.T), label


def load_ts_file(file, *, return_header=False):
    """Load a UCR/UEA ``.ts`` file into a list of sequences and their targets.

    Parameters
    ----------
    file : str, path-like or file object
        A path to a ``.ts`` file (read through :mod:`gzip` when it ends in
        ``.gz``) or an open text file positioned at its start.

    return_header : bool, default=False
        If True, also return the parsed header.

    Returns
    -------
    X : list of ndarray of shape (T_i, n_channels), dtype float64
        One array per case, time steps first. Missing values (``?`` in files
        that declare ``@missing true``) are NaN.

    y : ndarray of shape (n_cases,) or None
        Class labels as strings, exactly as written in the file, or float
        targets for regression problems (``@targetLabel true``). None when the
        file has neither class labels nor targets.

    header : dict
        Only if ``return_header=True``. The keys are ``problem_name``,
        ``timestamps``, ``missing``, ``univariate``, ``equal_length``,
        ``series_length``, ``dimensions``, ``class_labels`` (list of str or
        None), ``target_label`` and ``description`` (the comment lines).
        ``univariate``, ``equal_length``, ``series_length`` and ``dimensions``
        are None when the file does not state them.

    Raises
    ------
    ValueError
        If the file is malformed; the message names the file and line.

    NotImplementedError
        If the file uses the timestamped ``(time, value)`` form.

    Examples
    --------
    >>> import io
    >>> from sklearn_rnn.datasets import load_ts_file
    >>> text = '''@problemName Toy
    ... @univariate false
    ... @dimensions 2
    ... @classLabel true a b
    ... @data
    ... 1,2,3:4,5,6:a
    ... 7,8:9,10:b
    ... '''
    >>> X, y = load_ts_file(io.StringIO(text))
    >>> [x.shape for x in X]
    [(3, 2), (2, 2)]
    >>> X[0]
    array([[1., 4.],
           [2., 5.],
           [3., 6.]])
    >>> y
    array(['a', 'b'], dtype='<U1')
    """
    with _open_text(file) as (stream, name):
        lines = enumerate(stream, start=1)
        header = _read_header(lines, name)
        n_channels = _expected_channels(header)
        X, labels = [], []
        for lineno, raw in lines:
            line = raw.strip()
            if not line or line.startswith(_COMMENT_MARKERS):
                continue
            where = f"{name}, line {lineno}"
            case, label = _parse_case(line, header, n_channels, where)
            if n_channels is None:
                n_channels = case.shape[1]
            if header["equal_length"] and X and len(case) != len(X[0]):
                raise ValueError(
                    f"{where}: the series has {len(case)} time steps "
                    f"but the first has {len(X[0])}, and the header says "
                    "'@equalLength true'."
                )
            X.append(case)
            labels.append(label)

    if header["target_label"]:
        y = np.asarray(labels, dtype=np.float64)
    elif header["class_labels"] is not None:
        y = np.asarray(labels, dtype=str)
    else:
        y = None
    if return_header:
        return X, y, header
    return X, y

"""Files that hold arrays and a JSON document, and never code.

One file per saved model or checkpoint: the numeric arrays in the
safetensors format, everything else as a JSON document in the safetensors
header. Reading such a file parses JSON and copies bytes into arrays; nothing
in it is ever imported, unpickled or executed. Writes are atomic: the file is
written next to its destination, flushed to disk and renamed over it, so an
interrupted write leaves the previous file (or none) in place, never half a
file. A SHA-256 digest of the array bytes, kept in the header, catches files
corrupted after writing.
"""

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

# The header key that marks a file as ours and holds the JSON document.
DOCUMENT_KEY = "sklearn_rnn"
DIGEST_KEY = "sha256"
# safetensors' header length prefix (8 bytes, little endian) and its own limit.
_PREFIX = 8
_MAX_HEADER = 100_000_000


def _digest(arrays):
    sha = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        sha.update(name.encode("utf-8"))
        sha.update(str(array.dtype).encode("ascii"))
        sha.update(repr(array.shape).encode("ascii"))
        sha.update(array.tobytes())
    return sha.hexdigest()


def write_bundle(path, arrays, document):
    """Write ``arrays`` (name -> numeric ndarray) and ``document`` (JSON-able) to ``path``.

    Atomic: a crash or an exception while writing leaves whatever was at
    ``path`` before untouched. Raises ``TypeError`` naming the value if
    ``document`` is not JSON-serialisable or an array is not numeric.
    """
    from safetensors.numpy import save

    arrays = {name: np.ascontiguousarray(array) for name, array in arrays.items()}
    for name, array in arrays.items():
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"Array {name!r} has dtype {array.dtype}; only boolean and numeric arrays "
                "are stored as arrays (put strings in the JSON document)."
            )
    try:
        text = json.dumps(document, allow_nan=True, sort_keys=True)
    except TypeError as error:
        raise TypeError(f"The saved document must be JSON-serialisable: {error}") from None
    data = save(arrays, metadata={DOCUMENT_KEY: text, DIGEST_KEY: _digest(arrays)})
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _header(data, path):
    if len(data) < _PREFIX:
        raise ValueError(f"{path} is not a sklearn-rnn file: it is empty or truncated ({len(data)} bytes).")
    (length,) = struct.unpack("<Q", data[:_PREFIX])
    if length > _MAX_HEADER or _PREFIX + length > len(data):
        raise ValueError(
            f"{path} is not a readable sklearn-rnn file: its header claims {length} bytes but "
            f"the file has {len(data)} (truncated, or not a safetensors file)."
        )
    try:
        header = json.loads(data[_PREFIX : _PREFIX + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{path} is not a readable sklearn-rnn file: its header is not valid JSON.") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or DOCUMENT_KEY not in metadata:
        raise ValueError(f"{path} is not a sklearn-rnn file (a safetensors file without sklearn-rnn's document).")
    return metadata


def read_bundle(path):
    """The ``(arrays, document)`` written by :func:`write_bundle` to ``path``.

    Raises ``ValueError`` saying what is wrong for a file that is truncated,
    corrupted or not written by sklearn-rnn; ``FileNotFoundError`` if there is
    no file.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load

    path = Path(path)
    data = path.read_bytes()
    metadata = _header(data, path)
    try:
        arrays = load(data)
    except SafetensorError as error:
        raise ValueError(f"{path} is corrupted or truncated: {error}") from None
    if metadata.get(DIGEST_KEY) != _digest(arrays):
        raise ValueError(f"{path} is corrupted: its arrays do not match the checksum written with them.")
    try:
        document = json.loads(metadata[DOCUMENT_KEY])
    except json.JSONDecodeError:
        raise ValueError(f"{path} is corrupted: its document is not valid JSON.") from None
    return arrays, document

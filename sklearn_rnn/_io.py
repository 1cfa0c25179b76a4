"""Files that hold arrays and a JSON document, and never code.

One file per saved model or checkpoint: the numeric arrays in the
safetensors format, everything else as a JSON document in the safetensors
header. Reading such a file parses JSON and copies bytes into arrays; nothing
in it is ever imported, unpickled or executed. Writes are atomic: the file is
written next to its destination, flushed to disk and renamed over it, so an
interrupted write leaves the previous file (or none) in place, never half a
file. A SHA-256 digest of the document and the array bytes, kept in the
header, catches files corrupted after writing.
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


def _digest(arrays, text):
    """SHA-256 of the document ``text`` and of every array's name, dtype, shape and bytes."""
    sha = hashlib.sha256()
    sha.update(text.encode("utf-8"))
    for name in sorted(arrays):
        array = np.asarray(arrays[name], order="C")
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

    # Not np.ascontiguousarray, which turns a 0-d array into shape (1,).
    arrays = {name: np.asarray(array, order="C") for name, array in arrays.items()}
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
    write_atomic(path, save(arrays, metadata={DOCUMENT_KEY: text, DIGEST_KEY: _digest(arrays, text)}))


def write_atomic(path, data):
    """Write the bytes ``data`` to ``path`` atomically.

    The bytes go to a temporary file next to ``path``, are flushed to disk and
    renamed over ``path``: a crash or an exception leaves whatever was at
    ``path`` before untouched, and no temporary file behind.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    mode = _file_mode(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)  # mkstemp makes the file private (0600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _file_mode(path):
    """The permissions of the file written to ``path``: those of the file it replaces,
    else what ``open`` would give a new file (0666 less the umask)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)  # the only way to read the umask: set it and put it back
        os.umask(umask)
        return 0o666 & ~umask


def _sync_directory(directory):
    """Flush the rename to disk, so that it survives a power loss (POSIX; best effort)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows, where directories cannot be opened
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _header(data, path):
    if len(data) < _PREFIX:
        raise ValueError(
            f"{path} is not a sklearn-rnn file: it is empty or truncated ({len(data)} bytes)."
        )
    (length,) = struct.unpack("<Q", data[:_PREFIX])
    if length > _MAX_HEADER or _PREFIX + length > len(data):
        raise ValueError(
            f"{path} is not a readable sklearn-rnn file: its header claims {length} bytes but "
            f"the file has {len(data)} (truncated, or not a safetensors file)."
        )
    try:
        header = json.loads(data[_PREFIX : _PREFIX + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValueError(
            f"{path} is not a readable sklearn-rnn file: its header is not valid JSON."
        ) from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or DOCUMENT_KEY not in metadata:
        raise ValueError(
            f"{path} is not a sklearn-rnn file (a safetensors file without sklearn-rnn's "
            "document)."
        )
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
    text = metadata[DOCUMENT_KEY]
    if not isinstance(text, str) or metadata.get(DIGEST_KEY) != _digest(arrays, text):
        raise ValueError(
            f"{path} is corrupted: its content does not match the checksum written with it."
        )
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ValueError(f"{path} is corrupted: its document is not valid JSON.") from None
    return arrays, document

"""Saving fitted estimators without pickle: ``estimator.save(path)`` and ``load(path)``.

A saved model is one file of :mod:`._io`: the numeric arrays (module weights,
optimizer and criterion state, numeric fitted attributes) in the safetensors
format, and a JSON document for everything else::

    {"format": "sklearn-rnn model", "format_version": 1,
     "sklearn_rnn_version": "...", "library_versions": {...},
     "estimator": {"__type__": "estimator", "class": "GRUClassifier",
                   "params": {...}, "cell": {...}, "attributes": {...}, "net": {...}}}

Values are written by :class:`_Writer` from a closed table of types (None,
bool, int, float, str, list, tuple, dict, NumPy arrays and scalars, torch
tensors, paths, skorch's History, a character vocabulary, a RandomState, a
``torch.optim`` class, a callback of ``sklearn_rnn.callbacks``, a nested
estimator); anything else is refused at save with a ``TypeError`` naming it.
:class:`_Reader` decodes that table only. Loading instantiates nothing but
sklearn-rnn's public estimator classes (looked up by name in the
``sklearn_rnn`` namespace), cell classes through the cell registry, optimizer
classes of ``torch.optim`` and callbacks of ``sklearn_rnn.callbacks``: no
module named in a file is ever imported and nothing in it is executed.

The format has a version. A reader of version ``n`` reads every older file
by passing its document through ``UPGRADES[v]`` (format ``v`` to ``v + 1``)
for each version in between, and refuses newer files.

torch is imported only when a model is saved or loaded.
"""

import inspect
import math
import re
import sys
import warnings
from pathlib import Path, PurePath
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from ._io import read_bundle, write_bundle

FORMAT = "sklearn-rnn model"
FORMAT_VERSION = 1

# UPGRADES[v](document, arrays) -> (document, arrays) turns a file of format
# version v into version v + 1. Add one whenever FORMAT_VERSION is bumped, and
# keep a file of every version under tests/data/.
UPGRADES = {}

TYPE_KEY = "__type__"
# Fitted attributes that are rebuilt on load rather than stored.
REBUILT = ("net_", "_streaming")
# The fitted attributes every fit sets, by class (subclasses, e.g. the presets, are
# looked up through their bases). load() refuses a file without one of them, so that
# an inconsistent file fails when it is loaded, not at the first prediction.
# tests/test_persistence.py checks this table against fresh fits of every class.
_TRAINING = ("history_", "loss_curve_", "n_iter_", "validation_loss_curve_")
FITTED_ATTRIBUTES = {
    "RecurrentClassifier": ("classes_", "n_features_in_", *_TRAINING),
    "SequenceTagger": ("classes_", "n_features_in_", *_TRAINING),
    "RecurrentRegressor": ("_target_is_1d", "n_features_in_", "n_outputs_", *_TRAINING),
    "StepwiseRegressor": ("_target_is_1d", "n_features_in_", "n_outputs_", *_TRAINING),
    "CharLanguageModel": ("_vocabulary", "vocabulary_", *_TRAINING),
    "Seq2SeqClassifier": (
        "_target_is_text", "classes_", "max_target_length_", "n_features_in_", *_TRAINING
    ),
    "Seq2SeqRegressor": (
        "_target_format", "horizon_", "max_target_length_", "n_features_in_", "n_outputs_",
        "variable_length_", *_TRAINING,
    ),
    "SequenceGenerator": (
        "_target_format", "horizon_", "max_target_length_", "n_features_in_", "n_outputs_",
        "variable_length_", *_TRAINING,
    ),
    "RNNForecaster": (
        "X_mean_", "X_scale_", "_last_exog", "_last_levels", "_y_is_1d", "last_window_",
        "n_exog_", "n_series_", "regressor_", "y_mean_", "y_scale_",
    ),
    "SeasonalNaiveForecaster": ("_y_is_1d", "last_season_", "n_series_"),
}


# The type of each of those attributes, as names resolved by _attribute_types()
# (None: may be None). A file holding another type was altered.
_ATTRIBUTE_TYPES = {
    "classes_": ("ndarray",), "history_": ("History",), "loss_curve_": ("list",),
    "n_features_in_": ("int",), "n_iter_": ("int",), "validation_loss_curve_": ("list", None),
    "_target_is_1d": ("bool",), "n_outputs_": ("int",), "_vocabulary": ("CharVocabulary",),
    "vocabulary_": ("list",), "_target_is_text": ("bool",), "max_target_length_": ("int",),
    "_target_format": ("str",), "horizon_": ("int", None), "variable_length_": ("bool",),
    "X_mean_": ("ndarray", None), "X_scale_": ("ndarray", None), "_last_exog": ("ndarray", None),
    "_last_levels": ("ndarray", None), "_y_is_1d": ("bool",), "last_window_": ("ndarray",),
    "n_exog_": ("int",), "n_series_": ("int",), "regressor_": ("RecurrentRegressor",),
    "y_mean_": ("ndarray",), "y_scale_": ("ndarray",), "last_season_": ("ndarray",),
}


def _attribute_types(attribute):
    """The classes an attribute of FITTED_ATTRIBUTES may hold (type(None) for None)."""
    from skorch.history import History

    from ._estimators import RecurrentRegressor
    from ._text import CharVocabulary

    known = {
        "ndarray": np.ndarray, "History": History, "list": list, "int": int, "bool": bool,
        "str": str, "CharVocabulary": CharVocabulary, "RecurrentRegressor": RecurrentRegressor,
        None: type(None),
    }
    return tuple(known[name] for name in _ATTRIBUTE_TYPES[attribute])


def fitted_attributes(cls):
    """The attributes every fit of ``cls`` sets (empty for an unknown class)."""
    for base in cls.__mro__:
        if base.__name__ in FITTED_ATTRIBUTES and base.__module__.startswith("sklearn_rnn"):
            return FITTED_ATTRIBUTES[base.__name__]
    return ()


_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_STRING_DTYPE = re.compile(r"[<>|=]?U[0-9]{1,9}\Z")
_NUMERIC = "biuf"  # the dtype kinds stored as safetensors arrays
_MAX_STRING_BYTES = 2**27  # 128 MiB: far above any vocabulary or set of labels
_PICKLE_HINT = (
    "Save it with pickle or joblib instead (which can hold any object but run code "
    "when loading: only load pickles you trust)."
)


class PersistenceMixin:
    """The ``save`` method: write a fitted estimator to one pickle-free file."""

    def save(self, path):
        """Write the estimator to ``path`` without pickle, for :func:`sklearn_rnn.load`.

        The file holds the hyperparameters, the fitted attributes, the network
        weights and the optimizer state (so that ``partial_fit`` or
        ``warm_start`` can continue after loading), as safetensors arrays and
        a JSON document: loading it never runs code from the file. The write
        is atomic: if it fails, a file already at ``path`` is left as it was.
        See docs/persistence.md.

        Parameters
        ----------
        path : str or path-like
            Where to write; the file is replaced if it exists.

        Raises
        ------
        TypeError
            If a parameter or fitted attribute cannot be stored without pickle
            (e.g. callbacks other than those of ``sklearn_rnn.callbacks``, or
            a cell class that is not in the cell registry); the message names
            it.

        See Also
        --------
        sklearn_rnn.load : Read the file back.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from sklearn_rnn import GRUClassifier, load
        >>> rng = np.random.RandomState(0)
        >>> X = [rng.normal(size=(rng.randint(3, 9), 2)) for _ in range(20)]
        >>> y = np.array(["low", "high"])[[int(x[:, 0].mean() > 0) for x in X]]
        >>> clf = GRUClassifier(hidden_size=4, max_iter=2, random_state=0).fit(X, y)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.skrnn")
        >>> clf.save(path)
        >>> loaded = load(path)
        >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
        True
        """
        save(self, path)


# --- writing ------------------------------------------------------------------------------


class _Unstorable(TypeError):
    """A value that the format cannot hold; ``where`` is its path in the estimator."""

    def __init__(self, where, value):
        super().__init__(where)
        self.where, self.value = where, value


def _estimator_classes():
    """The classes a file may name: the public estimators of ``sklearn_rnn``, by name."""
    import sklearn_rnn

    classes = {}
    for name in sklearn_rnn.__all__:
        obj = getattr(sklearn_rnn, name)
        if isinstance(obj, type) and issubclass(obj, PersistenceMixin):
            classes[name] = obj
    return classes


def _callback_classes():
    """The callback classes a file may name: those of ``sklearn_rnn.callbacks``, by name."""
    try:
        from skorch.callbacks import Callback

        from . import callbacks
    except ImportError:
        return {}
    return {
        name: obj
        for name in callbacks.__all__
        if isinstance(obj := getattr(callbacks, name), type) and issubclass(obj, Callback)
    }


def _init_arguments(obj):
    """The arguments of ``type(obj).__init__``, read back from ``obj``'s attributes.

    (skorch's ``Callback.get_params`` also returns private attributes.)
    """
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return {
        name: getattr(obj, name)
        for name, p in inspect.signature(type(obj).__init__).parameters.items()
        if name != "self" and p.kind not in variadic
    }


def _library_versions():
    """Versions of the libraries the model was saved with (for information only)."""
    versions = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in ("numpy", "scikit-learn", "torch", "skorch", "numba"):
        try:
            versions[name] = _distribution_version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def _registered_name(cls, cells):
    """The registry name under which ``cls`` is registered, or None."""
    reference = f"{cls.__module__}:{cls.__qualname__}"
    # The entry whose reference names the class first: it is found without importing others.
    for name in sorted(cells, key=lambda name: cells[name].value != reference):
        try:
            if cells[name].load() is cls:
                return name
        except ValueError:  # a cell that fails to load is not this class
            continue
    return None


def _describe_cell(cell, where):
    """The document of the ``cell`` parameter: its registry name, origin and version."""
    from .cells import available_cells

    cells = available_cells()
    if isinstance(cell, str):
        name, given = cell, "name"
    else:
        name, given = _registered_name(cell, cells), "class"
        if name is None:
            raise TypeError(
                f"Cannot save: {where}.cell={getattr(cell, '__qualname__', cell)!r} is a cell "
                "class that is not in the cell registry, so the file could not name it. "
                "Register it (sklearn_rnn.register_cell('my_cell', MyCell)) and fit with "
                f"cell='my_cell', or pass the class again after loading. {_PICKLE_HINT}"
            )
    info = cells.get(name)
    return {
        "name": name,
        "given": given,
        "source": None if info is None else info.source,
        "version": None if info is None else info.version,
        "reference": None if info is None else info.value,  # for information: never imported
    }


class _Writer:
    """Encodes an estimator into a JSON-able document and a dict of named arrays."""

    def __init__(self):
        self.arrays = {}

    def array(self, array, key, kind="ndarray"):
        if key in self.arrays:  # two paths that read alike, e.g. keys "a/b" and "a" -> "b"
            key = f"{key}#{len(self.arrays)}"
        self.arrays[key] = np.asarray(array, order="C")  # (not ascontiguousarray: keeps 0-d)
        return {TYPE_KEY: kind, "key": key}

    def value(self, value, key):
        """The JSON form of ``value``; its arrays go to ``self.arrays`` under ``key...``."""
        if value is None:
            return value
        if isinstance(value, np.generic):  # first: np.float64 is a float, np.str_ a str
            if value.dtype.kind not in _NUMERIC + "U":
                raise _Unstorable(key, value)
            return {TYPE_KEY: "scalar", "dtype": value.dtype.str, "value": value.item()}
        if type(value) in (bool, int, float, str):
            return value
        if isinstance(value, np.ndarray):
            return self.ndarray(value, key)
        if isinstance(value, PersistenceMixin):
            return self.estimator(value, key)
        history = sys.modules.get("skorch.history")
        if history is not None and isinstance(value, history.History):
            return {TYPE_KEY: "History", "epochs": self.value(list(value), key)}
        if type(value) is list:
            return [self.value(item, f"{key}/{i}") for i, item in enumerate(value)]
        if type(value) is tuple:
            return {
                TYPE_KEY: "tuple",
                "items": [self.value(item, f"{key}/{i}") for i, item in enumerate(value)],
            }
        if isinstance(value, dict):  # dict, OrderedDict (a state_dict)
            if all(isinstance(k, str) for k in value) and TYPE_KEY not in value:
                return {k: self.value(v, f"{key}/{k}") for k, v in value.items()}
            return {
                TYPE_KEY: "dict",
                "items": [
                    [self.value(k, f"{key}/{i}/key"), self.value(v, f"{key}/{i}")]
                    for i, (k, v) in enumerate(value.items())
                ],
            }
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            try:
                array = value.detach().cpu().numpy()  # from any device
            except TypeError:  # e.g. bfloat16, which NumPy lacks
                raise _Unstorable(key, value) from None
            if array.dtype.kind not in _NUMERIC:
                raise _Unstorable(key, value)
            return self.array(array, key, kind="tensor")
        if isinstance(value, PurePath):
            return {TYPE_KEY: "Path", "path": str(value)}
        if isinstance(value, np.random.RandomState):
            return {TYPE_KEY: "RandomState", "state": self.value(value.get_state(), key)}
        from ._text import CharVocabulary

        if type(value) is CharVocabulary:
            return {TYPE_KEY: "CharVocabulary", "chars": list(value.chars)}
        if (
            torch is not None
            and isinstance(value, type)
            and issubclass(value, torch.optim.Optimizer)
            and getattr(torch.optim, value.__name__, None) is value
        ):
            return {TYPE_KEY: "torch.optim", "name": value.__name__}
        if _callback_classes().get(type(value).__name__) is type(value):
            # sklearn-rnn's own callbacks, by their parameters (as clone would copy them)
            return {
                TYPE_KEY: "callback",
                "class": type(value).__name__,
                "params": self.value(_init_arguments(value), key),
            }
        raise _Unstorable(key, value)

    def ndarray(self, array, key):
        kind = array.dtype.kind
        if kind in _NUMERIC:
            return self.array(array, key)
        if kind == "U":
            return {
                TYPE_KEY: "ndarray",
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "data": array.ravel().tolist(),
            }
        if kind == "O":  # e.g. labels of mixed Python types, or strings from pandas
            return {
                TYPE_KEY: "ndarray",
                "dtype": "object",
                "shape": list(array.shape),
                "data": [self.value(item, f"{key}/{i}") for i, item in enumerate(array.ravel())],
            }
        raise _Unstorable(key, array)

    def estimator(self, estimator, key):
        cls = type(estimator)
        name = cls.__name__
        if _estimator_classes().get(name) is not cls:
            raise TypeError(
                f"Cannot save {cls.__qualname__}: save() stores sklearn-rnn's own estimator "
                f"classes only, which load() can recreate by name. {_PICKLE_HINT}"
            )
        params = estimator.get_params(deep=False)
        document = {TYPE_KEY: "estimator", "class": name}
        if "cell" in params:
            document["cell"] = _describe_cell(params["cell"], key)
            params["cell"] = document["cell"]["name"]
        document["params"] = self.fields(params, f"{key}/params", "parameter", name)
        unfitted = vars(cls(**estimator.get_params(deep=False)))  # what __init__ sets
        attributes = {
            k: v for k, v in vars(estimator).items() if k not in unfitted and k not in REBUILT
        }
        document["attributes"] = self.fields(attributes, f"{key}/attributes", "attribute", name)
        if hasattr(estimator, "net_"):
            net = estimator.net_
            document["net"] = {
                "module": self.value(net.module_.state_dict(), f"{key}/net/module"),
                "criterion": self.value(net.criterion_.state_dict(), f"{key}/net/criterion"),
                "optimizer": {
                    "class": type(net.optimizer_).__name__,
                    "state": self.value(net.optimizer_.state_dict(), f"{key}/net/optimizer"),
                },
            }
        return document

    def fields(self, fields, key, what, owner):
        """``{name: value}`` encoded, or a ``TypeError`` naming what cannot be stored."""
        try:
            return {name: self.value(value, f"{key}/{name}") for name, value in fields.items()}
        except _Unstorable as exc:
            field = exc.where[len(key) + 1 :].split("/")[0]
            fix = (
                f"Set it to a value that can be stored (e.g. set_params({field}=None)) "
                "before saving, and set it again after loading. "
                if what == "parameter"
                else ""
            )
            raise TypeError(
                f"Cannot save {owner}: its {what} {field!r} holds {type(exc.value).__name__} "
                f"{_short_repr(exc.value)} (at {exc.where}), which the file cannot store "
                f"without pickle. {fix}{_PICKLE_HINT}"
            ) from None


def _short_repr(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def save(estimator, path):
    """Write ``estimator`` to ``path`` (see :meth:`PersistenceMixin.save`)."""
    from . import __version__

    writer = _Writer()
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_rnn_version": __version__,
        "library_versions": _library_versions(),
        "estimator": writer.estimator(estimator, "estimator"),
    }
    write_bundle(path, writer.arrays, document)


# --- reading ------------------------------------------------------------------------------


def _device_available(device):
    """Whether torch can put tensors on ``device`` in this process."""
    import torch

    device = torch.device(device)
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    for namespace in (torch, torch.backends):  # torch.xpu, torch.backends.mps, ...
        namespace = getattr(namespace, device.type, None)
        is_available = getattr(namespace, "is_available", None)
        if callable(is_available):
            return bool(is_available())
    return False


class _Reader:
    """Decodes what :class:`_Writer` wrote, and nothing else."""

    def __init__(self, arrays, path, device):
        self.arrays, self.path, self.device = arrays, path, device
        self.fell_back = False  # the saved device was unavailable (warn once)

    def fail(self, where, message):
        raise ValueError(f"{self.path} is not a valid sklearn-rnn model file: {where}: {message}")

    def value(self, obj, where):
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, list):
            return [self.value(item, f"{where}/{i}") for i, item in enumerate(obj)]
        if not isinstance(obj, dict):
            self.fail(where, f"unexpected JSON value {_short_repr(obj)}")
        if TYPE_KEY not in obj:
            return {k: self.value(v, f"{where}/{k}") for k, v in obj.items()}
        kind = obj[TYPE_KEY]
        decode = self.DECODERS.get(kind) if isinstance(kind, str) else None
        if decode is None:
            self.fail(where, f"unknown value type {_short_repr(kind)}")
        return decode(self, obj, where)

    def field(self, obj, name, where, types):
        """``obj[name]``, checked to be of ``types`` (a bool is not taken for an int)."""
        if not isinstance(obj, dict) or name not in obj:
            self.fail(where, f"the entry {name!r} is missing")
        value = obj[name]
        types = types if isinstance(types, tuple) else (types,)
        if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
            self.fail(where, f"the entry {name!r} is {_short_repr(value)}")
        return value

    def dtype(self, name, where, kinds):
        try:
            dtype = np.dtype(name)
        except (TypeError, ValueError, OverflowError):
            dtype = None
        if dtype is None or dtype.kind not in kinds:
            self.fail(where, f"the dtype {_short_repr(name)} is not allowed here")
        return dtype

    # One function per value type; the table below is all a file can ask for.

    def _scalar(self, obj, where):
        dtype = self.dtype(self.field(obj, "dtype", where, str), where, _NUMERIC + "U")
        value = self.field(obj, "value", where, (bool, int, float, str))
        try:
            return dtype.type(value)
        except (TypeError, ValueError, OverflowError) as exc:
            self.fail(where, f"{_short_repr(value)} is not a {dtype}: {exc}")

    def stored(self, obj, where):
        """The safetensors array that ``obj`` refers to by its key."""
        key = self.field(obj, "key", where, str)
        if key not in self.arrays:
            self.fail(where, f"the array {key!r} is missing")
        return self.arrays[key]

    def _ndarray(self, obj, where):
        if "key" in obj:
            return self.stored(obj, where)
        name = self.field(obj, "dtype", where, str)
        shape = self.field(obj, "shape", where, list)
        data = self.field(obj, "data", where, list)
        if name == "object":
            dtype, data = object, [self.value(item, f"{where}/{i}") for i, item in enumerate(data)]
        elif _STRING_DTYPE.match(name):
            dtype = self.dtype(name, where, "U")
            if not all(isinstance(item, str) for item in data):
                self.fail(where, "a string array holds values that are not strings")
            if dtype.itemsize * len(data) > _MAX_STRING_BYTES:  # a hostile width
                self.fail(where, f"a string array of {len(data)} x {dtype} is implausibly large")
        else:
            self.fail(where, f"the dtype {_short_repr(name)} is not allowed here")
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            self.fail(where, f"the shape {_short_repr(shape)} is not a shape")
        if math.prod(shape) != len(data):
            self.fail(where, f"{len(data)} values do not fill the shape {tuple(shape)}")
        array = np.empty(len(data), dtype=dtype)
        array[:] = data
        try:
            return array.reshape(shape)
        except ValueError as exc:  # e.g. a dimension beyond NumPy's limits
            self.fail(where, f"the shape {_short_repr(shape)} is not a shape: {exc}")

    def _tuple(self, obj, where):
        items = self.field(obj, "items", where, list)
        return tuple(self.value(item, f"{where}/{i}") for i, item in enumerate(items))

    def _dict(self, obj, where):
        result = {}
        for i, pair in enumerate(self.field(obj, "items", where, list)):
            if not isinstance(pair, list) or len(pair) != 2:
                self.fail(where, f"item {i} is not a [key, value] pair")
            key = self.value(pair[0], f"{where}/{i}/key")
            try:
                hash(key)
            except TypeError:
                self.fail(where, f"item {i} has the key {_short_repr(key)}, which is not hashable")
            result[key] = self.value(pair[1], f"{where}/{i}")
        return result

    def _history(self, obj, where):
        from skorch.history import History

        epochs = self.value(self.field(obj, "epochs", where, list), where)
        if not all(isinstance(epoch, dict) for epoch in epochs):
            self.fail(where, "a history row is not a dict")
        return History(epochs)

    def _random_state(self, obj, where):
        state = self.value(obj.get("state"), where)
        random_state = np.random.RandomState()
        try:
            random_state.set_state(state)
        except (TypeError, ValueError, IndexError) as exc:
            self.fail(where, f"not the state of a RandomState: {exc}")
        return random_state

    def _vocabulary(self, obj, where):
        from ._text import CharVocabulary

        chars = self.field(obj, "chars", where, list)
        if not all(isinstance(c, str) and len(c) == 1 for c in chars):
            self.fail(where, "a vocabulary entry is not a single character")
        vocabulary = CharVocabulary(["".join(chars)])  # every character once: kept, sorted
        if vocabulary.chars != chars:
            self.fail(where, "the vocabulary's characters are not sorted and distinct")
        return vocabulary

    def _tensor(self, obj, where):
        import torch

        return torch.from_numpy(self.stored(obj, where))

    def _optimizer_class(self, obj, where):
        import torch

        name = self.field(obj, "name", where, str)
        cls = getattr(torch.optim, name, None) if _ATTRIBUTE_NAME.match(name) else None
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            self.fail(where, f"{name!r} is not an optimizer of torch.optim")
        return cls

    def _path(self, obj, where):
        return Path(self.field(obj, "path", where, str))

    def _callback(self, obj, where):
        name = self.field(obj, "class", where, str)
        classes = _callback_classes()
        if name not in classes:
            self.fail(
                where,
                f"{_short_repr(name)} is not a callback of sklearn_rnn.callbacks; only these "
                f"are ever created: {', '.join(sorted(classes))}",
            )
        params = self.value(self.field(obj, "params", where, dict), where)
        try:
            return classes[name](**params)
        except TypeError as exc:
            self.fail(where, f"not the parameters of {name}: {exc}")

    def _estimator(self, obj, where):
        return self.estimator(obj, where)

    DECODERS = {
        "scalar": _scalar,
        "ndarray": _ndarray,
        "tuple": _tuple,
        "dict": _dict,
        "History": _history,
        "RandomState": _random_state,
        "CharVocabulary": _vocabulary,
        "tensor": _tensor,
        "torch.optim": _optimizer_class,
        "Path": _path,
        "callback": _callback,
        "estimator": _estimator,
    }

    # --- estimators ---------------------------------------------------------------------

    def estimator(self, obj, where):
        if not isinstance(obj, dict) or obj.get(TYPE_KEY) != "estimator":
            self.fail(where, "not an estimator")
        name = self.field(obj, "class", where, str)
        classes = _estimator_classes()
        cls = classes.get(name)
        if cls is None:
            self.fail(
                where,
                f"it names the class {_short_repr(name)}, which is not an estimator of "
                f"sklearn-rnn; only these are ever created: {', '.join(sorted(classes))}",
            )
        known = set(cls._get_param_names())
        saved = self.field(obj, "params", where, dict)
        unknown = sorted(set(saved) - known)
        if unknown:
            self.fail(
                where,
                f"{name} has no parameter {', '.join(map(repr, unknown))} in this version of "
                "sklearn-rnn (a file from a newer version? upgrade sklearn-rnn)",
            )
        # A parameter missing from the file (added to sklearn-rnn later) keeps its default.
        params = {k: self.value(v, f"{where}/params/{k}") for k, v in saved.items()}
        fitted = "net" in obj
        if "cell" in params:
            params["cell"] = self.cell(self.field(obj, "cell", where, dict), where, fitted)
        if "device" in params:
            params["device"] = self.map_device(params["device"], where)
        estimator = cls(**params)
        try:
            estimator._validate_params()
        except InvalidParameterError as exc:
            self.fail(where, str(exc))
        attributes = self.field(obj, "attributes", where, dict)
        for attribute, value in attributes.items():
            if (
                not _ATTRIBUTE_NAME.match(attribute)
                or attribute.startswith("__")
                or attribute in REBUILT
                or attribute in known
                or hasattr(cls, attribute)
            ):
                self.fail(where, f"{_short_repr(attribute)} is not a fitted attribute of {name}")
            setattr(estimator, attribute, self.value(value, f"{where}/attributes/{attribute}"))
        # A fitted model (or a forecaster, which has no net of its own) has all of them.
        if attributes or fitted:
            missing = [a for a in fitted_attributes(cls) if a not in attributes]
            if missing:
                self.fail(
                    where,
                    f"the fitted {name} lacks the attribute(s) {', '.join(missing)}: the file "
                    "was altered or written by other software",
                )
            for attribute in fitted_attributes(cls):
                if not isinstance(getattr(estimator, attribute), _attribute_types(attribute)):
                    self.fail(
                        where,
                        f"the attribute {attribute} of the fitted {name} holds "
                        f"{type(getattr(estimator, attribute)).__name__}: the file was altered",
                    )
        if fitted:
            from ._estimators._base import BaseRecurrent

            if not isinstance(estimator, BaseRecurrent):
                self.fail(where, f"{name} has no network, but the file holds one")
            self.rebuild_net(estimator, self.field(obj, "net", where, dict), f"{where}/net")
        return estimator

    def cell(self, obj, where, fitted):
        """The ``cell`` parameter, resolved through the cell registry."""
        from .cells import available_cells
        from .cells._registry import BUILTIN, RUNTIME

        name = self.field(obj, "name", where, str)
        given = obj.get("given", "name")
        if given not in ("name", "class"):
            self.fail(where, f"the cell was given as {_short_repr(given)}")
        source, version = obj.get("source"), obj.get("version")
        if given == "name" and not fitted:
            return name  # an unfitted estimator: the name is resolved when it is fitted
        info = available_cells().get(name)
        if info is None:
            if source == RUNTIME:
                raise ValueError(
                    f"{self.path} holds a model with the cell {name!r}, which was registered "
                    "with register_cell when it was saved, and is not registered in this "
                    f"process. Register the same cell class first: "
                    f"sklearn_rnn.register_cell({name!r}, MyCell)."
                )
            if isinstance(source, str) and source != BUILTIN:
                pinned = f"{source}=={version}" if isinstance(version, str) else source
                raise ValueError(
                    f"{self.path} holds a model with the cell {name!r} from the package "
                    f"{source} {version}, which is not installed here. Install it "
                    f"(pip install '{pinned}') and load again."
                )
            self.fail(where, f"the cell {name!r} is not in the cell registry")
        from_plugin = source not in (BUILTIN, RUNTIME, None)
        if from_plugin and (info.source, info.version) != (source, version):
            warnings.warn(
                f"{self.path} was saved with the cell {name!r} from {source} {version}; here "
                f"it comes from {info.source} {info.version}. If the cell has changed, the "
                "weights may not fit it or predictions may differ.",
                UserWarning,
                stacklevel=4,
            )
        cls = info.load()  # a ValueError saying why if it cannot be imported
        return name if given == "name" else cls

    def map_device(self, saved, where):
        """``load``'s ``device``, or the saved one if this process has it, else "cpu"."""
        if self.device is not None:
            return self.device
        if not isinstance(saved, str):
            self.fail(where, f"device={_short_repr(saved)} is not a device name")
        try:
            available = _device_available(saved)
        except (RuntimeError, TypeError, ValueError):
            available = False
        if available:
            return saved
        if not self.fell_back:
            self.fell_back = True
            warnings.warn(
                f"{self.path} was saved with device={saved!r}, which is not available here; "
                "the model is loaded on the CPU (device='cpu'). Pass device= to load to "
                "choose another.",
                UserWarning,
                stacklevel=4,
            )
        return "cpu"

    def rebuild_net(self, estimator, obj, where):
        """Build ``estimator.net_`` as ``fit`` does, then put the saved state into it."""
        import torch
        from skorch.history import History

        from ._torch.net import seeded

        traits = estimator._cell_traits(fitted=False)
        estimator._check_device(traits)
        # The criterion's class weights come with its state: any targets holding every class do.
        targets = np.arange(len(getattr(estimator, "classes_", ())))
        with seeded(0, estimator.device):  # initialisation must not move the caller's RNG
            net = estimator._new_net(traits, targets).initialize()
        for part in ("module", "criterion"):
            state = self.value(self.field(obj, part, where, dict), f"{where}/{part}")
            try:
                getattr(net, f"{part}_").load_state_dict(state)
            except (RuntimeError, KeyError, TypeError, ValueError) as exc:
                self.fail(
                    f"{where}/{part}",
                    f"the saved weights do not fit the network built from the saved "
                    f"parameters: {_short_repr(' '.join(str(exc).split()), 300)}",
                )
        optimizer = self.field(obj, "optimizer", where, dict)
        if self.field(optimizer, "class", where, str) != type(net.optimizer_).__name__:
            self.fail(where, "the saved optimizer state is of another optimizer")
        state = self.value(self.field(optimizer, "state", where, dict), f"{where}/optimizer")
        try:
            net.optimizer_.load_state_dict(state)
        except (RuntimeError, KeyError, TypeError, ValueError, IndexError) as exc:
            self.fail(f"{where}/optimizer", f"the optimizer state does not fit: {exc}")
        history = getattr(estimator, "history_", None)
        net.history = history if isinstance(history, History) else History()
        estimator.net_ = net
        if not all(torch.isfinite(p).all() for p in net.module_.parameters()):
            warnings.warn(
                f"{self.path} holds NaN or infinite weights (saved after training diverged?).",
                UserWarning,
                stacklevel=3,
            )


def _upgrade(document, arrays, path):
    """The document and arrays of any readable format version, in the current one."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        what = document.get("format") if isinstance(document, dict) else None
        raise ValueError(
            f"{path} is a sklearn-rnn file but not a saved model (format {what!r}); "
            "load(path) reads files written by estimator.save(path)."
        )
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{path} has no valid format version ({_short_repr(version)}).")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} has format version {version}, written by sklearn-rnn "
            f"{document.get('sklearn_rnn_version')}; this sklearn-rnn reads format versions "
            f"up to {FORMAT_VERSION}. Upgrade sklearn-rnn to load it."
        )
    for old in range(version, FORMAT_VERSION):
        document, arrays = UPGRADES[old](document, arrays)
        document["format_version"] = old + 1
    return document, arrays


def load(path, device=None):
    """Load an estimator written by ``estimator.save(path)``.

    Nothing in the file is executed or imported: it holds arrays and a JSON
    document, and the only classes created are sklearn-rnn's estimators
    (found by name in the ``sklearn_rnn`` namespace), cells through the cell
    registry, and ``torch.optim`` optimizers. A model with a plugin's cell
    needs the plugin installed; one with a cell registered with
    :func:`register_cell` needs it registered again under the same name.
    Files of older format versions are upgraded as they are read.

    Parameters
    ----------
    path : str or path-like
        The file written by ``save``.
    device : str or None, default=None
        The torch device to put the model on, which becomes its ``device``
        parameter. None keeps the device it was saved with if this process
        has it, and otherwise loads on the CPU with a warning (a model
        trained on a GPU loads on a machine without one).

    Returns
    -------
    estimator : estimator instance
        The fitted estimator, predicting exactly as the saved one did on the
        same device; its optimizer state is restored, so ``partial_fit`` and
        ``warm_start`` continue where training stopped.

    Raises
    ------
    ValueError
        If the file is truncated, corrupted, not a saved model, names a class
        that is not an estimator of sklearn-rnn, comes from a newer format
        version, or needs a cell that is not available (the message says
        which package to install or which cell to register).
    FileNotFoundError
        If there is no file at ``path``.

    See Also
    --------
    sklearn_rnn.load_predictor : Torch-free prediction from ``export_weights``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_rnn import LSTMRegressor, load
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(20, 5, 2))
    >>> reg = LSTMRegressor(hidden_size=4, max_iter=2, random_state=0).fit(X, X.sum(axis=(1, 2)))
    >>> path = os.path.join(tempfile.mkdtemp(), "regressor.skrnn")
    >>> reg.save(path)
    >>> loaded = load(path)
    >>> type(loaded).__name__, loaded.n_iter_
    ('LSTMRegressor', 2)
    >>> bool((loaded.predict(X) == reg.predict(X)).all())
    True
    """
    if device is not None and not isinstance(device, str):
        raise TypeError(
            f"device must be a torch device name such as 'cpu' or 'cuda', or None; got "
            f"{_short_repr(device)} of type {type(device).__name__}."
        )
    arrays, document = read_bundle(path)
    document, arrays = _upgrade(document, arrays, path)
    reader = _Reader(arrays, path, device)
    try:
        return reader.estimator(document.get("estimator"), "estimator")
    except ValueError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, RecursionError) as exc:
        # A document of the right shape in the wrong places; never a crash with a traceback
        # into the decoder.
        raise ValueError(
            f"{path} is not a valid sklearn-rnn model file: {type(exc).__name__}: {exc}"
        ) from exc

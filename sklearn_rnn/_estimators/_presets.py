"""Presets: the generic estimators with other default hyperparameters.

A preset changes defaults only. Its signature lists every parameter of the
generic estimator (so ``get_params`` still has ``cell`` and ``bidirectional``,
and ``GridSearchCV(LSTMClassifier(), {"cell": ["rnn", "gru"]})`` works), and
it inherits everything else. The classes are made from a table rather than
written out, so that no parameter list is repeated eight times.
"""

import inspect
import re

from ._classifier import RecurrentClassifier
from ._regressor import RecurrentRegressor

_CELL_NAMES = {"rnn": "Elman (tanh) RNN", "lstm": "LSTM", "gru": "GRU"}


def _preset_doc(base, name, defaults, summary):
    """``base``'s docstring with ``summary``, the new defaults and ``name`` in examples."""
    doc = base.__doc__.replace(base.__name__ + "(", name + "(")
    doc = doc.replace(f"import {base.__name__}", f"import {name}")
    doc = summary + "\n\n" + f"    Same as :class:`{base.__name__}` with " + ", ".join(
        f"``{key}={value!r}``" for key, value in defaults.items()
    ) + " by default." + doc[doc.index("\n") :]
    for key, value in defaults.items():
        default = f'"{value}"' if isinstance(value, str) else repr(value)
        doc = re.sub(rf"(\n    {key} : [^\n]*default=)[^\n]*", rf"\g<1>{default}", doc)
    return doc


def _make_preset(base, name, summary, **defaults):
    signature = inspect.signature(base.__init__)
    signature = signature.replace(
        parameters=[
            p.replace(default=defaults[p.name]) if p.name in defaults else p
            for p in signature.parameters.values()
        ]
    )

    def __init__(self, **params):
        arguments = signature.bind(self, **params)
        arguments.apply_defaults()
        base.__init__(*arguments.args, **arguments.kwargs)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{name}.__init__"
    return type(
        name,
        (base,),
        {
            "__init__": __init__,
            "__doc__": _preset_doc(base, name, defaults, summary),
            "__module__": "sklearn_rnn",
        },
    )


RNNClassifier = _make_preset(
    RecurrentClassifier, "RNNClassifier", "Elman (tanh) RNN classifier.", cell="rnn"
)
LSTMClassifier = _make_preset(RecurrentClassifier, "LSTMClassifier", "LSTM classifier.", cell="lstm")
GRUClassifier = _make_preset(RecurrentClassifier, "GRUClassifier", "GRU classifier.", cell="gru")
BiRNNClassifier = _make_preset(
    RecurrentClassifier,
    "BiRNNClassifier",
    "Bidirectional recurrent classifier (LSTM cells unless ``cell`` says otherwise).",
    bidirectional=True,
)
RNNRegressor = _make_preset(
    RecurrentRegressor, "RNNRegressor", "Elman (tanh) RNN regressor.", cell="rnn"
)
LSTMRegressor = _make_preset(RecurrentRegressor, "LSTMRegressor", "LSTM regressor.", cell="lstm")
GRURegressor = _make_preset(RecurrentRegressor, "GRURegressor", "GRU regressor.", cell="gru")
BiRNNRegressor = _make_preset(
    RecurrentRegressor,
    "BiRNNRegressor",
    "Bidirectional recurrent regressor (LSTM cells unless ``cell`` says otherwise).",
    bidirectional=True,
)

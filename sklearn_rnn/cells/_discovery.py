"""Finding cells: the built-in table and the ``sklearn_rnn.cells`` entry points.

Nothing here imports a cell: discovery reads package metadata only, so
listing cells stays cheap and never imports torch, numba or a plugin.
"""

import importlib.metadata
import sys
import warnings

GROUP = "sklearn_rnn.cells"

# The built-in cells, as lazy references: their module imports torch.
BUILTIN_CELLS = {
    "rnn": "sklearn_rnn._torch.cells:RNNCell",
    "lstm": "sklearn_rnn._torch.cells:LSTMCell",
    "gru": "sklearn_rnn._torch.cells:GRUCell",
}


def _in_package(module_name):
    return module_name == __package__ or module_name.startswith(__package__ + ".")


def warn(message):
    """Warn with a ``RuntimeWarning`` pointing at the first caller outside this package."""
    level, frame = 1, sys._getframe(0)
    while frame is not None and _in_package(frame.f_globals.get("__name__", "")):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, RuntimeWarning, stacklevel=level)


def distribution(entry_point):
    """The (name, version) of the distribution that declares ``entry_point``, or Nones."""
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return None, None
    try:
        return dist.name, dist.version
    except Exception:  # broken metadata must not break discovery
        return None, None


def describe(entry_point):
    """``entry_point`` as it should appear in a message: its line and its distribution."""
    name, version = distribution(entry_point)
    if name is None:
        where = "an unknown distribution"
    else:
        where = f"distribution {name!r}" + (f" {version}" if version else "")
    return f"entry point '{entry_point.name} = {entry_point.value}' of {where}"


def _entry_points():
    """The installed entry points of the group (a separate function so tests can replace it)."""
    return importlib.metadata.entry_points(group=GROUP)


def discover_plugins():
    """The third-party cells: name -> ``EntryPoint``, one per name, warning about the rest.

    An entry point named like a built-in cell is ignored (the built-in wins).
    When several distributions declare the same name, the first by
    distribution name, then by value, wins, so the choice does not depend on
    the order of ``sys.path``.
    """
    try:
        entry_points = list(_entry_points())
    except Exception as exc:  # unreadable metadata: run with the built-ins only
        warn(f"Could not read the {GROUP!r} entry points, using the built-in cells only: {exc!r}")
        return {}
    candidates = {}
    for entry_point in entry_points:
        # The same distribution seen twice on sys.path is one candidate, not a clash.
        key = (distribution(entry_point)[0] or "", entry_point.value)
        candidates.setdefault(entry_point.name, {}).setdefault(key, entry_point)
    plugins = {}
    for name in sorted(candidates):
        found = [candidates[name][key] for key in sorted(candidates[name])]
        if name in BUILTIN_CELLS:
            for entry_point in found:
                warn(
                    f"Ignoring {describe(entry_point)}: {name!r} is a built-in cell and a plugin "
                    "cannot replace it. Rename the entry point, or replace the built-in "
                    f"explicitly with sklearn_rnn.register_cell({name!r}, cls, overwrite=True)."
                )
            continue
        if len(found) > 1:
            others = "; ".join(describe(entry_point) for entry_point in found[1:])
            warn(
                f"{len(found)} entry points define the cell {name!r}. Using {describe(found[0])} "
                f"(the first by distribution name) and ignoring {others}. Uninstall one of "
                "them to silence this warning."
            )
        plugins[name] = found[0]
    return plugins

"""Real sequence datasets, shipped with the package or found in sktime/aeon, and
the classic synthetic long-memory tasks.

Nothing here downloads, and importing this module imports neither torch,
pandas, sktime nor aeon.
"""

from ._loaders import load_japanese_vowels, load_ucr_uea
from ._series import load_airline, load_sunspots
from ._synthetic import make_adding_problem, make_copy_task
from ._ts_format import load_ts_file
from ._word_boundaries import make_word_boundaries

__all__ = [
    "load_airline",
    "load_japanese_vowels",
    "load_sunspots",
    "load_ts_file",
    "load_ucr_uea",
    "make_adding_problem",
    "make_copy_task",
    "make_word_boundaries",
]

"""Real sequence datasets, shipped with the package or found in sktime/aeon.

Nothing here downloads, and importing this module imports neither torch,
pandas, sktime nor aeon.
"""

from ._loaders import load_japanese_vowels, load_ucr_uea
from ._ts_format import load_ts_file

__all__ = ["load_japanese_vowels", "load_ts_file", "load_ucr_uea"]

"""The bundled forecasting series: Airline passengers and yearly sunspots."""

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from sklearn_rnn.datasets import load_airline, load_sunspots

DATA = Path(__file__).resolve().parents[1] / "sklearn_rnn" / "datasets" / "data"


def test_airline():
    """144 monthly values, January 1949 to December 1960, Box and Jenkins' Series G."""
    airline = load_airline()
    assert set(airline) == {"data", "time", "season_length", "DESCR"}
    y = airline.data
    assert y.shape == (144,) and y.dtype == np.float64
    first_year = [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118]
    np.testing.assert_array_equal(y[:12], first_year)
    np.testing.assert_array_equal(y[-3:], [461, 390, 432])
    assert y.min() == 104 and y.max() == 622 and y.sum() == 40363
    assert airline.time.dtype == np.dtype("datetime64[M]")
    assert airline.time[0] == np.datetime64("1949-01")
    assert airline.time[-1] == np.datetime64("1960-12")
    assert np.all(np.diff(airline.time).astype(int) == 1)  # every month, once
    assert airline.season_length == 12
    assert "Series G" in airline.DESCR and "sktime" in airline.DESCR


def test_sunspots():
    """309 yearly values, 1700 to 2008, as in statsmodels."""
    sunspots = load_sunspots()
    y = sunspots.data
    assert y.shape == (309,) and y.dtype == np.float64
    np.testing.assert_array_equal(y[:4], [5, 11, 16, 23])
    np.testing.assert_allclose(y[-3:], [15.2, 7.5, 2.9])
    assert y.min() == 0 and y.max() == 190.2
    np.testing.assert_allclose(y.sum(), 15373.4)
    assert sunspots.time[0] == np.datetime64("1700") and sunspots.time[-1] == np.datetime64("2008")
    assert np.all(np.diff(sunspots.time).astype(int) == 1)
    assert "statsmodels" in sunspots.DESCR


def test_loaders_return_fresh_arrays():
    """Changing a loaded series does not change the next load."""
    first = load_airline()
    first.data[:] = 0
    assert load_airline().data[0] == 112


@pytest.mark.parametrize("name", ["airline.csv", "sunspots.csv"])
def test_files_match_the_recorded_checksums(name):
    """The shipped files are the ones whose origin data/README.md records."""
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
    section = readme[readme.index(f"## {name}") :]
    assert re.search(rf"`{digest}`", section.split("\n## ")[0]), name


def test_loaders_return_plain_numpy_arrays():
    """No pandas objects: the series and its times are NumPy arrays."""
    for bunch in (load_airline(), load_sunspots()):
        assert type(bunch.data) is np.ndarray and type(bunch.time) is np.ndarray

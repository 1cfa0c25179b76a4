"""Loaders for classic single time series shipped with sklearn-rnn (forecasting)."""

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

_DATA_DIR = Path(__file__).parent / "data"

_AIRLINE_DESCR = """\
.. _airline_dataset:

Airline passengers dataset
--------------------------

**Data Set Characteristics:**

=================   ==============================================
Observations        144, monthly, January 1949 to December 1960
Values              thousands of passengers, 104 to 622
Seasonality         12 months, multiplicative (grows with the level)
Missing values      none
=================   ==============================================

Monthly totals of international airline passengers, in thousands. The
classic "Series G" of Box and Jenkins [1]_, fitted there with the "airline
model", a seasonal ARIMA(0,1,1)(0,1,1)12 on the logarithm of the series.
It has a trend and a seasonal swing that grows with the level, so it is
usually modelled on the log scale.

The copy shipped here is ``Airline.csv`` of the sktime wheel (BSD 3-Clause
license), byte for byte; the same numbers are R's ``AirPassengers``.

References
~~~~~~~~~~

.. [1] G. E. P. Box, G. M. Jenkins and G. C. Reinsel (1976). "Time Series
   Analysis, Forecasting and Control", third edition, Holden-Day. Series G.
"""

_SUNSPOTS_DESCR = """\
.. _sunspots_dataset:

Yearly sunspots dataset
-----------------------

**Data Set Characteristics:**

=================   ==============================================
Observations        309, yearly, 1700 to 2008
Values              yearly mean sunspot number, 0 to 190.2
Cycle               about 11 years, of varying length and height
Missing values      none
=================   ==============================================

The yearly mean of the (Wolf, or Zurich) sunspot number from 1700 to
2008, as published by the US National Geophysical Data Center (NOAA); the
classic series of Yule's (1927) autoregressive model. The cycle of about
11 years varies in length and amplitude, so no fixed seasonal period fits
it.

The copy shipped here is ``sunspots.csv`` of the statsmodels wheel
(BSD 3-Clause license), byte for byte; statsmodels states the data are in
the public domain.

References
~~~~~~~~~~

.. [1] G. U. Yule (1927). "On a method of investigating periodicities in
   disturbed series, with special reference to Wolfer's sunspot numbers".
   Philosophical Transactions of the Royal Society A 226, 267-298.
"""


def _read_csv(name):
    """``(first column as str, second column as float64)`` of a two-column CSV with a header."""
    table = np.loadtxt(_DATA_DIR / name, delimiter=",", skiprows=1, dtype=str)
    return table[:, 0], table[:, 1].astype(np.float64)


def load_airline():
    """Load the airline passengers series (Box and Jenkins' Series G), for forecasting.

    144 monthly totals of international airline passengers, in thousands,
    from January 1949 to December 1960: a trend and a yearly seasonal swing
    that grows with the level. The data ship with sklearn-rnn; nothing is
    downloaded.

    =================   ==================
    Observations                       144
    Frequency                      monthly
    Season length                       12
    Range                        104 - 622
    =================   ==================

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : ndarray of shape (144,), dtype float64
            The number of passengers of each month, in thousands.
        time : ndarray of shape (144,), dtype datetime64[M]
            The month of each value.
        season_length : int
            12, the number of observations per seasonal cycle.
        DESCR : str
            The full description of the dataset, with references.

    See Also
    --------
    load_sunspots : A yearly series with an irregular cycle.

    Examples
    --------
    >>> from sklearn_rnn.datasets import load_airline
    >>> airline = load_airline()
    >>> airline.data.shape, airline.data[:3]
    ((144,), array([112., 118., 132.]))
    >>> airline.time[0], airline.time[-1], airline.season_length
    (np.datetime64('1949-01'), np.datetime64('1960-12'), 12)
    """
    months, passengers = _read_csv("airline.csv")
    return Bunch(
        data=passengers,
        time=months.astype("datetime64[M]"),
        season_length=12,
        DESCR=_AIRLINE_DESCR,
    )


def load_sunspots():
    """Load the yearly sunspot numbers, 1700 to 2008, for forecasting.

    309 yearly mean sunspot numbers (statsmodels' ``sunspots`` data, from
    NOAA's National Geophysical Data Center), with a cycle of about 11 years
    that varies in length and height. The data ship with sklearn-rnn;
    nothing is downloaded.

    =================   ==================
    Observations                       309
    Frequency                       yearly
    Range                        0 - 190.2
    =================   ==================

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : ndarray of shape (309,), dtype float64
            The yearly mean sunspot number.
        time : ndarray of shape (309,), dtype datetime64[Y]
            The year of each value.
        DESCR : str
            The full description of the dataset, with references.

    See Also
    --------
    load_airline : A monthly series with a fixed yearly season.

    Examples
    --------
    >>> from sklearn_rnn.datasets import load_sunspots
    >>> sunspots = load_sunspots()
    >>> sunspots.data.shape, sunspots.data[:3]
    ((309,), array([ 5., 11., 16.]))
    >>> sunspots.time[0], sunspots.time[-1]
    (np.datetime64('1700'), np.datetime64('2008'))
    """
    years, values = _read_csv("sunspots.csv")
    return Bunch(data=values, time=years.astype("datetime64[Y]"), DESCR=_SUNSPOTS_DESCR)

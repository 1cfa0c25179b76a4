"""The streaming gallery example runs (quick mode): streamed outputs equal whole-sequence ones."""

import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plot_streaming_prediction.py"


def test_example_streaming_prediction(monkeypatch):
    """Streamed labels and values equal predict's, and the streamed forecasts beat the baselines.

    Measured in quick mode: the streamed label after each of the 5,687 test frames equals
    predict on that prefix (100%), as after the last frame for all 370 recordings; the
    classifier's test accuracy is 0.959, 0.462 after one frame. The streamed sunspot
    predictions differ from predict on the whole series by at most 1.7e-05 sunspots; their
    RMSE on 1901-2008 is 16.5 against 28.7 for persistence and 17.5 for the linear
    autoregression on the last 9 years.
    """
    plt.switch_backend("Agg")
    monkeypatch.setenv("SKLEARN_RNN_EXAMPLE_QUICK", "1")
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    plt.close("all")

    # The classifier: streamed labels are predict's, at every frame and at the end.
    assert namespace["label_agreement"] == 1.0
    assert namespace["final_agreement"] == 1.0
    assert namespace["classifier_accuracy"] > 0.9
    accuracy_after = namespace["accuracy_after"]
    assert accuracy_after[-1] == namespace["classifier_accuracy"]  # 29 frames: every recording
    assert accuracy_after[0] < accuracy_after[-1] - 0.3  # it learns as the frames arrive
    assert accuracy_after[0] > namespace["constant_accuracy"] + 0.1

    # The forecaster: streamed values are predict's on the whole series, to float32 round-off.
    np.testing.assert_allclose(namespace["streamed"], namespace["whole"], rtol=1e-4, atol=1e-5)
    assert namespace["streamed"].shape == (308,)
    assert namespace["model_rmse"] < 0.7 * namespace["persistence_rmse"], namespace["rmse"]
    assert namespace["model_rmse"] < namespace["autoregression_rmse"], namespace["rmse"]

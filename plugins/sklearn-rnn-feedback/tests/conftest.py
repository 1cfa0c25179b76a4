"""Test-wide settings of the plugin's tests."""


def pytest_configure(config):
    # One torch thread, as in sklearn-rnn's own tests: the tests measure
    # behaviour, and intra-op threads fighting for a shared CI core are slow.
    import torch

    torch.set_num_threads(1)

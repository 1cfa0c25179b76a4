"""Test-wide settings: one torch thread, as on a shared 2-core CI machine."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    # Two intra-op threads on a loaded 2-core machine made training up to 100x
    # slower; tests measure behaviour, not speed.
    import torch

    torch.set_num_threads(1)
    yield

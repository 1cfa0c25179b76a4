"""Test-wide settings for tests/ and the doctests in sklearn_rnn/."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "docs: builds the Sphinx documentation (needs the docs extra)"
    )
    config.addinivalue_line(
        "markers", "gpu: needs a CUDA GPU (skipped when torch.cuda.is_available() is False)"
    )
    # One torch thread, as on a shared 2-core CI machine: two intra-op threads
    # while another process held a core made training up to 100x slower, and
    # tests measure behaviour, not speed.
    import torch

    torch.set_num_threads(1)

"""The Sphinx site in docs/ builds without warnings, and its API reference is complete.

The build test runs Sphinx with warnings as errors and runs every gallery
example in its quick mode (``SKLEARN_RNN_EXAMPLE_QUICK=1``), two at a time
(``SKLEARN_RNN_GALLERY_JOBS=2``, one per core of the CI machine): a failing
example fails the build. It needs the ``docs`` extra and is marked ``docs``
(``-m docs`` selects it, ``-m "not docs"`` leaves it out). It
builds a copy of docs/ and examples/ in ``tmp_path``, because autosummary and
sphinx-gallery write their generated pages into the source folder.
"""

import importlib
import inspect
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sklearn_rnn

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# What the build writes into docs/; a stale copy must not hide a problem.
GENERATED = ("_build", "generated", "auto_examples", "sg_execution_times.rst")

# Public modules with no page of their own in the API reference.
NOT_IN_API = {"sklearn_rnn.cli": "the sklearn-rnn command, documented in the user guide"}


def documented_objects(api_text):
    """The objects listed in the autosummary tables of the Markdown ``api_text``."""
    objects, module = [], None
    for line in api_text.splitlines():
        if match := re.fullmatch(r"\.\. currentmodule:: (\S+)", line.strip()):
            module = importlib.import_module(match.group(1))
        elif re.fullmatch(r"   [A-Za-z_]\w*", line):  # an autosummary entry
            objects.append(getattr(module, line.strip()))
    return objects


def public_names(module):
    """A module's ``__all__``, or else the classes and functions it defines."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__.startswith(module.__name__)
    ]


def public_modules():
    """sklearn_rnn and its submodules whose names do not start with an underscore."""
    names = ["sklearn_rnn"] + [
        f"sklearn_rnn.{info.name}"
        for info in pkgutil.iter_modules(sklearn_rnn.__path__)
        if not info.name.startswith("_")
    ]
    return [name for name in names if name not in NOT_IN_API]


def test_api_reference_lists_every_public_name():
    """docs/api.md lists every public class and function (re-exports and aliases once)."""
    documented = documented_objects((DOCS / "api.md").read_text(encoding="utf-8"))
    missing = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        missing += [
            f"{module_name}.{name}"
            for name in public_names(module)
            if not any(getattr(module, name) is obj for obj in documented)
        ]
    assert not missing, f"add these to an autosummary table in docs/api.md: {missing}"


@pytest.mark.docs
def test_sphinx_build_without_warnings(tmp_path):
    """The HTML site builds with -W, running every gallery example (quick mode)."""
    for module in ("sphinx", "myst_parser", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        pytest.importorskip(module, reason="needs the docs extra: pip install -e '.[docs]'")
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns(*GENERATED))
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    out = tmp_path / "html"
    env = {**os.environ, "SKLEARN_RNN_EXAMPLE_QUICK": "1", "SKLEARN_RNN_GALLERY_JOBS": "2"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(tmp_path / "docs"), str(out)],
        capture_output=True, text=True, timeout=900, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("index", "api", "changelog", "auto_examples/index", "generated/sklearn_rnn.LSTMClassifier"):
        assert (out / f"{page}.html").is_file(), page

    # Every example ran: its page shows its output and at least one figure.
    examples = sorted(path.stem for path in (ROOT / "examples").glob("plot_*.py"))
    assert examples
    images = tmp_path / "docs" / "auto_examples" / "images"
    for name in examples:
        assert list(images.glob(f"sphx_glr_{name}_0*.png")), f"{name} drew no figure"
        page = (out / "auto_examples" / f"{name}.html").read_text(encoding="utf-8")
        assert "sphx-glr-script-out" in page, f"{name} printed nothing"
    assert (tmp_path / "docs" / "auto_examples" / "example_mode.txt").read_text().strip() == "quick"

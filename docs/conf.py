"""Sphinx configuration of the sklearn-rnn documentation (scikit-learn's conventions).

The pages are Markdown (MyST-Parser), the API reference is generated from the
numpydoc docstrings by autosummary, and ``examples/plot_*.py`` become the
gallery (sphinx-gallery). Build from the repository's root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Three switches, read from the command line and the environment:

- ``-D plot_gallery=0`` builds the gallery pages without running the examples
  (their code and text, without output or figures);
- ``SKLEARN_RNN_EXAMPLE_QUICK=1`` runs every example in its quick mode (less
  data, fewer epochs: the settings their tests use). CI builds the site this
  way (tests/test_docs_build.py); the published site runs them in full;
- ``SKLEARN_RNN_GALLERY_JOBS=N`` runs N examples at a time, each in its own
  worker process (sphinx-gallery's ``parallel``, through joblib, which gives
  each worker ``cpu_count // N`` threads); the default runs them one after
  another in the Sphinx process. sphinx-gallery runs an example again only
  when its source changed, so a build that switches between the two modes runs
  every example again (``_rerun_examples_when_mode_changes``).

Nothing is fetched from the internet: no intersphinx inventories, no remote
images or fonts.
"""

import os
import re
from pathlib import Path

import sklearn_rnn

project = "sklearn-rnn"
author = "sklearn-rnn developers"
copyright = "sklearn-rnn developers"
release = sklearn_rnn.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build"]

# -- MyST: the pages link each other's headings as page.md#heading-slug ------
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 4

# -- autodoc, autosummary and numpydoc, as scikit-learn sets them ------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"  # the docstrings give the types, numpydoc-style
# The class template lists the methods itself; numpydoc would list them again.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- sphinx-gallery ----------------------------------------------------------
# The examples read SKLEARN_RNN_EXAMPLE_QUICK themselves: sphinx-gallery runs
# them in this process (or in worker processes started from it), with this
# environment.
EXAMPLE_MODE = "quick" if os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1" else "full"

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": "/plot_",
    "within_subsection_order": "FileNameSortKey",
    # "Examples using X" under each API page (minigallery in the templates).
    "doc_module": ("sklearn_rnn",),
    "backreferences_dir": "generated",
    "reference_url": {"sklearn_rnn": None},
    "remove_config_comments": True,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    # A failing example fails the build (with -W as well as without).
    "only_warn_on_example_error": False,
    "parallel": int(os.environ.get("SKLEARN_RNN_GALLERY_JOBS", "1")),
}

# -- HTML: the PyData theme, without anything fetched at build or view time ---
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-rnn {release}"
html_theme_options = {
    "header_links_before_dropdown": 6,
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
html_sidebars = {"index": [], "changelog": [], "benchmarks": []}


# :ref:`text <label>`, :ref:`label`, :term:`text <term>` and :term:`term`.
_SKLEARN_ROLE = re.compile(r":(?:ref|term):`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _unlink_sklearn_references(app, what, name, obj, options, lines):
    """Show scikit-learn's own cross-references as plain text.

    The API pages list the methods the estimators inherit from scikit-learn
    (``score``, ``set_params``, ``set_output``, ``set_fit_request``, ...); their
    docstrings refer to labels and glossary terms of scikit-learn's
    documentation, which this build does not fetch.
    """
    if not getattr(obj, "__module__", None) or not obj.__module__.startswith("sklearn."):
        return
    for i, line in enumerate(lines):
        lines[i] = _SKLEARN_ROLE.sub(lambda m: m.group(1) or m.group(2), line)


def _rerun_examples_when_mode_changes(app):
    """Run every example again when the build switches between quick and full mode.

    sphinx-gallery keeps an example's output while the example's source is
    unchanged; without this a full build after a quick one would publish the
    quick figures. The mode of the last executed build is kept next to the
    outputs, in ``auto_examples/example_mode.txt``.
    """
    gallery_conf = app.config.sphinx_gallery_conf
    if not gallery_conf["plot_gallery"]:
        return
    stamp = Path(app.srcdir) / gallery_conf["gallery_dirs"][0] / "example_mode.txt"
    if stamp.exists() and stamp.read_text(encoding="utf-8").strip() != EXAMPLE_MODE:
        gallery_conf["run_stale_examples"] = True
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(EXAMPLE_MODE + "\n", encoding="utf-8")


def setup(app):
    # After sphinx-gallery reads plot_gallery (priority 10), before it runs the
    # examples (priority 500).
    app.connect("builder-inited", _rerun_examples_when_mode_changes, priority=20)
    app.connect("autodoc-process-docstring", _unlink_sklearn_references)

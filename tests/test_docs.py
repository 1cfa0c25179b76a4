"""The Python examples in docs/*.md run as written.

Every block fenced as ```python is executed; blocks meant to be read but not
run (GPU code, shell commands, output) are fenced as ```text or ```bash.
"""

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

# A fence that opens with ```python at the start of a line, up to the next
# closing ``` at the start of a line.
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", flags=re.S | re.M)


def python_blocks(text):
    """The ```python blocks of Markdown ``text``, as (first line number, code) pairs."""
    return [
        (text.count("\n", 0, match.start(1)) + 1, match.group(1))
        for match in PYTHON_BLOCK.finditer(text)
    ]


def test_python_blocks_are_found():
    """The block extractor finds python blocks only, with their line numbers."""
    text = "intro\n```python\na = 1\n```\n```text\nnot run\n```\n```python\nb = a\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (9, "b = a\n")]


def test_docs_have_examples():
    """The user guide and the datasets page have runnable examples."""
    for name in ("index.md", "user_guide.md", "datasets.md"):
        assert python_blocks((DOCS / name).read_text(encoding="utf-8")), name


def test_index_links_every_page():
    """docs/index.md links every other page of docs/."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "index.md":
            assert f"]({page.name}" in index, page.name


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda page: page.name)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    """A page's python blocks run in order, in one namespace, so later ones use earlier names."""
    monkeypatch.chdir(tmp_path)  # examples may write files (e.g. a saved model)
    namespace = {"__name__": f"docs_{page.stem}"}
    # A Dask LocalCluster (distributed.md) sets OMP_NUM_THREADS and more in this
    # process: later tests must not inherit them.
    environ = dict(os.environ)
    try:
        for lineno, code in python_blocks(page.read_text(encoding="utf-8")):
            # Pad with newlines so that tracebacks give the line number in the .md file.
            exec(compile("\n" * (lineno - 1) + code, str(page), "exec"), namespace)
    finally:
        os.environ.clear()
        os.environ.update(environ)

"""docs/writing_a_plugin.md works as written.

The guide's package (the blocks whose first line names a file under
``sklearn-rnn-mgu/``) is written to ``tmp_path`` and made discoverable without
pip, as an editable install would: its folder goes on ``sys.path`` next to a
``sklearn_rnn_mgu-0.1.0.dist-info`` made from the guide's ``pyproject.toml``.
The guide's Python then runs section by section (blocks are found by their
section heading), and what it says a command prints is compared with what the
command prints. Only the training budget is cut: fewer epochs, and a few
sequences of each speaker of JapaneseVowels. Every test leaves ``sys.path``,
``sys.modules`` and the cell registry as it found them.
"""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sklearn_rnn.datasets
from sklearn_rnn import RecurrentClassifier
from sklearn_rnn.cells import available_cells, get_cell, refresh_cells, unregister_cell
from sklearn_rnn.cli import main

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "writing_a_plugin.md"
GROUP = "sklearn_rnn.cells"
PROJECT = "sklearn-rnn-mgu"
MODULE = "sklearn_rnn_mgu"

# A fenced block: its language and its code, up to the closing fence.
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", flags=re.S | re.M)
HEADING = re.compile(r"^#+ +(.+?)[ \t]*$", flags=re.M)
# The first line of a block that is a file of the package.
FILE_MARKER = re.compile(rf"# ({PROJECT}/\S+)\n")


def read_guide():
    """The guide's fenced blocks under each heading: {heading: [(language, code, lineno)]}."""
    text = GUIDE.read_text(encoding="utf-8")
    sections, heading, end = {}, "", 0
    for match in FENCE.finditer(text):
        # Headings between two blocks only: a "# comment" inside a block is not one.
        for heading_match in HEADING.finditer(text, end, match.start()):
            heading = heading_match.group(1)
        lineno = text.count("\n", 0, match.start(2)) + 1
        sections.setdefault(heading, []).append((match.group(1), match.group(2), lineno))
        end = match.end()
    return sections


SECTIONS = read_guide()


def blocks(section, language="py"):
    """(code, lineno) of the ``language`` blocks of the one section titled with ``section``."""
    headings = [heading for heading in SECTIONS if section in heading]
    assert len(headings) == 1, f"{GUIDE.name} has no single section {section!r}: {list(SECTIONS)}"
    return [(code, lineno) for lang, code, lineno in SECTIONS[headings[0]] if lang == language]


def package_files():
    """{path: text} of the blocks whose first line names a file of the package."""
    files = {}
    for section in SECTIONS.values():
        for _, code, _ in section:
            marker = FILE_MARKER.match(code)
            if marker:
                assert marker.group(1) not in files, f"{marker.group(1)} is shown twice"
                files[marker.group(1)] = code
    return files


def run(code, lineno, namespace):
    """Execute a block of the guide; tracebacks give line numbers in the .md file."""
    exec(compile("\n" * (lineno - 1) + code, str(GUIDE), "exec"), namespace)


def words(text):
    """``text`` with every run of whitespace made one space: wrapping does not matter."""
    return " ".join(text.split())


def write_package(root, *, prepend_to_cells="", entry_points=None):
    """Write the guide's package under ``root`` and a dist-info for it; return its folder.

    The dist-info holds what ``pip install -e .`` would write for the guide's
    ``pyproject.toml``: name, version and entry points (``entry_points``
    replaces the latter, to simulate a different declaration).
    """
    for path, text in package_files().items():
        if path.endswith("/cells.py"):
            text = prepend_to_cells + text
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    project = root / PROJECT
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = project / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    declared = meta["entry-points"][GROUP] if entry_points is None else entry_points
    lines = "".join(f"{name} = {value}\n" for name, value in declared.items())
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}")
    return project


@pytest.fixture
def on_path(monkeypatch):
    """``on_path(folder)`` makes ``folder`` importable and its entry points found.

    Afterwards the folders leave ``sys.path``, their modules ``sys.modules``,
    a runtime ``"mgu"`` registration the registry, and the registry reads the
    entry points again.
    """
    folders = []

    def put(folder):
        folders.append(str(folder))
        monkeypatch.syspath_prepend(str(folder))  # also invalidates the import caches
        refresh_cells()

    yield put
    monkeypatch.undo()
    for name, module in list(sys.modules.items()):
        if any(str(getattr(module, "__file__", None)).startswith(f) for f in folders):
            del sys.modules[name]
    try:
        unregister_cell("mgu")
    except ValueError:  # not registered at runtime: the usual case
        pass
    importlib.invalidate_caches()
    refresh_cells()


@pytest.fixture
def small_data(monkeypatch):
    """load_japanese_vowels, as the guide calls it, gives 4 sequences of each speaker."""
    load = sklearn_rnn.datasets.load_japanese_vowels

    def load_small(*, split=None, return_X_y=False):
        assert return_X_y, "the guide loads (X, y)"
        X, y = load(split=split, return_X_y=True)
        keep = np.concatenate([np.flatnonzero(y == label)[:4] for label in np.unique(y)])
        return [X[i] for i in keep], y[keep]

    monkeypatch.setattr(sklearn_rnn.datasets, "load_japanese_vowels", load_small)
    return load_small(split="train", return_X_y=True)


def cell_types(estimator):
    """The names of the cell classes inside a fitted estimator's network."""
    return {
        type(module).__name__
        for module in estimator.net_.module_.modules()
        if type(module).__name__.endswith("Cell")
    }


def fewer_epochs(code):
    """The guide's code training for 2 epochs instead of 30."""
    assert code.count("max_iter=30") == 1, "the guide's budget changed: update this test"
    return code.replace("max_iter=30", "max_iter=2")


def test_layout_lists_the_files_shown():
    """The folder layout shows exactly the files whose contents the guide gives."""
    ((tree, _),) = blocks("Lay out the package", "text")
    parents, paths = [], set()
    for line in tree.splitlines():
        depth = (len(line) - len(line.lstrip())) // 2
        parents[depth:] = [line.strip()]
        if not line.endswith("/"):
            paths.add("".join(parents))
    assert paths == set(package_files())


def test_pyproject_declares_the_cell():
    """pyproject.toml declares the entry point mgu and depends on sklearn-rnn."""
    (text,) = [t for p, t in package_files().items() if p.endswith("pyproject.toml")]
    project = tomllib.loads(text)["project"]
    assert project["name"] == PROJECT
    assert project["entry-points"][GROUP] == {"mgu": f"{MODULE}.cells:MGUCell"}
    assert "sklearn-rnn" in project["dependencies"]


def test_installed_cell_is_listed(tmp_path, on_path, capsys):
    """available_cells() and sklearn-rnn cells show "mgu" and its package, as the guide prints."""
    on_path(write_package(tmp_path))
    info = available_cells()["mgu"]
    assert (info.source, info.version, info.error) == (PROJECT, "0.1.0", None)
    assert get_cell("mgu").__module__ == f"{MODULE}.cells"

    ((code, lineno),) = blocks("Find it")
    capsys.readouterr()
    run(code, lineno, {})
    printed = capsys.readouterr().out.splitlines()
    promised = [line.split("  # ")[1] for line in code.splitlines() if line.startswith("print(")]
    assert printed == promised  # the comments after print(...) say what it prints

    assert main(["cells"]) == 0
    # Other installed plugins add rows and widen the columns; versions of
    # sklearn-rnn change: compare the guide's rows word by word, version aside.
    def row(line):
        return re.sub(r"built-in \S+", "built-in VERSION", words(line))

    table = [row(line) for line in capsys.readouterr().out.splitlines()]
    ((shown, _),) = blocks("Find it", "text")
    for line in shown.splitlines():
        assert row(line) in table


def test_estimator_and_grid_search(tmp_path, on_path, small_data):
    """RecurrentClassifier(cell="mgu") fits, and GridSearchCV searches over "gru" and "mgu"."""
    on_path(write_package(tmp_path))
    namespace = {}
    for section in ("Use it", "Search over cells"):
        ((code, lineno),) = blocks(section)
        run(fewer_epochs(code) if "max_iter" in code else code, lineno, namespace)
    model, search = namespace["model"], namespace["search"]
    assert "MGUCell" in cell_types(model[-1])
    assert list(search.cv_results_["param_recurrentclassifier__cell"]) == ["gru", "mgu"]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_plugin_tests_pass(tmp_path):
    """The guide's tests/test_mgu.py passes in a new process: conformance kit, entry point."""
    testing = pytest.importorskip("sklearn_rnn.testing")
    if not hasattr(testing, "parametrize_with_cell_checks"):
        pytest.skip("this sklearn-rnn's conformance kit has no parametrize_with_cell_checks")
    project = write_package(tmp_path)
    path = os.pathsep.join([str(project), os.environ.get("PYTHONPATH", "")])
    # One thread, as in conftest.py: the kit's short fits are slower with more.
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed" not in result.stdout and "skipped" not in result.stdout


def test_without_packaging(tmp_path, on_path, small_data):
    """A script next to cells.py passes the class, or registers it as "mgu" for the process."""
    script = tmp_path / "script"
    script.mkdir()
    (cells,) = [t for p, t in package_files().items() if p.endswith("/cells.py")]
    (script / "cells.py").write_text(cells, encoding="utf-8")
    on_path(script)
    namespace = {}
    ((code, lineno),) = blocks("Without packaging")
    run(code, lineno, namespace)
    MGUCell = namespace["MGUCell"]
    assert get_cell("mgu") is MGUCell and available_cells()["mgu"].source == "runtime"
    X, y = small_data
    for cell in (MGUCell, "mgu"):
        clf = RecurrentClassifier(cell=cell, hidden_size=4, max_iter=1, random_state=0).fit(X, y)
        assert cell_types(clf) == {"MGUCell"}


def test_broken_import_warns_and_names_the_package(tmp_path, on_path, small_data):
    """A plugin that fails to import warns as the guide shows; fit says why; other cells work."""
    on_path(write_package(tmp_path, prepend_to_cells="import mgu_kernels\n"))
    assert "mgu" in available_cells()  # listing imports nothing: no warning yet
    X, y = small_data
    with pytest.warns(RuntimeWarning, match="failed to load") as record:
        with pytest.raises(ValueError, match="No module named 'mgu_kernels'"):
            RecurrentClassifier(cell="mgu", max_iter=1).fit(X, y)
    (warning,) = [w for w in record if "failed to load" in str(w.message)]
    ((shown, _),) = blocks("The plugin fails to import", "text")
    assert words(f"RuntimeWarning: {warning.message}") == words(shown)
    assert get_cell("gru").__name__ == "GRUCell"


def test_builtin_name_is_not_replaced(tmp_path, on_path):
    """An entry point named "gru" warns as the guide shows, and "gru" stays the built-in."""
    value = f"{MODULE}.cells:MGUCell"
    on_path(write_package(tmp_path, entry_points={"gru": value}))
    with pytest.warns(RuntimeWarning, match="a plugin cannot replace it") as record:
        cells = available_cells()
    (warning,) = [w for w in record if value in str(w.message)]
    ((shown, _),) = blocks("The name is taken", "text")
    assert words(f"RuntimeWarning: {warning.message}") == words(shown)
    assert cells["gru"].source == "built-in" and get_cell("gru").__name__ == "GRUCell"


def test_unknown_name_lists_the_installed_cells(tmp_path, on_path, small_data):
    """A misspelt cell fails at fit with the message the guide shows, suggesting "mgu"."""
    on_path(write_package(tmp_path))
    X, y = small_data
    ((code, lineno),) = blocks("The name is unknown")
    namespace = {"RecurrentClassifier": RecurrentClassifier, "X_train": X, "y_train": y}
    with pytest.raises(ValueError) as excinfo:
        run(code, lineno, namespace)
    ((shown, _),) = blocks("The name is unknown", "text")
    actual, shown = words(f"ValueError: {excinfo.value}"), words(shown)
    # Other installed plugins lengthen the list: the guide's cells must be in it, in order.
    listed = re.compile(r"Installed cells: (.*?)\. To add")
    installed = listed.search(actual).group(1).split(", ")
    guide_installed = listed.search(shown).group(1).split(", ")
    assert [name for name in installed if name in guide_installed] == guide_installed
    assert listed.sub("", actual) == listed.sub("", shown)


def test_registry_left_clean():
    """After the tests above: no cell "mgu", none of their modules or sys.path entries."""
    assert "mgu" not in available_cells(refresh=True)
    assert not [name for name in sys.modules if name.split(".")[0] in (MODULE, "cells")]
    assert not [path for path in sys.path if PROJECT in path or path.endswith("script")]

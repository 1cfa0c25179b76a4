"""The cell registry: built-in cells, entry-point plugins and runtime registration.

Plugins are simulated with real ``importlib.metadata`` entry points of fake
distributions written to ``tmp_path``; their values point at the small cells
defined below. Every test starts from an empty registry (``fresh_registry``).
"""

import dataclasses
import importlib.metadata
import importlib.util
import subprocess
import sys
import textwrap
import threading
import time
import types
import warnings

import pytest
import torch
from torch import nn

import sklearn_rnn
from sklearn_rnn.cells import (
    CellInfo,
    available_cells,
    get_cell,
    refresh_cells,
    register_cell,
    resolve_cell,
    unregister_cell,
)
from sklearn_rnn.cells import _discovery, _registry

GROUP = "sklearn_rnn.cells"
HERE = __name__  # the module the fake entry points import their cells from


class AddCell(nn.Module):
    """Adds a projection of the input to the state.

    More text that is not part of the description.
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.linear = nn.Linear(input_size, hidden_size)

    def forward(self, x_t, state):
        h_t = torch.tanh(self.linear(x_t) + state)
        return h_t, h_t


class RichCell(AddCell):
    """Not the description: the class attribute wins."""

    description = "A cell with every optional part"
    numba_kernels = types.SimpleNamespace(forward=None, backward=None, step=None)

    def init_state(self, batch_size, device, dtype):
        return torch.zeros(batch_size, self.linear.out_features, device=device, dtype=dtype)

    def forward_sequence(self, x, lengths, state):
        raise NotImplementedError


class NoForwardCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()


class WrongInitCell(nn.Module):
    def __init__(self, n_units):
        super().__init__()

    def forward(self, x_t, state):
        return state, state


class WholeSequenceModule(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()

    def forward(self, x):
        return x


class NotAModuleCell:
    def __init__(self, input_size, hidden_size):
        pass

    def forward(self, x_t, state):
        return state, state


def not_a_class(input_size, hidden_size):
    return AddCell(input_size, hidden_size)


def fake_distribution(tmp_path, name, version, cells):
    """The entry points of a fake installed distribution declaring ``cells`` (name -> value)."""
    info = tmp_path / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{cell} = {value}\n" for cell, value in cells.items())
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}")
    return list(importlib.metadata.PathDistribution(info).entry_points)


def install(monkeypatch, *distributions):
    """Make discovery see exactly these distributions' entry points; returns a call counter."""
    calls = []

    def entry_points():
        calls.append(1)
        return [entry_point for dist in distributions for entry_point in dist]

    monkeypatch.setattr(_discovery, "_entry_points", entry_points)
    return calls


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    """Each test gets an empty registry; the process-wide one is left untouched."""
    monkeypatch.setattr(_registry, "_STATE", _registry._State())


@pytest.fixture
def fake_builtins(monkeypatch):
    """Built-in names pointing at the fake cells, so tests do not need the real ones."""
    monkeypatch.setattr(
        _discovery,
        "BUILTIN_CELLS",
        {"rnn": f"{HERE}:AddCell", "lstm": f"{HERE}:RichCell", "gru": f"{HERE}:AddCell"},
    )


@pytest.fixture
def no_plugins(monkeypatch):
    """No third-party cells installed."""
    return install(monkeypatch)


def test_builtin_cells_come_first_as_lazy_references(no_plugins):
    """rnn, lstm and gru are listed first, as built-in "module:attr" references."""
    cells = available_cells()
    assert list(cells)[:3] == ["rnn", "lstm", "gru"]
    assert cells["lstm"] == CellInfo(
        "lstm", "built-in", sklearn_rnn.__version__, "sklearn_rnn._torch.cells:LSTMCell", None
    )
    assert [info.value for info in cells.values()] == [
        "sklearn_rnn._torch.cells:RNNCell",
        "sklearn_rnn._torch.cells:LSTMCell",
        "sklearn_rnn._torch.cells:GRUCell",
    ]


def test_listing_cells_imports_neither_torch_nor_numba_nor_a_cell():
    """Discovering and listing every installed cell imports no cell module, torch or numba."""
    code = textwrap.dedent(
        """
        import sys
        import sklearn_rnn
        cells = sklearn_rnn.available_cells()
        rows = [(i.name, i.source, i.version, i.value) for i in cells.values()]
        modules = {value.split(":")[0] for _, _, _, value in rows}
        assert {"rnn", "lstm", "gru"} <= {name for name, *_ in rows}
        print(sorted(m for m in {"torch", "numba", *modules} if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plugin_cell_is_found_with_its_distribution(tmp_path, monkeypatch):
    """An entry point becomes a cell whose source and version are its distribution's."""
    install(monkeypatch, fake_distribution(tmp_path, "my-cells", "1.2", {"add": f"{HERE}:AddCell"}))
    info = available_cells()["add"]
    assert (info.name, info.source, info.version, info.value) == (
        "add",
        "my-cells",
        "1.2",
        f"{HERE}:AddCell",
    )
    assert get_cell("add") is AddCell


def test_real_entry_point_is_imported_on_first_request(tmp_path, monkeypatch):
    """A plugin installed on sys.path is found by importlib.metadata and imported only by get_cell."""
    fake_distribution(tmp_path, "path-cells", "0.3", {"pathcell": "path_cells_module:PathCell"})
    (tmp_path / "path_cells_module.py").write_text(
        "from test_registry import AddCell\n\nclass PathCell(AddCell):\n    pass\n"
        if HERE == "test_registry"
        else f"from {HERE} import AddCell\n\nclass PathCell(AddCell):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "path_cells_module", raising=False)
    try:
        assert available_cells()["pathcell"].source == "path-cells"
        assert "path_cells_module" not in sys.modules
        assert get_cell("pathcell").__name__ == "PathCell"
        assert "path_cells_module" in sys.modules
    finally:
        sys.modules.pop("path_cells_module", None)


def test_discovery_is_lazy_and_cached(fake_builtins, monkeypatch):
    """Entry points are read on first use only, then served from the cache."""
    calls = install(monkeypatch)
    assert calls == []
    available_cells()
    available_cells()
    get_cell("lstm")
    get_cell("lstm")
    assert len(calls) == 1


def test_loaded_class_is_cached(fake_builtins, no_plugins, monkeypatch):
    """get_cell imports a reference once; later calls reuse the class."""
    loads = []
    original = importlib.metadata.EntryPoint.load

    def counting_load(self):
        loads.append(self.name)
        return original(self)

    monkeypatch.setattr(importlib.metadata.EntryPoint, "load", counting_load)
    assert get_cell("rnn") is get_cell("rnn") is AddCell
    assert loads == ["rnn"]


def test_refresh_reads_the_entry_points_again(tmp_path, monkeypatch):
    """A plugin installed after the first lookup appears after refresh_cells()."""
    first = fake_distribution(tmp_path / "a", "a-cells", "1", {"one": f"{HERE}:AddCell"})
    second = fake_distribution(tmp_path / "b", "b-cells", "1", {"two": f"{HERE}:AddCell"})
    install(monkeypatch, first)
    assert "one" in available_cells()
    install(monkeypatch, second)
    assert "two" not in available_cells()  # cached
    refresh_cells()
    assert "two" in available_cells() and "one" not in available_cells()
    install(monkeypatch, first)
    assert "one" in available_cells(refresh=True)


def test_refresh_keeps_runtime_registrations(no_plugins):
    """Cells registered with register_cell survive refresh_cells()."""
    register_cell("add", AddCell)
    register_cell("rich", f"{HERE}:RichCell")
    refresh_cells()
    assert get_cell("add") is AddCell and get_cell("rich") is RichCell


def test_broken_import_warns_and_get_cell_explains(tmp_path, monkeypatch, fake_builtins):
    """A plugin that fails to import warns once, get_cell says why, other cells still work."""
    install(
        monkeypatch,
        fake_distribution(
            tmp_path, "broken-cells", "0.1", {"broken": "no_such_module_xyz:Cell", "ok": f"{HERE}:AddCell"}
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # discovery itself imports nothing, so it cannot warn
        assert {"broken", "ok"} <= set(available_cells())
    expected = r"entry point 'broken = no_such_module_xyz:Cell' of distribution 'broken-cells' 0\.1"
    with pytest.warns(RuntimeWarning, match=expected) as record:
        with pytest.raises(ValueError, match="failed to load") as error:
            get_cell("broken")
    assert "No module named 'no_such_module_xyz'" in str(record[0].message)
    assert "ModuleNotFoundError" in str(error.value) and "broken-cells" in str(error.value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once only
        with pytest.raises(ValueError, match="No module named 'no_such_module_xyz'"):
            get_cell("broken")
        assert get_cell("ok") is AddCell
        assert get_cell("lstm") is RichCell


@pytest.mark.parametrize(
    ("attr", "reason"),
    [
        ("NotAModuleCell", "expected a torch.nn.Module subclass, got class NotAModuleCell"),
        ("not_a_class", "expected a torch.nn.Module subclass, got <function not_a_class"),
        ("WrongInitCell", r"cannot be called as WrongInitCell\(input_size, hidden_size\)"),
        ("NoForwardCell", r"does not define forward\(self, x_t, state\)"),
        ("WholeSequenceModule", r"cannot be called as forward\(x_t, state\)"),
    ],
)
def test_plugin_breaking_the_protocol_fails_at_load_not_discovery(tmp_path, monkeypatch, attr, reason):
    """A plugin object that is not a cell class warns and fails on get_cell, naming the problem."""
    install(monkeypatch, fake_distribution(tmp_path, "odd-cells", "2.0", {"odd": f"{HERE}:{attr}"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = available_cells()["odd"]
    with pytest.warns(RuntimeWarning, match="'odd-cells' 2.0") as record:
        with pytest.raises(ValueError, match=reason):
            get_cell("odd")
    assert "does not follow the cell protocol" in str(record[0].message)
    assert info.error.startswith("it does not follow the cell protocol")


def test_plugin_cannot_replace_a_builtin(tmp_path, monkeypatch, fake_builtins):
    """An entry point named like a built-in is ignored with a warning naming its distribution."""
    install(monkeypatch, fake_distribution(tmp_path, "sneaky-cells", "1", {"lstm": f"{HERE}:AddCell"}))
    with pytest.warns(RuntimeWarning, match=r"Ignoring entry point 'lstm = .*'sneaky-cells'.*built-in"):
        cells = available_cells()
    assert cells["lstm"].source == "built-in"
    assert get_cell("lstm") is RichCell


def test_duplicate_plugin_names_resolve_by_distribution_name(tmp_path, monkeypatch):
    """Two distributions declaring one name: the first by distribution name wins, with a warning."""
    zeta = fake_distribution(tmp_path, "zeta-cells", "1", {"shared": f"{HERE}:RichCell"})
    alpha = fake_distribution(tmp_path, "alpha-cells", "1", {"shared": f"{HERE}:AddCell"})
    install(monkeypatch, zeta, alpha)
    with pytest.warns(RuntimeWarning, match="2 entry points define the cell 'shared'") as record:
        cells = available_cells()
    message = str(record[0].message)
    assert message.index("'alpha-cells'") < message.index("'zeta-cells'")
    assert cells["shared"].source == "alpha-cells" and get_cell("shared") is AddCell


def test_same_distribution_seen_twice_is_not_a_clash(tmp_path, monkeypatch):
    """One distribution found twice on sys.path does not warn about duplicates."""
    dist = fake_distribution(tmp_path, "twice-cells", "1", {"add": f"{HERE}:AddCell"})
    install(monkeypatch, dist, dist)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert available_cells()["add"].source == "twice-cells"


def test_unreadable_metadata_warns_and_keeps_the_builtins(monkeypatch):
    """If the entry points cannot be read at all, the built-in cells are still there."""

    def broken_entry_points():
        raise OSError("metadata unreadable")

    monkeypatch.setattr(_discovery, "_entry_points", broken_entry_points)
    with pytest.warns(RuntimeWarning, match="metadata unreadable"):
        assert list(available_cells()) == ["rnn", "lstm", "gru"]


def test_unknown_name_lists_installed_cells_and_suggests_the_closest(no_plugins):
    """An unknown name says what is installed and, when close, which name was meant."""
    with pytest.raises(ValueError, match="Did you mean 'lstm'") as error:
        get_cell("lstn")
    assert "Installed cells: 'rnn', 'lstm', 'gru'" in str(error.value)
    assert "register_cell" in str(error.value)
    with pytest.raises(ValueError, match="Did you mean 'gru'"):
        get_cell("GRU")
    with pytest.raises(ValueError, match="Unknown cell 'transformer'") as error:
        get_cell("transformer")
    assert "Did you mean" not in str(error.value)


def test_register_cell_with_a_class_or_a_reference(no_plugins):
    """register_cell takes a class, or a "module:attr" string loaded on first request."""
    register_cell("add", AddCell)
    register_cell("rich", f"{HERE}:RichCell")
    cells = available_cells()
    assert (cells["add"].source, cells["add"].version) == ("runtime", None)
    assert cells["add"].value == f"{AddCell.__module__}:AddCell"
    assert cells["rich"].value == f"{HERE}:RichCell"
    assert get_cell("add") is AddCell and get_cell("rich") is RichCell


def test_register_existing_name_needs_overwrite(no_plugins):
    """Registering a taken name raises ValueError unless overwrite=True."""
    register_cell("add", AddCell)
    with pytest.raises(ValueError, match="'add' is already registered.*overwrite=True"):
        register_cell("add", RichCell)
    assert get_cell("add") is AddCell
    register_cell("add", RichCell, overwrite=True)
    assert get_cell("add") is RichCell


def test_overwriting_a_builtin_is_explicit_and_reversible(fake_builtins, no_plugins):
    """A built-in is replaced only with overwrite=True; unregister_cell brings it back."""
    with pytest.raises(ValueError, match=r"'lstm' is already registered \(built-in"):
        register_cell("lstm", AddCell)
    register_cell("lstm", AddCell, overwrite=True)
    assert available_cells()["lstm"].source == "runtime" and get_cell("lstm") is AddCell
    assert list(available_cells())[:3] == ["rnn", "lstm", "gru"]  # keeps its place
    unregister_cell("lstm")
    assert available_cells()["lstm"].source == "built-in" and get_cell("lstm") is RichCell


def test_overwriting_a_plugin_is_explicit(tmp_path, monkeypatch):
    """A plugin cell, too, is replaced at runtime only with overwrite=True."""
    install(monkeypatch, fake_distribution(tmp_path, "p-cells", "1", {"add": f"{HERE}:AddCell"}))
    with pytest.raises(ValueError, match=r"already registered \(p-cells"):
        register_cell("add", RichCell)
    register_cell("add", RichCell, overwrite=True)
    assert get_cell("add") is RichCell


def test_register_cell_rejects_malformed_arguments(no_plugins):
    """Bad names, bad references and non-cell classes are refused at registration."""
    with pytest.raises(ValueError, match="cell name must be"):
        register_cell("my cell", AddCell)
    with pytest.raises(ValueError, match="cell name must be"):
        register_cell(3, AddCell)
    with pytest.raises(ValueError, match="must look like 'module:attr'"):
        register_cell("add", "test_registry.AddCell")
    with pytest.raises(TypeError, match="expected a torch.nn.Module subclass"):
        register_cell("add", NotAModuleCell)
    with pytest.raises(TypeError, match="cannot be called as WrongInitCell"):
        register_cell("add", WrongInitCell)
    with pytest.raises(TypeError, match="got 42"):
        register_cell("add", 42)
    assert "add" not in available_cells()


def test_broken_runtime_reference_fails_on_get_cell(no_plugins):
    """A runtime reference that does not import warns and raises on get_cell."""
    register_cell("ghost", "no_such_module_xyz:Cell")
    with pytest.warns(RuntimeWarning, match="registered with register_cell"):
        with pytest.raises(ValueError, match="Fix the reference given to register_cell"):
            get_cell("ghost")


def test_unregister_only_runtime_cells(no_plugins):
    """unregister_cell refuses names that were not registered with register_cell."""
    with pytest.raises(ValueError, match="it is a built-in cell"):
        unregister_cell("lstm")
    with pytest.raises(ValueError, match="No cell named 'nope'"):
        unregister_cell("nope")
    register_cell("add", AddCell)
    unregister_cell("add")
    assert "add" not in available_cells()


def test_available_cells_is_a_read_only_snapshot(no_plugins):
    """The mapping cannot be changed, and later registrations do not alter it."""
    cells = available_cells()
    with pytest.raises(TypeError):
        cells["add"] = CellInfo("add", "runtime", None, f"{HERE}:AddCell", None)
    with pytest.raises(TypeError):
        del cells["lstm"]
    register_cell("add", AddCell)
    assert "add" not in cells and "add" in available_cells()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cells["lstm"].value = "elsewhere:Cell"


def test_capabilities_and_description(no_plugins):
    """Capabilities and description come from the class, loaded when first asked for."""
    register_cell("add", AddCell)
    register_cell("rich", RichCell)
    cells = available_cells()
    assert cells["add"].capabilities == ("step",)
    assert cells["add"].description == "Adds a projection of the input to the state."
    assert cells["rich"].capabilities == ("step", "init_state", "forward_sequence", "numba")
    assert cells["rich"].description == "A cell with every optional part"
    assert cells["rich"].error is None and cells["rich"].load() is RichCell
    assert "_entry" not in repr(cells["rich"])


def test_cell_without_docstring_has_an_empty_description(no_plugins):
    """A cell with no docstring does not inherit torch.nn.Module's as its description."""
    register_cell("bare", NoDocCell)
    assert available_cells()["bare"].description == ""


class NoDocCell(AddCell):
    pass


NoDocCell.__doc__ = None


def test_get_cell_accepts_a_class_after_a_protocol_check():
    """A cell class is returned as is; other classes, instances and values raise TypeError."""
    assert get_cell(AddCell) is AddCell
    with pytest.raises(TypeError, match="cell=NotAModuleCell is not a cell class"):
        get_cell(NotAModuleCell)
    with pytest.raises(TypeError, match=r"pass the class itself \(cell=AddCell\)"):
        get_cell(AddCell(2, 3))
    with pytest.raises(TypeError, match="got 3 of type int"):
        get_cell(3)


def test_resolve_cell_is_get_cell():
    """Estimators resolve their cell parameter with the same function as get_cell."""
    assert resolve_cell is get_cell
    assert sklearn_rnn.get_cell is get_cell


def test_concurrent_first_use_discovers_once(tmp_path, monkeypatch):
    """Threads racing on the first lookup read the entry points once and get one class."""
    dist = fake_distribution(tmp_path, "slow-cells", "1", {"add": f"{HERE}:AddCell"})
    calls = []

    def slow_entry_points():
        calls.append(1)
        time.sleep(0.05)
        return dist

    monkeypatch.setattr(_discovery, "_entry_points", slow_entry_points)
    results = []
    threads = [threading.Thread(target=lambda: results.append(get_cell("add"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and results == [AddCell] * 8


@pytest.mark.skipif(
    importlib.util.find_spec("sklearn_rnn._torch.cells") is None,
    reason="sklearn_rnn._torch.cells (the built-in cell classes) is not written yet",
)
@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_builtin_cells_load_and_step(name, no_plugins):
    """Each built-in cell loads, has a description and runs one step of the protocol."""
    info = available_cells()[name]
    cell_class = get_cell(name)
    assert info.error is None and "step" in info.capabilities and info.description
    cell = cell_class(3, 4)
    if "init_state" in info.capabilities:
        state = cell.init_state(2, torch.device("cpu"), torch.float32)
    else:
        state = torch.zeros(2, 4)
    h_t, new_state = cell(torch.randn(2, 3), state)
    assert h_t.shape == (2, 4)
    assert type(new_state) is type(state)

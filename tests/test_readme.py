"""The README's quick start runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quick_start_runs():
    """The Python block of the README executes without error."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})


def test_ci_runs_the_readme_test_command():
    """.ci/run runs the README's second set-up command verbatim."""
    commands = re.findall(r"```bash\n#[^\n]*\n(.*?)\n```", README.read_text(), flags=re.S)
    assert len(commands) >= 2, "README must have the install-and-demo and the test commands"
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python -m pytest" in commands[1]
    assert commands[1] in ci.splitlines()

"""Running the dataset tool in-process, as the dataset tests do."""

from tfstylegan.cli import dataset_tool


def run_tool(*args):
    """Runs the tool in-process; returns its exit status."""
    return dataset_tool.main([str(a) for a in args])


def tool_error(capsys, *args) -> str:
    """Runs a command that must fail cleanly; returns its one-line error message."""
    capsys.readouterr()
    assert run_tool(*args) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = [ln for ln in captured.err.splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1, captured.err
    return lines[0]

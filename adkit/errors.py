"""Errors users can fix. The CLI prints them as one line and exits with code 2."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class AdkitError(Exception):
    """A user error: bad input file, bad option, bad model file. Message says what and how to fix."""


class InputError(AdkitError, ValueError):
    """An input data file cannot be read as events."""


class ModelFileError(AdkitError, ValueError):
    """A `.adkit` model file is missing, damaged, foreign or of an unknown format version."""


class ConfigError(AdkitError, ValueError):
    """A bad option, mapping or configuration value."""


class NotFittedError(AdkitError, AttributeError):
    """A detector was used before `fit`."""


class OutputError(AdkitError, OSError):
    """An output cannot be written (exists without --overwrite, or unwritable)."""


def closest(name: str, choices: Iterable[str], n: int = 5) -> str:
    """A short 'did you mean' list: the nearest valid names first, for error messages."""
    choices = list(choices)
    near = difflib.get_close_matches(name, choices, n=n, cutoff=0.4)
    rest = [c for c in choices if c not in near]
    shown = near + rest[: max(0, n - len(near))]
    more = f" (+{len(choices) - len(shown)} more)" if len(choices) > len(shown) else ""
    return ", ".join(shown) + more if shown else "(none)"


def missing_extra(package: str, extra: str) -> AdkitError:
    """Error for an optional dependency that is not installed, with the install command."""
    return AdkitError(f"{package} is not installed; install it with: pip install 'adkit[{extra}]'")


def os_error_line(e: OSError) -> str:
    """One line for an operating-system error: the file, what the system said, what to check."""
    import os

    name = e.filename if e.filename is not None else ""
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    name = str(name).encode("utf-8", "backslashreplace").decode("utf-8")  # a non-UTF-8 name prints escaped
    what = e.strerror or " ".join(str(e).split()) or type(e).__name__
    where = f"{name}: " if name else ""
    return f"{where}{what.rstrip('.')}; check the path, its permissions and free space, then run again"

"""The two ways building an index fails, in a module of their own so the answer path can
catch them without importing the build path."""

from __future__ import annotations

from pathlib import Path


class DataError(Exception):
    """Invalid curated data or an unreadable document; the message names file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class BuildError(Exception):
    """The index could not be built; the previous one (if any) is still in place."""

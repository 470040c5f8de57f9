"""Where the seeds, the curated data and the built index live.

Read once from environment variables into a frozen object, so every command (ask, eval,
index build, serve) agrees on the same locations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The checkout this package was installed from (an editable install keeps it here).
CHECKOUT = Path(__file__).resolve().parent.parent


def _default_root() -> Path:
    """The checkout when it holds the seeds, otherwise the current directory."""
    if (CHECKOUT / "seeds").is_dir():
        return CHECKOUT
    return Path.cwd()


def state_dir() -> Path:
    """Where generated state goes by default (git-ignored): the index, the question log."""
    return _default_root() / ".certdesk"


@dataclass(frozen=True)
class Paths:
    seeds_dir: Path
    data_dir: Path
    index_dir: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Paths":
        env = os.environ if environ is None else environ
        root = _default_root()

        def pick(name: str, default: Path) -> Path:
            value = env.get(name, "").strip()
            return Path(value).expanduser() if value else default

        return cls(
            seeds_dir=pick("CERTDESK_SEEDS_DIR", root / "seeds"),
            data_dir=pick("CERTDESK_DATA_DIR", root / "data"),
            index_dir=pick("CERTDESK_INDEX_DIR", state_dir() / "index"),
        )

"""Write requirements.txt from pyproject.toml, for platforms that install from it.

    python deploy/requirements.py            # (re)write requirements.txt beside pyproject.toml
    python deploy/requirements.py --check    # exit 1, with a diff, when it is out of date

A Python buildpack installs requirements.txt, not pyproject.toml. The file is generated, never
kept by hand: [project].dependencies in their order, then "." (certdesk itself, which gives
the `certdesk` command of the Procfile). "." rather than "-e .": an editable install points
at the directory it was built in, which on some platforms is not where the app runs.
Optional dependencies (the test extra) are left out.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "python deploy/requirements.py"


def render(pyproject: dict) -> str:
    """The text of requirements.txt for a parsed pyproject.toml."""
    dependencies = pyproject.get("project", {}).get("dependencies", [])
    lines = [
        f"# Generated from pyproject.toml by `{COMMAND}`: do not edit; run it after",
        "# changing [project].dependencies (a test fails until you do).",
        *dependencies,
        "# certdesk itself, which provides the `certdesk` command (\".\", not \"-e .\": see deploy/requirements.py).",
        ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether requirements.txt is up to date")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--output", type=Path, help="default: requirements.txt beside pyproject.toml")
    args = parser.parse_args(argv)
    output = args.output or args.pyproject.with_name("requirements.txt")
    with open(args.pyproject, "rb") as handle:
        wanted = render(tomllib.load(handle))
    if not args.check:
        output.write_text(wanted, encoding="utf-8")
        print(f"wrote {output}")
        return 0
    try:
        current = output.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    if current == wanted:
        print(f"{output} is up to date with {args.pyproject}")
        return 0
    sys.stdout.writelines(difflib.unified_diff(current.splitlines(keepends=True), wanted.splitlines(keepends=True),
                                               fromfile=f"{output} (committed)", tofile="from pyproject.toml"))
    print(f"{output} is out of date with {args.pyproject}: run `{COMMAND}` and commit the result",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

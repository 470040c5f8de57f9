"""Shared fixtures: an index of the real seeds built once per session, and scratch corpora.

Every index lives under pytest's tmp dir, never in the checkout, so tests never touch a
developer's own index.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.build import build_index
from index.config import Paths
from index.search import Engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def seed_paths(tmp_path_factory) -> Paths:
    """The checkout's seeds and data with a session-private index."""
    paths = Paths(seeds_dir=ROOT / "seeds", data_dir=ROOT / "data",
                  index_dir=tmp_path_factory.mktemp("index"))
    build_index(paths)
    return paths


@pytest.fixture(scope="session")
def engine(seed_paths) -> Engine:
    eng = Engine.open(seed_paths)
    yield eng
    eng.close()


@pytest.fixture()
def corpus(tmp_path) -> Paths:
    """A writable copy of seeds/ and data/ (without eval/) for tests that change them."""
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(ROOT / "seeds", seeds)
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("eval"))
    return Paths(seeds_dir=seeds, data_dir=data, index_dir=tmp_path / "index")


def point_env_at(monkeypatch, paths: Paths) -> Paths:
    """Set the CERTDESK_* variables, as a user would, to `paths`."""
    monkeypatch.setenv("CERTDESK_SEEDS_DIR", str(paths.seeds_dir))
    monkeypatch.setenv("CERTDESK_DATA_DIR", str(paths.data_dir))
    monkeypatch.setenv("CERTDESK_INDEX_DIR", str(paths.index_dir))
    return paths


@pytest.fixture()
def env_paths(monkeypatch, seed_paths) -> Paths:
    """The CERTDESK_* variables pointing at the session index, for CLI tests."""
    return point_env_at(monkeypatch, seed_paths)


@pytest.fixture()
def env_corpus(monkeypatch, corpus) -> Paths:
    """The CERTDESK_* variables pointing at a writable corpus copy."""
    return point_env_at(monkeypatch, corpus)

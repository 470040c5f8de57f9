"""pytest fixtures: ``fake_slack`` and ``fake_socket_mode`` (FakeSlack with Socket Mode attached).

Use from a test module or conftest with
``from slackstub.fixtures import fake_slack, fake_socket_mode  # noqa: F401``.
Both drop proxy variables first: slack-sdk and urllib would otherwise send even
127.0.0.1 traffic to a proxy named in ``HTTPS_PROXY``/``HTTP_PROXY``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .socket_mode import FakeSocketMode
from .web import FakeSlack

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def fake_slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def fake_socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    """Close your Socket Mode client before this fixture ends (e.g. in a ``finally``)."""
    with FakeSocketMode() as socket_mode:
        fake_slack.attach_socket_mode(socket_mode)
        yield socket_mode

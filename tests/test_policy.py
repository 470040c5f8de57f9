"""Who may see what: every rule of `decide`, the allow-list parser and the channel cache."""

from __future__ import annotations

import sys
import threading

import pytest

from bot.policy import (
    OUTSIDE_NOTICE,
    REFUSAL,
    SHARED_NOTICE,
    ChannelInfoCache,
    Decision,
    Facts,
    decide,
    parse_allowed_teams,
)

HOME = "T0HOME"
OTHER = "T0OTHER"
NO_LIMIT: frozenset[str] = frozenset()


def facts(**changes) -> Facts:
    """An own-org user in a DM known not to be shared: the one case that gets everything."""
    base = dict(team_id=HOME, user_team_id=HOME, user_is_stranger=False, channel_type="im",
                channel_shared=False)
    return Facts(**{**base, **changes})


INTERNAL = Decision(allowed=True, audience="internal", notice=None, refusal=None, ours=True)
PUBLIC_SHARED = Decision(allowed=True, audience="public", notice=SHARED_NOTICE, refusal=None, ours=True)
PUBLIC_OUTSIDE = Decision(allowed=True, audience="public", notice=OUTSIDE_NOTICE, refusal=None, ours=False)


# --- allow-list ----------------------------------------------------------------------------


def test_a_workspace_outside_the_allow_list_is_refused_politely_with_no_content():
    decision = decide(facts(team_id=OTHER, user_team_id=OTHER),
                      allowed_teams=frozenset({HOME}), home_team=HOME)
    assert decision.allowed is False
    assert decision.refusal == REFUSAL and decision.refusal
    assert decision.audience == "public" and decision.notice is None


def test_an_unknown_workspace_is_refused_when_there_is_an_allow_list():
    decision = decide(facts(team_id=None), allowed_teams=frozenset({HOME}), home_team=HOME)
    assert decision.allowed is False


def test_a_workspace_on_the_allow_list_is_answered():
    assert decide(facts(), allowed_teams=frozenset({HOME, OTHER}), home_team=HOME) == INTERNAL


def test_an_empty_allow_list_restricts_no_workspace():
    decision = decide(facts(team_id=OTHER, user_team_id=OTHER), allowed_teams=NO_LIMIT,
                      home_team=None)
    assert decision == INTERNAL


# --- the user ------------------------------------------------------------------------------


def test_own_user_in_a_direct_message_gets_internal_documents_and_no_notice():
    assert decide(facts(), allowed_teams=NO_LIMIT, home_team=HOME) == INTERNAL


def test_a_user_of_another_team_gets_public_documents_with_a_notice():
    decision = decide(facts(user_team_id=OTHER), allowed_teams=NO_LIMIT, home_team=HOME)
    assert decision == PUBLIC_OUTSIDE


def test_a_stranger_gets_public_documents_even_if_the_team_matches():
    decision = decide(facts(user_is_stranger=True), allowed_teams=NO_LIMIT, home_team=HOME)
    assert decision == PUBLIC_OUTSIDE


def test_an_unknown_user_team_fails_closed():
    decision = decide(facts(user_team_id=None), allowed_teams=NO_LIMIT, home_team=HOME)
    assert decision == PUBLIC_OUTSIDE


def test_without_a_home_team_the_requesting_workspace_is_home():
    assert decide(facts(), allowed_teams=NO_LIMIT, home_team=None) == INTERNAL
    decision = decide(facts(user_team_id=OTHER), allowed_teams=NO_LIMIT, home_team=None)
    assert decision == PUBLIC_OUTSIDE


def test_the_home_team_wins_over_the_requesting_workspace():
    # A request arriving through another workspace, from a user of that workspace.
    decision = decide(facts(team_id=OTHER, user_team_id=OTHER), allowed_teams=NO_LIMIT,
                      home_team=HOME)
    assert decision == PUBLIC_OUTSIDE


def test_an_outside_user_in_a_shared_channel_is_not_told_to_ask_in_a_dm():
    decision = decide(facts(user_team_id=OTHER, channel_type="channel", channel_shared=True),
                      allowed_teams=NO_LIMIT, home_team=HOME)
    assert decision == PUBLIC_OUTSIDE


# --- the conversation ----------------------------------------------------------------------


@pytest.mark.parametrize("channel_type", ["channel", "group", "mpim", "slash"])
def test_a_shared_conversation_gets_public_documents_with_a_notice(channel_type):
    decision = decide(facts(channel_type=channel_type, channel_shared=True),
                      allowed_teams=NO_LIMIT, home_team=HOME)
    assert decision == PUBLIC_SHARED


@pytest.mark.parametrize("channel_type", ["channel", "group", "mpim", "slash", "something-new"])
def test_an_unchecked_conversation_is_treated_as_shared(channel_type):
    decision = decide(facts(channel_type=channel_type, channel_shared=None),
                      allowed_teams=NO_LIMIT, home_team=HOME)
    assert decision == PUBLIC_SHARED


@pytest.mark.parametrize("channel_type", ["channel", "group", "mpim", "slash"])
def test_a_conversation_known_not_to_be_shared_gets_internal_documents(channel_type):
    decision = decide(facts(channel_type=channel_type, channel_shared=False),
                      allowed_teams=NO_LIMIT, home_team=HOME)
    assert decision == INTERNAL


def test_a_direct_message_need_not_be_checked():
    assert decide(facts(channel_shared=None), allowed_teams=NO_LIMIT, home_team=HOME) == INTERNAL


def test_a_direct_message_that_slack_says_is_shared_gets_public_documents():
    decision = decide(facts(channel_shared=True), allowed_teams=NO_LIMIT, home_team=HOME)
    assert decision == PUBLIC_SHARED


# --- CERTDESK_ALLOWED_TEAMS ----------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("", frozenset()),
    ("   ", frozenset()),
    (" , ,", frozenset()),
    ("T1", frozenset({"T1"})),
    ("T1,T2", frozenset({"T1", "T2"})),
    (" T1 , T2 ,, ", frozenset({"T1", "T2"})),
    ("T1 T2\tT3\n", frozenset({"T1", "T2", "T3"})),
    ("T1,T1", frozenset({"T1"})),
])
def test_parse_allowed_teams(value, expected):
    assert parse_allowed_teams(value) == expected


# --- ChannelInfoCache ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_remembers_a_flag_until_it_expires():
    clock = Clock()
    cache = ChannelInfoCache(clock=clock)
    assert cache.get("C1") is None
    cache.put("C1", True)
    cache.put("C2", False)
    assert cache.get("C1") is True and cache.get("C2") is False
    clock.now += 59.9
    assert cache.get("C1") is True
    clock.now += 0.2
    assert cache.get("C1") is None and cache.get("C2") is None


def test_cache_ttl_is_configurable():
    clock = Clock()
    cache = ChannelInfoCache(5.0, clock=clock)
    cache.put("C1", False)
    clock.now += 5.0
    assert cache.get("C1") is None


def test_invalidate_forgets_a_channel_whose_sharing_changed():
    cache = ChannelInfoCache(clock=Clock())
    cache.put("C1", False)
    cache.put("C2", False)
    cache.invalidate("C1")
    cache.invalidate("C-never-seen")
    assert cache.get("C1") is None and cache.get("C2") is False


def test_an_unknown_flag_is_not_cached():
    cache = ChannelInfoCache(clock=Clock())
    cache.put("C1", False)
    cache.put("C1", None)  # a failed look-up neither caches nor overwrites
    assert cache.get("C1") is False
    cache.put("C2", None)
    assert cache.get("C2") is None and len(cache) == 1


def test_put_refreshes_an_entry():
    clock = Clock()
    cache = ChannelInfoCache(clock=clock)
    cache.put("C1", False)
    clock.now += 50
    cache.put("C1", True)
    clock.now += 50
    assert cache.get("C1") is True


def test_a_refreshed_entry_does_not_shield_expired_ones_from_pruning():
    clock = Clock()
    cache = ChannelInfoCache(clock=clock)
    cache.put("A", False)
    cache.put("B", False)
    clock.now += 50
    cache.put("A", False)  # refreshed: now expires after B
    clock.now += 20        # B has expired, A has not
    cache.put("C", False)
    assert len(cache) == 2


def test_cache_is_bounded_and_drops_expired_entries():
    clock = Clock()
    cache = ChannelInfoCache(clock=clock, max_entries=10)
    for i in range(100):
        cache.put(f"C{i}", False)
    assert len(cache) == 10
    assert cache.get("C99") is False and cache.get("C0") is None
    clock.now += 61
    cache.put("Cnew", True)
    assert len(cache) == 1


def test_cache_is_safe_to_share_between_threads():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, as under load
    try:
        _hammer_cache()
    finally:
        sys.setswitchinterval(interval)


def _hammer_cache() -> None:
    cache = ChannelInfoCache(clock=Clock(), max_entries=5)  # evicting on almost every put
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def work(n: int) -> None:
        try:
            start.wait(timeout=10)
            for i in range(3000):
                channel = f"C{(n * 7 + i) % 20}"
                cache.put(channel, i % 2 == 0)
                cache.get(channel)
                if i % 5 == 0:
                    cache.invalidate(channel)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(cache) <= 5

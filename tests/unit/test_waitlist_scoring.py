"""The waitlist's pure rules: which entries a freed time suits, and who is asked first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.appointments import ClientInfo
from chalicelib.domain.waitlist import (
    EntryStatus,
    FreedTime,
    ScoreWeights,
    Suitability,
    WaitlistEntry,
    WaitWindow,
    median,
    next_rate_window,
    rank,
    retires,
    score,
    window_fit,
)

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
NY = "America/New_York"
# Monday 2027-03-15, 10:00-11:00 in New York (EDT, UTC-4)
START = datetime(2027, 3, 15, 14, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
FREED = FreedTime("prv_dana", "svc_cut", START, END)
FITS = Suitability({"svc_cut": END})
MONDAY_MORNING = WaitWindow("09:00", "12:00", day_of_week=0)


def entry(entry_id: str = "wle_a", **changes: object) -> WaitlistEntry:
    base = WaitlistEntry(
        id=entry_id,
        tenant_id="tn_1",
        service_id="svc_cut",
        provider_id=None,
        windows=(MONDAY_MORNING,),
        client=ClientInfo("Ann", "ann@example.test", None, NY),
        status=EntryStatus.ACTIVE,
        joined_at=NOW - timedelta(days=3),
        updated_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("window", "zone", "expected"),
    [
        (WaitWindow("09:00", "12:00", day_of_week=0), NY, pytest.approx(1 / 3, abs=1e-5)),
        (WaitWindow("10:00", "11:00", date=date(2027, 3, 15)), NY, 1.0),
        (WaitWindow("10:30", "12:00", day_of_week=0), NY, None),  # starts too late
        (WaitWindow("09:00", "10:30", day_of_week=0), NY, None),  # ends too early
        (WaitWindow("09:00", "12:00", day_of_week=1), NY, None),  # a Tuesday
        (WaitWindow("09:00", "12:00", date=date(2027, 3, 16)), NY, None),  # another date
        (WaitWindow("14:00", "15:00", day_of_week=0), "UTC", 1.0),  # the same time on UTC's clock
        (WaitWindow("10:00", "11:00", day_of_week=0), "UTC", None),  # 10:00 UTC is not 10:00 NY
        # 14:00Z is 23:00 Monday in Tokyo and 15:00Z its midnight: a window ending at 24:00 holds it
        (WaitWindow("07:00", "24:00", day_of_week=0), "Asia/Tokyo", pytest.approx(1 / 17, abs=1e-5)),
    ],
)
def test_window_fit_reads_the_clients_wall_clock(window: WaitWindow, zone: str, expected: object) -> None:
    assert window_fit(window, START, END, zone) == expected


def test_a_time_crossing_the_clients_midnight_fits_no_window() -> None:
    late = datetime(2027, 3, 15, 14, 30, tzinfo=UTC)  # 23:30-00:30 in Tokyo
    assert (
        window_fit(WaitWindow("00:00", "24:00", day_of_week=0), late, late + timedelta(hours=1), "Asia/Tokyo") is None
    )


WEIGHTS = ScoreWeights(vip=100, service_match=20, provider_preference=30, window_fit=10, time_waited=30)


@pytest.mark.parametrize(
    ("changes", "freed", "parts"),
    [
        # nothing special: service matches, window 1/3 fit, waited 3 of 30 days
        ({}, FREED, (0, 20, 0, 10 / 3, 3.0)),
        ({"vip": True}, FREED, (100, 20, 0, 10 / 3, 3.0)),
        ({"provider_id": "prv_dana"}, FREED, (0, 20, 30, 10 / 3, 3.0)),
        ({"windows": (WaitWindow("10:00", "11:00", date=date(2027, 3, 15)),)}, FREED, (0, 20, 0, 10.0, 3.0)),
        ({"joined_at": NOW - timedelta(days=45)}, FREED, (0, 20, 0, 10 / 3, 30.0)),  # capped at 30 days
        ({"joined_at": NOW + timedelta(minutes=5)}, FREED, (0, 20, 0, 10 / 3, 0.0)),  # clock skew: no negative
        ({"service_id": "svc_trim"}, FREED, (0, 0, 0, 10 / 3, 3.0)),  # fits, but not the freed service
    ],
)
def test_score_parts_follow_the_weights(changes: dict[str, object], freed: FreedTime, parts: tuple[float, ...]) -> None:
    scored = entry(**changes)  # type: ignore[arg-type]
    fit = window_fit(scored.windows[0], START, END, NY)
    assert fit is not None
    got = score(scored, freed, fit, WEIGHTS, NOW)
    assert (got.vip, got.service_match, got.provider_preference, got.window_fit, got.time_waited) == pytest.approx(
        parts, abs=1e-5
    )
    assert got.total == pytest.approx(sum(parts), abs=1e-5)
    assert set(got.as_dict()) == {"vip", "serviceMatch", "providerPreference", "windowFit", "timeWaited"}


def test_weights_from_tenant_settings_keep_defaults_for_what_is_not_set() -> None:
    weights = ScoreWeights.of({"vip": 5})
    assert weights.vip == 5 and weights.service_match == ScoreWeights().service_match
    assert ScoreWeights.of(None) == ScoreWeights()


def test_vip_outranks_a_longer_wait_with_default_weights() -> None:
    old = entry("wle_old", joined_at=NOW - timedelta(days=29))
    vip = entry("wle_vip", vip=True, joined_at=NOW - timedelta(hours=1))
    ranked = rank([old, vip], FREED, FITS, ScoreWeights(), NOW)
    assert [c.entry.id for c in ranked] == ["wle_vip", "wle_old"]


def test_zero_vip_weight_lets_time_waited_decide() -> None:
    old = entry("wle_old", joined_at=NOW - timedelta(days=29))
    vip = entry("wle_vip", vip=True, joined_at=NOW - timedelta(hours=1))
    ranked = rank([vip, old], FREED, FITS, replace(WEIGHTS, vip=0), NOW)
    assert [c.entry.id for c in ranked] == ["wle_old", "wle_vip"]


def test_equal_scores_go_to_the_earlier_join_then_the_smaller_id() -> None:
    joined = NOW - timedelta(days=2)
    no_wait = replace(WEIGHTS, time_waited=0)
    b = entry("wle_b", joined_at=joined)
    a = entry("wle_a", joined_at=joined)
    first = entry("wle_z", joined_at=joined - timedelta(seconds=1))
    ranked = rank([b, a, first], FREED, FITS, no_wait, NOW)
    assert [c.entry.id for c in ranked] == ["wle_z", "wle_a", "wle_b"]
    assert len({c.score for c in ranked}) == 1


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": EntryStatus.PENDING}, "not confirmed"),
        ({"status": EntryStatus.BOOKED}, "retired"),
        ({"status": EntryStatus.REMOVED}, "removed"),
        ({"provider_id": "prv_other"}, "wants another provider"),
        ({"service_id": "svc_long"}, "service does not fit the freed time"),
        ({"windows": (WaitWindow("13:00", "17:00", day_of_week=0),)}, "no window holds it"),
    ],
)
def test_entries_that_do_not_suit_are_never_candidates(changes: dict[str, object], reason: str) -> None:
    assert rank([entry(**changes)], FREED, FITS, WEIGHTS, NOW) == [], reason  # type: ignore[arg-type]


def test_entries_already_offered_this_time_are_skipped() -> None:
    ranked = rank([entry("wle_a"), entry("wle_b")], FREED, FITS, WEIGHTS, NOW, exclude=frozenset({"wle_a"}))
    assert [c.entry.id for c in ranked] == ["wle_b"]


def test_another_service_that_fits_the_freed_time_is_a_candidate_without_the_match_bonus() -> None:
    fits = Suitability({"svc_cut": END, "svc_trim": START + timedelta(minutes=30)})
    trim = entry("wle_trim", service_id="svc_trim", joined_at=NOW - timedelta(days=20))
    cut = entry("wle_cut")
    ranked = rank([trim, cut], FREED, fits, WEIGHTS, NOW)
    assert [c.entry.id for c in ranked] == ["wle_cut", "wle_trim"]
    assert ranked[1].parts.service_match == 0


@pytest.mark.parametrize(
    ("email", "service", "start", "expected"),
    [
        ("ann@example.test", "svc_cut", START, True),
        ("ANN@example.test ", "svc_cut", START, True),
        ("bob@example.test", "svc_cut", START, False),
        ("ann@example.test", "svc_other", START, False),
        ("ann@example.test", "svc_cut", START + timedelta(hours=6), False),  # outside every window
    ],
)
def test_a_booking_for_a_matching_time_retires_the_entry(
    email: str, service: str, start: datetime, expected: bool
) -> None:
    assert retires(entry(), service, email, start, start + timedelta(hours=1)) is expected


def test_rate_windows_are_clock_hours_and_median_is_the_middle() -> None:
    assert next_rate_window(datetime(2027, 3, 1, 12, 59, 59, tzinfo=UTC)) == datetime(2027, 3, 1, 13, tzinfo=UTC)
    assert median([]) is None
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5

"""Value rules shared by every input: times of day, zones, currencies, policies, rule overlaps."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from chalicelib.domain.catalog import AvailabilityRule, PolicyTier, TimeRange

# Active ISO 4217 codes (2026), excluding funds and precious metals.
_ISO_4217_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES
    VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
ISO_4217 = frozenset(_ISO_4217_CODES.split())

# ASCII digits only and whole-string matches: `\d` takes any script's digits and `$` a trailing newline.
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])")
MINUTES_PER_DAY = 24 * 60


def minutes_of_day(value: str, allow_24: bool = False) -> int | None:
    """'HH:MM' -> minutes after midnight; '24:00' only where a range may end at midnight."""
    if allow_24 and value == "24:00":
        return MINUTES_PER_DAY
    match = _HHMM.fullmatch(value)
    if match is None:
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(value: str) -> bool:
    """An IANA zone name this runtime can load ('UTC' included)."""
    if value not in _known_zones() and value != "UTC":
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def is_currency(value: str) -> bool:
    return value in ISO_4217


def is_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def calendar_date(value: str) -> date | None:
    """A `YYYY-MM-DD` date, or None. `date.fromisoformat` alone also takes `20270314` and
    week dates such as `2027-W10-7`, which are not the API's date format."""
    if _ISO_DATE.fullmatch(value) is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def is_slug(value: str) -> bool:
    return _SLUG.fullmatch(value) is not None


def range_problem(time_range: TimeRange) -> str | None:
    """Why a start/end pair is unusable, or None."""
    start = minutes_of_day(time_range.start)
    end = minutes_of_day(time_range.end, allow_24=True)
    if start is None:
        return "start must be HH:MM"
    if end is None:
        return "end must be HH:MM (or 24:00)"
    if start >= end:
        return "start must be before end"
    return None


def overlapping_pairs(ranges: Sequence[TimeRange]) -> list[tuple[int, int]]:
    """Every index pair of ranges that overlap (touching is fine). Assumes each range is valid.

    Comparing only neighbours in start order would miss a long range's overlap with the
    second range after it, so each range is checked against every earlier-starting one.
    """
    spans = sorted(
        (minutes_of_day(r.start) or 0, minutes_of_day(r.end, allow_24=True) or 0, i) for i, r in enumerate(ranges)
    )
    pairs: list[tuple[int, int]] = []
    for position, (start_b, _, j) in enumerate(spans):
        for _, end_a, i in spans[:position]:
            if start_b < end_a:
                pairs.append((min(i, j), max(i, j)))
    return sorted(pairs)


def rule_overlaps(rules: Sequence[AvailabilityRule]) -> list[tuple[int, int]]:
    """Pairs of rules on the same weekday whose hours overlap and whose services can coincide."""
    found: list[tuple[int, int]] = []
    for i, left in enumerate(rules):
        for j in range(i + 1, len(rules)):
            right = rules[j]
            if left.day_of_week != right.day_of_week:
                continue
            if not _services_intersect(left.service_ids, right.service_ids):
                continue
            if overlapping_pairs([TimeRange(left.start, left.end), TimeRange(right.start, right.end)]):
                found.append((i, j))
    return found


def _services_intersect(left: Iterable[str] | None, right: Iterable[str] | None) -> bool:
    if left is None or right is None:
        return True
    return bool(set(left) & set(right))


def policy_problem(tiers: Sequence[PolicyTier]) -> str | None:
    """Tiers: non-empty, strictly decreasing in hours, refunds within 0-100 % and never growing later."""
    if not tiers:
        return "at least one tier is required"
    for tier in tiers:
        if tier.min_hours_before < 0:
            return "minHoursBefore must be >= 0"
        if not 0 <= tier.refund_percent <= 100:
            return "refundPercent must be between 0 and 100"
    hours = [tier.min_hours_before for tier in tiers]
    if any(later >= earlier for earlier, later in pairwise(hours)):
        return "tiers must be ordered by minHoursBefore, strictly decreasing"
    percents = [tier.refund_percent for tier in tiers]
    if any(later > earlier for earlier, later in pairwise(percents)):
        return "refundPercent must not grow as the start gets closer"
    return None

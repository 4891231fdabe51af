"""Background rows: random and realistic, yet compliant with every control.

Every table is drawn so that no background row can be a violation or an
exception of any control, at any `as_of` from the period's end up to the
snapshot time (Timeline):
- items are received after sign-up and within the retention cap; accounts
  deactivated past the grace period have none left, nor does anything older
  than a fulfilled deletion request; card and financial data are encrypted;
  customers are adults when they sign up;
- requests, complaints and legal notifications are answered within 30 days,
  or are still open and not yet due at the snapshot time;
- disclosures use permitted purposes only: services are rendered by
  sub-processors authorized and under a DPA at that moment, business
  transitions go to acquirers with a DPA and never concern customers who
  limited sharing, aggregate data is anonymized with no customer, customer
  data leaves the EEA only under a safeguard, and all is encrypted;
- marketing is sent only inside the customer's marketing window (an active
  opt-in and no active opt-out; for non-EU customers without an opt-in,
  before any opt-out);
- under Do Not Track, trackers are essential except in the exempt areas.
Legal holds are drawn freely: they only turn violations into exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from audit_lib.controls.vocabulary import EU
from audit_lib.ingest.schema import CATEGORIES
from audit_lib.sample.distributions import (
    AREAS,
    CATEGORY_SYSTEMS,
    COUNTRIES,
    DATA_CHANNELS,
    DATA_PURPOSES,
    DISCLOSURE_PURPOSES,
    HISTORY_YEARS,
    HOLD_REASONS,
    MESSAGE_CHANNELS,
    MESSAGE_KINDS,
    RATES,
    REFUSALS,
    REQUEST_KINDS,
    STATUSES,
    SYSTEM_KINDS,
    SYSTEMS,
    TOPICS,
    TRACKERS,
    TRACKING_YEARS,
    between,
    code,
    draw,
    within,
)
from audit_lib.sample.frames import NO_CUSTOMER, days_to_dates, labels, nullable, working_frame
from audit_lib.sample.parties import Party, party_ids
from audit_lib.sample.timeline import DAY, NEVER, Timeline, day_number


@dataclass
class People:
    """Per-customer arrays the other tables draw on (epoch seconds)."""

    created: np.ndarray
    life_end: np.ndarray  # deactivation, or the snapshot time
    eu: np.ndarray
    keeps_items: np.ndarray
    market_from: np.ndarray | None = None  # marketing window [from, to)
    market_to: np.ndarray | None = None
    limits_sharing: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.created)

    def pick(self, rng: np.random.Generator, since: int, size: int) -> np.ndarray:
        """`size` customers, among those still customers at some time after `since`."""
        eligible = np.flatnonzero(self.life_end > np.maximum(self.created, since))
        return eligible[rng.integers(0, len(eligible), size)]

    def life(self, cust: np.ndarray, since: int) -> tuple[np.ndarray, np.ndarray]:
        """The part of each customer's life after `since`: `[lo, hi)`."""
        return np.maximum(self.created[cust], since), self.life_end[cust]


def generate(rng: np.random.Generator, n: int, tl: Timeline, parties: list[Party]) -> dict:
    """Working frames of every table but parties, for `n` customers."""
    people, customers = _customers(rng, n, tl)
    consents = _consents(rng, people)
    requests, erased_before = _requests(rng, people, tl)
    return {
        "customers": customers,
        "consents": consents,
        "dsr_requests": requests,
        "personal_data": _items(rng, people, tl, erased_before),
        "communications": _messages(rng, people, tl),
        "disclosures": _disclosures(rng, people, tl, parties),
        "disputes": _disputes(rng, people, tl),
        "legal_holds": _holds(rng, people, tl),
        "tracking_events": _events(rng, people, tl),
    }


def _customers(rng: np.random.Generator, n: int, tl: Timeline) -> tuple[People, pl.DataFrame]:
    span = tl.end - 2 * DAY - tl.created_from
    created = tl.created_from + (rng.random(n) ** 0.6 * span).astype(np.int64)  # growing business
    status = draw(rng, STATUSES, n)
    active = status == code(STATUSES, "active")
    deactivated = between(rng, created + DAY, np.full(n, tl.end))
    country = draw(rng, COUNTRIES, n)
    age_days = rng.integers(18 * 366, 85 * 365, n)
    no_birth = rng.random(n) < 0.3
    life_end = np.where(active, tl.end, deactivated)
    people = People(
        created=created,
        life_end=life_end,
        eu=np.isin(country, [code(COUNTRIES, c) for c in COUNTRIES if c in EU]),
        keeps_items=active | (deactivated >= tl.grace_cut),
    )
    frame = working_frame(
        "customers",
        {
            "country": labels(tuple(COUNTRIES), country),
            "birth_date": days_to_dates(created // DAY - age_days, no_birth),
            "account_status": labels(tuple(STATUSES), status),
            "created_at": created,
            "deactivated_at": nullable(deactivated, active),
        },
    )
    return people, frame


def _consents(rng: np.random.Generator, p: People) -> pl.DataFrame:
    """Opt-ins, opt-outs and limit-sharing notices; sets the marketing window of `p`."""
    n = len(p)
    opt_in = rng.random(n) < np.where(p.eu, 0.5, 0.35)
    given = between(rng, p.created, p.life_end)
    withdrawn = opt_in & (rng.random(n) < 0.25)
    withdrawn_at = between(rng, given, p.life_end)
    out_after = withdrawn & (rng.random(n) < 0.7)  # the opt-out that replaced the opt-in
    out_alone = ~opt_in & (rng.random(n) < 0.12)
    out_at = np.where(out_after, withdrawn_at, between(rng, p.created, p.life_end))
    limit = rng.random(n) < 0.15
    limit_at = between(rng, p.created, p.life_end)
    limit_ends = limit & (rng.random(n) < 0.3)
    limit_end_at = between(rng, limit_at, p.life_end)

    p.market_from = np.where(opt_in, given, p.created)
    p.market_to = np.where(
        opt_in, np.where(withdrawn, withdrawn_at, NEVER), np.where(out_alone, out_at, NEVER)
    )
    p.market_to = np.where(p.eu & ~opt_in, p.market_from, p.market_to)
    p.limits_sharing = limit

    parts = [
        (opt_in, "marketing_opt_in", given, withdrawn, withdrawn_at),
        (out_after | out_alone, "marketing_opt_out", out_at, np.zeros(n, bool), out_at),
        (limit, "limit_sharing", limit_at, limit_ends, limit_end_at),
    ]
    frames = []
    for rows, kind, start, ends, end in parts:
        frames.append(
            working_frame(
                "consents",
                {
                    "_cust": np.flatnonzero(rows),
                    "kind": pl.Series([kind] * int(rows.sum()), dtype=pl.String),
                    "given_at": start[rows],
                    "withdrawn_at": nullable(end[rows], ~ends[rows]),
                },
            )
        )
    return pl.concat(frames)


def _requests(rng: np.random.Generator, p: People, tl: Timeline) -> tuple[pl.DataFrame, np.ndarray]:
    """Requests answered within 30 days; also each customer's erasure time."""
    m = round(RATES["requests"] * len(p))
    cust = rng.integers(0, len(p), m)
    received = between(rng, np.maximum(p.created[cust], tl.years_back(8)), np.full(m, tl.end))
    kind = draw(rng, REQUEST_KINDS, m)
    done = within(rng, received, tl.parameters["response_days"])
    pending = done >= tl.end
    refused = ~pending & (rng.random(m) < 0.15)
    outcome = np.where(pending, "pending", np.where(refused, "refused", "fulfilled"))
    reason = labels(REFUSALS, rng.integers(0, len(REFUSALS), m)).cast(pl.String)
    reason = reason.scatter(np.flatnonzero(~refused), None)

    erasure = (kind == code(REQUEST_KINDS, "deletion")) & (outcome == "fulfilled")
    erased_before = np.full(len(p), np.iinfo(np.int64).min)
    np.maximum.at(erased_before, cust[erasure], received[erasure])
    frame = working_frame(
        "dsr_requests",
        {
            "_cust": cust,
            "kind": labels(tuple(REQUEST_KINDS), kind),
            "received_at": received,
            "completed_at": nullable(done, pending),
            "outcome": pl.Series(outcome, dtype=pl.String),
            "refusal_reason": reason,
        },
    )
    return frame, erased_before


def _items(rng: np.random.Generator, p: People, tl: Timeline, erased_before: np.ndarray) -> pl.DataFrame:
    count = rng.poisson(np.where(p.keeps_items, RATES["items"], 0.0))
    cust = np.repeat(np.arange(len(p)), count)
    m = len(cust)
    received = between(rng, *p.life(cust, tl.item_floor))
    category = draw(rng, {c: w for c, (w, _) in CATEGORY_SYSTEMS.items()}, m)
    system = _systems(rng, category)
    systems = tuple(SYSTEMS)
    tracked = np.isin(category, [code(CATEGORY_SYSTEMS, c) for c in ("ip_address", "tracker_id")])
    channel = np.where(tracked, len(DATA_CHANNELS), draw(rng, DATA_CHANNELS, m))
    sensitive = np.isin(category, [code(CATEGORY_SYSTEMS, c) for c in ("card", "financial")])
    encrypted = sensitive | (rng.random(m) < 0.55)
    keep = received >= erased_before[cust]  # erased on request
    frame = working_frame(
        "personal_data",
        {
            "_cust": cust,
            "category": labels(tuple(CATEGORY_SYSTEMS), category),
            "system": labels(systems, system),
            "system_kind": labels(SYSTEM_KINDS, _kind_of_system()[system]),
            "purpose": labels(tuple(DATA_PURPOSES), draw(rng, DATA_PURPOSES, m)),
            "channel": labels((*DATA_CHANNELS, "tracking"), channel),
            "received_at": received,
            "encrypted": encrypted,
        },
    )
    return frame.filter(pl.Series(keep))


def _kind_of_system() -> np.ndarray:
    """System code -> code into SYSTEM_KINDS."""
    return np.array([SYSTEM_KINDS.index(kind) for kind in SYSTEMS.values()])


def _systems(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """A system code (into SYSTEMS) that plausibly stores each category."""
    options = [[list(SYSTEMS).index(s) for s in ss] for _, ss in CATEGORY_SYSTEMS.values()]
    table = np.full((len(options), max(map(len, options))), -1)
    for row, systems in enumerate(options):
        table[row, : len(systems)] = systems
    counts = np.array([len(o) for o in options])
    return table[category, (rng.random(len(category)) * counts[category]).astype(np.int64)]


def _messages(rng: np.random.Generator, p: People, tl: Timeline) -> pl.DataFrame:
    since = tl.years_back(HISTORY_YEARS)
    m = round(RATES["messages"] * len(p))
    cust = p.pick(rng, since, m)
    kind = draw(rng, MESSAGE_KINDS, m)
    lo, hi = p.life(cust, since)
    assert p.market_from is not None and p.market_to is not None
    market_lo = np.maximum(lo, p.market_from[cust])
    market_hi = np.minimum(hi, p.market_to[cust])
    marketing = kind >= code(MESSAGE_KINDS, "newsletter")
    fits = market_hi > market_lo
    kind = np.where(marketing & ~fits, code(MESSAGE_KINDS, "service_notification"), kind)
    use = marketing & fits
    sent = between(rng, np.where(use, market_lo, lo), np.where(use, market_hi, hi))
    return working_frame(
        "communications",
        {
            "_cust": cust,
            "sent_at": sent,
            "kind": labels(tuple(MESSAGE_KINDS), kind),
            "channel": labels(tuple(MESSAGE_CHANNELS), draw(rng, MESSAGE_CHANNELS, m)),
        },
    )


def _events(rng: np.random.Generator, p: People, tl: Timeline) -> pl.DataFrame:
    since = tl.years_back(TRACKING_YEARS)
    m = round(RATES["events"] * len(p))
    anonymous = rng.random(m) < 0.3
    cust = np.where(anonymous, NO_CUSTOMER, p.pick(rng, since, m))
    lo, hi = p.life(cust, since)
    lo, hi = np.where(anonymous, since, lo), np.where(anonymous, tl.end, hi)
    area = draw(rng, AREAS, m)
    tracker = draw(rng, TRACKERS, m)
    dnt = rng.random(m) < 0.15
    exempt = np.isin(area, [code(AREAS, "client_area"), code(AREAS, "control_panel")])
    tracker = np.where(dnt & ~exempt, code(TRACKERS, "essential"), tracker)
    return working_frame(
        "tracking_events",
        {
            "_cust": cust,
            "occurred_at": between(rng, lo, hi),
            "area": labels(tuple(AREAS), area),
            "tracker_kind": labels(tuple(TRACKERS), tracker),
            "dnt": dnt,
        },
    )


def _disclosures(rng: np.random.Generator, p: People, tl: Timeline, parties: list[Party]) -> pl.DataFrame:
    since = tl.years_back(HISTORY_YEARS)
    m = round(RATES["disclosures"] * len(p))
    purpose = draw(rng, DISCLOSURE_PURPOSES, m)
    aggregate = purpose == code(DISCLOSURE_PURPOSES, "aggregate")
    cust = np.where(aggregate, NO_CUSTOMER, p.pick(rng, since, m))
    assert p.limits_sharing is not None
    transition = purpose == code(DISCLOSURE_PURPOSES, "business_transition")
    rendered = code(DISCLOSURE_PURPOSES, "render_services")
    purpose = np.where(transition & p.limits_sharing[cust], rendered, purpose)
    lo, hi = p.life(cust, since)
    at = between(rng, np.where(aggregate, since, lo), np.where(aggregate, tl.end, hi))
    legal = purpose == code(DISCLOSURE_PURPOSES, "legal_requirement")
    prohibited = legal & (rng.random(m) < 0.2)
    notified = within(rng, at, tl.parameters["notice_days"])
    return working_frame(
        "disclosures",
        {
            "party_id": _parties_for(rng, purpose, at, parties),
            "_cust": cust,
            "disclosed_at": at,
            "category": labels(CATEGORIES, rng.integers(0, len(CATEGORIES), m)),
            "purpose": labels(tuple(DISCLOSURE_PURPOSES), purpose).cast(pl.String),  # free text
            "anonymized": aggregate | (rng.random(m) < 0.05),
            "encrypted_in_transit": np.ones(m, bool),
            "customer_notified_at": nullable(notified, ~legal | prohibited | (notified >= tl.end)),
            "notification_prohibited": prohibited,
        },
    )


def _parties_for(
    rng: np.random.Generator, purpose: np.ndarray, at: np.ndarray, parties: list[Party]
) -> pl.Series:
    """For each disclosure, a party serving its purpose that may receive it at `at`."""
    chosen = np.empty(len(at), dtype=np.int64)
    for j, name in enumerate(DISCLOSURE_PURPOSES):
        rows = np.flatnonzero(purpose == j)
        options = [i for i, party in enumerate(parties) if name in party.uses]
        bounds = np.array([_valid_between(parties[i], name) for i in options]).reshape(-1, 2)
        ok = (at[rows, None] >= bounds[None, :, 0]) & (at[rows, None] < bounds[None, :, 1])
        if not ok.any(axis=1).all():
            raise AssertionError(f"no party may receive a {name} disclosure at some time")
        score = np.where(ok, rng.random(ok.shape, dtype=np.float32), -1.0)
        chosen[rows] = np.asarray(options)[score.argmax(axis=1)]
    return labels(list(party_ids(parties).values()), chosen)


def _valid_between(party: Party, purpose: str) -> tuple[int, int]:
    """Seconds `[from, until)` in which `party` may receive disclosures for `purpose`."""

    def start(day: date) -> int:
        return day_number(day) * DAY

    if purpose == "render_services":
        assert party.authorized_from and party.dpa_signed_at
        until = NEVER if party.authorized_until is None else start(party.authorized_until)
        return max(start(party.authorized_from), start(party.dpa_signed_at)), until
    if purpose == "business_transition":
        assert party.dpa_signed_at
        return start(party.dpa_signed_at), NEVER
    return 0, NEVER


def _disputes(rng: np.random.Generator, p: People, tl: Timeline) -> pl.DataFrame:
    m = max(1, round(RATES["disputes"] * len(p)))
    since = tl.years_back(HISTORY_YEARS)
    anonymous = rng.random(m) < 0.15
    cust = np.where(anonymous, NO_CUSTOMER, rng.integers(0, len(p), m))
    lo = np.where(anonymous, since, np.maximum(p.created[cust], since))
    received = between(rng, lo, np.full(m, tl.end))
    responded = within(rng, received, tl.parameters["response_days"])
    unanswered = responded >= tl.end
    resolved = responded + rng.integers(0, 90 * DAY, m)
    unresolved = unanswered | (resolved >= tl.end) | (rng.random(m) < 0.1)
    topic = labels(TOPICS, rng.integers(0, len(TOPICS), m)).cast(pl.String)  # free text
    return working_frame(
        "disputes",
        {
            "_cust": cust,
            "received_at": received,
            "responded_at": nullable(responded, unanswered),
            "resolved_at": nullable(resolved, unresolved),
            "topic": topic.scatter(np.flatnonzero(rng.random(m) < 0.1), None),
        },
    )


def _holds(rng: np.random.Generator, p: People, tl: Timeline) -> pl.DataFrame:
    m = max(1, round(RATES["holds"] * len(p)))
    cust = rng.integers(0, len(p), m)
    placed = between(rng, p.created[cust], np.full(m, tl.end))
    released = placed + rng.integers(30 * DAY, 4 * 365 * DAY, m)
    return working_frame(
        "legal_holds",
        {
            "_cust": cust,
            "reason": labels(tuple(HOLD_REASONS), draw(rng, HOLD_REASONS, m)),
            "placed_at": placed,
            "released_at": nullable(released, (released >= tl.end) | (rng.random(m) < 0.3)),
        },
    )

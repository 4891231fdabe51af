"""The sample's proportions: how often each country, system, purpose and kind occurs."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from audit_lib.controls.vocabulary import PERMITTED_DISCLOSURE_PURPOSES
from audit_lib.sample.timeline import DAY

COUNTRIES = {
    "DE": 11,
    "FR": 9,
    "IT": 6,
    "ES": 6,
    "NL": 4,
    "PL": 3,
    "SE": 2,
    "IE": 2,
    "AT": 2,
    "BE": 2,
    "PT": 1,
    "FI": 1,
    "DK": 1,
    "CZ": 1,
    "RO": 1,
    "GR": 1,
    "NO": 2,
    "IS": 1,
    "US": 18,
    "GB": 9,
    "CH": 3,
    "IN": 5,
    "BR": 4,
    "CA": 3,
    "AU": 2,
    "JP": 1,
}
SYSTEMS = {
    "crm": "application",
    "billing-db": "application",
    "support-desk": "application",
    "web-app": "application",
    "analytics-wh": "analytics",
    "backups": "backup",
    "archive": "archive",
    "access-logs": "access_log",
}
SYSTEM_KINDS = tuple(dict.fromkeys(SYSTEMS.values()))
#: Category -> (weight, systems that store it).
CATEGORY_SYSTEMS: dict[str, tuple[float, tuple[str, ...]]] = {
    "name": (14, ("crm", "billing-db", "support-desk", "backups", "archive")),
    "company_name": (3, ("crm", "billing-db", "backups")),
    "address": (10, ("crm", "billing-db", "backups", "archive")),
    "phone": (8, ("crm", "support-desk", "backups")),
    "birth_date": (4, ("crm", "backups")),
    "email": (14, ("crm", "support-desk", "web-app", "analytics-wh", "backups")),
    "ip_address": (10, ("access-logs", "web-app", "analytics-wh")),
    "tracker_id": (8, ("analytics-wh", "web-app")),
    "billing": (12, ("billing-db", "archive", "backups")),
    "card": (7, ("billing-db", "backups")),
    "financial": (5, ("billing-db", "archive")),
}
DATA_PURPOSES = {
    "registration": 20,
    "service_delivery": 35,
    "improvement": 10,
    "communication": 12,
    "marketing_analytics": 8,
    "legal_compliance": 15,
}
DATA_CHANNELS = {"phone": 8, "text": 5, "email": 30, "paper": 5, "web_form": 52}
STATUSES = {"active": 72, "deactivated": 17, "cancelled": 11}
REQUEST_KINDS = {
    "access": 35,
    "rectification": 15,
    "deletion": 30,
    "restriction": 10,
    "child_data_removal": 10,
}
REFUSALS = ("identity not verified", "legal retention obligation", "manifestly unfounded")
HOLD_REASONS = {"tos_breach": 3, "fraud": 4, "legal_claim": 3}
MESSAGE_KINDS = {"essential": 20, "service_notification": 30, "newsletter": 33, "promotion": 17}
MESSAGE_CHANNELS = {"email": 60, "sms": 20, "phone": 5, "post": 15}
AREAS = {"website": 35, "services": 25, "client_area": 20, "control_panel": 10, "third_party": 10}
TRACKERS = {"essential": 50, "analytics": 35, "advertising": 15}
DISCLOSURE_PURPOSES = dict(zip(PERMITTED_DISCLOSURE_PURPOSES, (60, 6, 4, 27, 3), strict=True))
TOPICS = (
    "Why did I receive a newsletter?",
    "Please explain who my data was shared with",
    "My deletion request was not carried out",
    "Incorrect address on file",
    "Unwanted phone calls",
    "Access request: copy of my data",
)

#: Rows per customer (legal holds and disputes at least one each).
RATES = {
    "items": 6.6,
    "events": 2.0,
    "messages": 1.5,
    "disclosures": 1.0,
    "requests": 0.05,
    "disputes": 0.01,
    "holds": 0.01,
}
HISTORY_YEARS = 6  # how far back messages, disclosures and complaints go
TRACKING_YEARS = 3


def draw(rng: np.random.Generator, weights: Mapping[str, float], size: int) -> np.ndarray:
    """Codes into `tuple(weights)`, drawn with the given weights."""
    p = np.fromiter(weights.values(), float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def code(weights: Mapping[str, float], value: str) -> int:
    return list(weights).index(value)


def between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whole seconds in `[lo, hi)` (every `hi > lo`)."""
    return rng.integers(lo, hi) if len(lo) else np.zeros(0, np.int64)


def within(rng: np.random.Generator, start: np.ndarray, days: int) -> np.ndarray:
    """A time from `start` up to `start + days` days, inclusive."""
    return start + rng.integers(0, days * DAY + 1, len(start))

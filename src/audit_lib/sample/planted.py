"""The planted rows: for every control, its violations, each of its exemptions,
and the boundary cases around each deadline and bound.

Each story uses customers of its own, so that its rows touch no other
control unless the story says so. All times are placed relative to the
reference period `[S, A)` (A = as_of); the comments give the 2026-Q3 values.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from audit_lib.params import DEFAULTS
from audit_lib.sample.parties import AGGREGATE, LEGAL, RENDER, TOS, TRANSITION, Party
from audit_lib.sample.plan import Plan, midnight
from audit_lib.sample.timeline import Timeline, add_years

D = timedelta
SEC = D(seconds=1)
DEADLINE = D(days=DEFAULTS["response_days"])  # notice_days has the same default
GRACE = D(days=DEFAULTS["grace_days"])
HTML_TOPIC = '<b>"Sold"</b> to partners, without consent? <img src=x onerror=alert(1)>'


def build(timeline: Timeline, parties: list[Party]) -> Plan:
    plan = Plan(timeline, parties)
    stories: tuple[Callable[[Plan], None], ...] = (
        _retention_cap, _deactivated, _erasure, _requests, _complaints, _authorization,
        _protection_and_purpose, _legal_notice, _limit_sharing, _transfers, _security,
        _opt_in, _opt_out, _tracking, _children, _investigation,
    )  # fmt: skip
    for story in stories:
        story(plan)
    return plan


def _leap_day(before: datetime, years: int) -> datetime:
    """The latest 29 February, at noon, that plus `years` years is before `before`."""
    year = before.year - years
    while not calendar.isleap(year) or add_years(_noon(year), years) >= before:
        year -= 1
    return _noon(year)


def _noon(year: int) -> datetime:
    return datetime(year, 2, 29 if calendar.isleap(year) else 28, 12, tzinfo=UTC)


def _log(p: Plan, tag: str, customer: str, received: datetime, purpose: str = "service_delivery") -> str:
    """An access-log item (IP address)."""
    return p.item(tag, customer, received, category="ip_address", system="access-logs", purpose=purpose)


def _retention_cap(p: Plan) -> None:
    """RET-01: received + 10 years < as_of (2016-10-01T00:00:00Z is the first compliant)."""
    A, cap = p.as_of, add_years(p.as_of, -10)
    c = p.customer("ret01", add_years(A, -14))
    p.violation("RET-01", p.item("ret01_old", c, add_years(A, -11)),
                p.item("ret01_one_second_too_old", c, cap - SEC),
                p.item("ret01_leap_day", c, _leap_day(A, 10)))  # fmt: skip
    p.compliant("RET-01", p.item("ret01_exactly_ten_years", c, cap))
    p.exception("RET-01", "access_log", _log(p, "ret01_old_log", c, add_years(A, -12)))

    fraud = p.customer("ret01_fraud", add_years(A, -13), country="GB")
    p.hold("ret01_fraud_hold", fraud, "fraud", add_years(A, -3))
    p.exception("RET-01", "indefinite_hold", p.item("ret01_fraud_item", fraud, add_years(A, -11)))
    p.exception("RET-01", "access_log", _log(p, "ret01_fraud_log", fraud, add_years(A, -11)))

    tos = p.customer("ret01_tos", add_years(A, -13), country="IN")
    p.hold("ret01_tos_hold_placed_at_as_of", tos, "tos_breach", A)  # active at as_of
    p.exception("RET-01", "indefinite_hold", p.item("ret01_tos_item", tos, cap - D(30)))

    claim = p.customer("ret01_claim", add_years(A, -13), country="BR")
    p.hold("ret01_claim_hold", claim, "legal_claim", add_years(A, -2))  # exempts nothing here
    p.violation("RET-01", p.item("ret01_claim_item", claim, add_years(A, -11)))

    released = p.customer("ret01_released", add_years(A, -13), country="CH")
    p.hold("ret01_hold_released_at_as_of", released, "fraud", add_years(A, -4), released=A)
    p.violation("RET-01", p.item("ret01_released_item", released, add_years(A, -11)))


def _deactivated(p: Plan) -> None:
    """RET-02: deactivated_at + 365 days < as_of (2025-10-01T00:00:00Z is still in grace)."""
    A = p.as_of
    gone = p.customer("ret02", add_years(A, -6), deactivated=A - D(730))
    got = add_years(A, -3)
    p.violation("RET-02", p.item("ret02_name", gone, got))
    p.exception("RET-02", "legal_retention",
                p.item("ret02_invoice", gone, got, category="billing", system="archive",
                       purpose="legal_compliance"),
                _log(p, "ret02_log_kept_for_law", gone, got, purpose="legal_compliance"))  # fmt: skip
    p.exception("RET-02", "access_log", _log(p, "ret02_log", gone, got))
    p.item("ret02_received_at_as_of", gone, A)  # not a state item

    edge = p.customer("ret02_grace_over", add_years(A, -4), deactivated=A - GRACE - SEC,
                      status="cancelled")  # fmt: skip
    p.violation("RET-02", p.item("ret02_grace_over_item", edge, A - GRACE - D(30)))
    still = p.customer("ret02_grace_ends_at_as_of", add_years(A, -4), deactivated=A - GRACE,
                       status="cancelled")  # fmt: skip
    p.item("ret02_grace_ends_item", still, A - GRACE - D(30))  # customer outside the population

    held = p.customer("ret02_claim", add_years(A, -5), deactivated=A - D(1000))
    p.hold("ret02_claim_hold", held, "legal_claim", A - D(900))
    p.exception("RET-02", "hold", p.item("ret02_claim_item", held, A - D(1100)))
    freed = p.customer("ret02_released", add_years(A, -5), deactivated=A - D(1000),
                       status="cancelled")  # fmt: skip
    p.hold("ret02_hold_released_at_as_of", freed, "fraud", A - D(900), released=A)
    p.violation("RET-02", p.item("ret02_released_item", freed, A - D(1100)))


def _erasure(p: Plan) -> None:
    """RET-03: items older than a fulfilled deletion request completed before as_of."""
    A = p.as_of
    asked, old = A - D(200), A - D(400)

    def erased(tag: str, country: str = "NL") -> str:
        c = p.customer(tag, add_years(A, -5), country=country)
        p.request(f"{tag}_deletion", c, "deletion", asked, asked + D(10))
        return c

    c = erased("ret03")
    p.violation("RET-03", p.item("ret03_before_request", c, old))
    p.compliant("RET-03", p.item("ret03_at_request", c, asked),
                p.item("ret03_after_request", c, asked + D(100)))  # fmt: skip
    p.exception("RET-03", "legal_retention", p.item("ret03_invoice", c, old, category="billing",
                system="archive", purpose="legal_compliance"))  # fmt: skip
    p.exception("RET-03", "access_log", _log(p, "ret03_log", c, old))

    fraud = erased("ret03_fraud", "FR")
    p.hold("ret03_fraud_hold", fraud, "fraud", A - D(500))
    p.exception("RET-03", "indefinite_hold", p.item("ret03_fraud_item", fraud, old))
    claim = erased("ret03_claim", "US")
    p.hold("ret03_claim_hold", claim, "legal_claim", A - D(500))  # exempts nothing here
    p.violation("RET-03", p.item("ret03_claim_item", claim, old))

    twice = p.customer("ret03_twice", add_years(A, -5), country="SE")
    p.request("ret03_twice_first", twice, "deletion", A - D(300), A - D(295))
    p.request("ret03_twice_second", twice, "deletion", A - D(130), A - D(125))
    p.violation("RET-03", p.item("ret03_between_requests", twice, A - D(200)))
    p.compliant("RET-03", p.item("ret03_after_both", twice, A - D(100)))

    late = p.customer("ret03_completed_at_as_of", add_years(A, -5))
    p.compliant("DSR-01", p.request("ret03_deletion_completed_at_as_of", late, "deletion",
                                    A - D(10), A))  # fmt: skip
    p.item("ret03_not_judged_yet", late, old)
    refused = p.customer("ret03_refused", add_years(A, -5))
    p.request("ret03_deletion_refused", refused, "deletion", asked, asked + D(5), refused=True)
    p.item("ret03_kept_after_refusal", refused, old)
    pending = p.customer("ret03_pending", add_years(A, -5))
    p.compliant("DSR-01", p.request("ret03_deletion_pending", pending, "deletion", A - D(10)))
    p.item("ret03_awaiting_erasure", pending, old)


def _requests(p: Plan) -> None:
    """DSR-01: answered within 30 days; open requests due before as_of."""
    S, A = p.start, p.as_of
    c = p.customer("dsr", add_years(A, -5))
    r = p.request
    p.compliant("DSR-01",
                r("dsr_on_deadline", c, "access", S + D(9, hours=8), S + D(39, hours=8)),
                r("dsr_open_not_due", c, "access", A - DEADLINE),
                r("dsr_done_after_as_of", c, "rectification", A - D(10), A + D(5)),
                r("dsr_done_at_start", c, "access", S - DEADLINE, S))  # fmt: skip
    p.violation("DSR-01",
                r("dsr_one_second_late", c, "rectification", S + D(10, hours=8),
                  S + D(40, hours=8) + SEC),
                r("dsr_overdue_open", c, "restriction", A - DEADLINE - SEC),
                r("dsr_late_after_as_of", c, "access", A - D(32), A + D(3)),
                r("dsr_from_last_quarter", c, "restriction", S - D(60), S + D(14)),
                r("dsr_backlog", c, "rectification", S - D(200)),
                r("dsr_refused_late", c, "access", S + D(20), S + D(60), refused=True))  # fmt: skip
    r("dsr_closed_before_start", c, "access", S - D(90), S - SEC)  # late, but not in the period
    r("dsr_received_at_end", c, "access", A)


def _complaints(p: Plan) -> None:
    """DSP-01: as DSR-01, over disputes."""
    S, A = p.start, p.as_of
    c = p.customer("dsp", add_years(A, -4), country="IE")
    d = p.dispute
    p.compliant("DSP-01",
                d("dsp_on_deadline", c, S + D(5, hours=14), S + D(35, hours=14)),
                d("dsp_html_topic", c, S + D(25), S + D(27), topic=HTML_TOPIC))  # fmt: skip
    p.violation(
        "DSP-01",
        d("dsp_one_second_late", c, S + D(6, hours=14), S + D(36, hours=14) + SEC),
        d("dsp_overdue", c, A - D(45)),
        d("dsp_late_after_as_of", c, A - D(31), A + D(2)),
        d("dsp_no_customer", None, S + D(20), S + D(55), topic="I am not a customer"),
    )
    d("dsp_received_at_end", c, A)
    d("dsp_answered_before_start", c, S - D(100), S - D(75))
    p.investigation["dispute_without_customer"] = "dsp_no_customer"


def _sharers(p: Plan) -> str:
    """The US customer whose data the sharing stories disclose."""
    if "share_us" not in p.tags:
        p.customer("share_us", add_years(p.as_of, -6))
    return "share_us"


def _authorization(p: Plan) -> None:
    """SHR-01: render_services only by sub-processors listed at disclosed_at."""
    S = p.start
    us = _sharers(p)
    removed = midnight(_date(p.parties["script"].authorized_until))
    listed = midnight(_date(p.parties["starting"].authorized_from))
    x = p.disclosure
    p.violation("SHR-01",
                x("shr01_never_listed", "never_listed", us, S + D(10, hours=9), RENDER),
                x("shr01_on_removal_day", "script", us, removed, RENDER),
                x("shr01_before_listing", "starting", us, listed - SEC, RENDER),
                x("shr01_affiliate", "acme_retail", us, S + D(15), RENDER))  # fmt: skip
    p.compliant("SHR-01",
                x("shr01_before_removal", "script", us, removed - SEC, RENDER),
                x("shr01_on_listing_day", "starting", us, listed, RENDER))  # fmt: skip


def _date(value: date | None) -> date:
    assert value is not None
    return value


def _protection_and_purpose(p: Plan) -> None:
    """SHR-02 (DPA by the date of disclosure), SHR-03 (purposes), SHR-04 (aggregates)."""
    S, A = p.start, p.as_of
    us = _sharers(p)
    signed = midnight(_date(p.parties["late_dpa"].dpa_signed_at))
    x = p.disclosure
    p.violation(
        "SHR-02",
        x("shr02_no_dpa", "no_dpa", us, S + D(12), RENDER),
        x("shr02_day_before_dpa", "late_dpa", us, signed - SEC, RENDER),
        x("shr02_acquirer_no_dpa", "blue_harbor", us, S + D(50), TRANSITION),
    )
    p.compliant("SHR-02", x("shr02_on_dpa_day", "late_dpa", us, signed, RENDER))

    p.violation("SHR-03",
                x("shr03_at_start", "meridian", us, S, "marketing"),
                x("shr03_research", "kiwi", us, S + D(20), "research"))  # fmt: skip
    x("shr03_before_start", "meridian", us, S - SEC, "research")
    x("shr03_at_end", "meridian", us, A, "research")

    p.violation(
        "SHR-04",
        x("shr04_not_anonymized", "meridian", None, S + D(22), AGGREGATE),
        x("shr04_with_customer", "acme_se", us, S + D(23), AGGREGATE, anonymized=True),
    )
    p.compliant("SHR-04", x("shr04_anonymous", "brightpath", None, S + D(24), AGGREGATE, anonymized=True))


def _legal_notice(p: Plan) -> None:
    """SHR-05: customers told within 30 days of a legal disclosure, unless the law forbids."""
    S, A = p.start, p.as_of
    us = _sharers(p)
    x = p.disclosure
    p.compliant("SHR-05",
                x("shr05_on_deadline", "bka", us, S + D(5, hours=10), LEGAL,
                  notified=S + D(35, hours=10)),
                x("shr05_not_yet_due", "bka", us, A - DEADLINE, LEGAL))  # fmt: skip
    p.violation("SHR-05",
                x("shr05_one_second_late", "bka", us, S + D(6, hours=10), LEGAL,
                  notified=S + D(36, hours=10) + SEC),
                x("shr05_never_told", "bka", us, A - DEADLINE - SEC, LEGAL),
                x("shr05_told_late_after_as_of", "police_fr", us, A - D(35), LEGAL,
                  notified=A + D(2)))  # fmt: skip
    x("shr05_prohibited", "bka", us, S + D(3), LEGAL, prohibited=True)
    x("shr05_no_customer", "belasting", None, S + D(4), LEGAL)


def _limit_sharing(p: Plan) -> None:
    """SHR-06: while a limit-sharing notice is active, only the three necessary purposes."""
    S, A = p.start, p.as_of
    x = p.disclosure
    lim = p.customer("limit", add_years(A, -3))
    p.consent("limit_notice", lim, "limit_sharing", S - D(180))
    p.violation("SHR-06",
                x("shr06_transition", "zenith", lim, S + D(33), TRANSITION),
                x("shr06_aggregate", "acme_se", lim, S + D(34), AGGREGATE, anonymized=True),
                x("shr06_marketing", "orbit", lim, S + D(35), "marketing"))  # fmt: skip
    p.violation("SHR-04", "shr06_aggregate")
    p.violation("SHR-03", "shr06_marketing")
    p.compliant("SHR-06",
                x("shr06_render", "cloudlane", lim, S + D(36), RENDER),
                x("shr06_tos", "kessler", lim, S + D(37), TOS),
                x("shr06_legal", "bka", lim, S + D(38), LEGAL, notified=S + D(39)))  # fmt: skip

    ended = S + D(30, hours=12)
    w = p.customer("limit_withdrawn", add_years(A, -3))
    p.consent("limit_notice_withdrawn", w, "limit_sharing", S - D(100), withdrawn=ended)
    x("shr06_at_withdrawal", "zenith", w, ended, TRANSITION)  # notice no longer active

    given = S + D(31, hours=8)
    g = p.customer("limit_new", add_years(A, -3))
    p.consent("limit_notice_new", g, "limit_sharing", given)
    p.violation("SHR-06", x("shr06_at_notice", "zenith", g, given, TRANSITION))


def _transfers(p: Plan) -> None:
    """XFR-01: EU customers' data to parties outside the EEA needs a safeguard."""
    S, A = p.start, p.as_of
    us = _sharers(p)
    fr = p.customer("share_fr", add_years(A, -6), country="FR")
    no = p.customer("share_no", add_years(A, -6), country="NO")
    x = p.disclosure
    p.violation(
        "XFR-01",
        x("xfr_none", "lakeshore", fr, S + D(40), TOS),
        x("xfr_null", "mumbai", fr, S + D(41), TOS),
        x("xfr_anonymized", "lakeshore", fr, S + D(42), TOS, anonymized=True),
    )
    p.compliant("XFR-01", x("xfr_adequacy", "zurich", fr, S + D(43), TOS))
    x("xfr_inside_eea", "fjord", fr, S + D(44), TOS)
    x("xfr_norwegian_customer", "lakeshore", no, S + D(45), TOS)
    x("xfr_us_customer", "lakeshore", us, S + D(46), TOS)
    x("xfr_aggregate", "samba", None, S + D(47), AGGREGATE, anonymized=True)


def _security(p: Plan) -> None:
    """SEC-01 (card and financial items encrypted), SEC-02 (disclosures encrypted)."""
    S, A = p.start, p.as_of
    c = p.customer("sec", add_years(A, -3))
    i = p.item
    p.violation("SEC-01",
                i("sec01_card", c, S - D(100), category="card", system="billing-db",
                  encrypted=False),
                i("sec01_financial", c, A - SEC, category="financial", system="archive",
                  encrypted=False))  # fmt: skip
    p.compliant("SEC-01", i("sec01_card_encrypted", c, S - D(100), category="card",
                            system="billing-db"))  # fmt: skip
    i("sec01_billing_plain", c, S - D(100), category="billing", encrypted=False)
    i("sec01_financial_after_as_of", c, A, category="financial", encrypted=False)

    us = _sharers(p)
    p.violation("SEC-02", p.disclosure("sec02_plain", "cloudlane", us, S + D(48), RENDER,
                                       encrypted=False))  # fmt: skip
    p.disclosure("sec02_plain_at_end", "cloudlane", us, A, RENDER, encrypted=False)


def _opt_in(p: Plan) -> None:
    """MKT-01: marketing to EU customers needs an opt-in active at sent_at."""
    S, A = p.start, p.as_of
    m = p.message
    de = p.customer("mkt_no_consent", add_years(A, -2), country="DE")
    p.violation("MKT-01",
                m("mkt01_no_opt_in", de, S + D(12), "promotion", "sms"),
                m("mkt01_at_start", de, S, "newsletter", "post"))  # fmt: skip
    m("mkt01_essential", de, S + D(13), "essential")
    m("mkt01_service", de, S + D(14), "service_notification", "phone")
    m("mkt01_at_end", de, A, "newsletter")

    withdrawn = S + D(20, hours=10)
    fr = p.customer("mkt_withdrawn", add_years(A, -2), country="FR")
    p.consent("mkt_withdrawn_opt_in", fr, "marketing_opt_in", S - D(300), withdrawn=withdrawn)
    p.violation("MKT-01", m("mkt01_at_withdrawal", fr, withdrawn, "newsletter"))
    p.compliant("MKT-01", m("mkt01_before_withdrawal", fr, withdrawn - SEC, "newsletter"))

    given = S + D(25, hours=8)
    it = p.customer("mkt_new_opt_in", add_years(A, -2), country="IT")
    p.consent("mkt_new_opt_in_consent", it, "marketing_opt_in", given)
    p.compliant("MKT-01", m("mkt01_at_opt_in", it, given, "promotion"))
    p.violation("MKT-01", m("mkt01_before_opt_in", it, given - SEC, "promotion"))

    no = p.customer("mkt_norway", add_years(A, -2), country="NO")
    m("mkt01_norway", no, S + D(26), "promotion")  # EEA, not EU: no opt-in needed


def _opt_out(p: Plan) -> None:
    """MKT-02: no marketing while an opt-out is active (a later opt-in does not end it)."""
    S, A = p.start, p.as_of
    m = p.message
    us = p.customer("mkt_opted_out", add_years(A, -2))
    p.consent("mkt_opt_out", us, "marketing_opt_out", S - D(50))
    p.violation("MKT-02", m("mkt02_after_opt_out", us, S + D(10), "newsletter"))
    m("mkt02_essential", us, S + D(11), "essential")

    back = S + D(15, hours=12)
    gb = p.customer("mkt_back_in", add_years(A, -2), country="GB")
    p.consent("mkt_opt_out_withdrawn", gb, "marketing_opt_out", S - D(200), withdrawn=back)
    p.compliant("MKT-02", m("mkt02_at_opt_out_end", gb, back, "newsletter"))
    p.violation("MKT-02", m("mkt02_before_opt_out_end", gb, back - SEC, "newsletter"))

    es = p.customer("mkt_both", add_years(A, -2), country="ES")
    p.consent("mkt_both_opt_out", es, "marketing_opt_out", S - D(400))
    p.consent("mkt_both_opt_in", es, "marketing_opt_in", S - D(100))
    both = m("mkt02_both_active", es, S + D(16), "promotion")
    p.violation("MKT-02", both)
    p.compliant("MKT-01", both)

    pt = p.customer("mkt_later_opt_out", add_years(A, -2), country="PT")
    p.consent("mkt_later_opt_in", pt, "marketing_opt_in", S - D(400))
    p.consent("mkt_later_opt_out_consent", pt, "marketing_opt_out", S + D(40))
    after = m("mkt02_after_later_opt_out", pt, S + D(45), "newsletter")
    before = m("mkt02_before_later_opt_out", pt, S + D(39), "newsletter")
    p.violation("MKT-02", after)
    p.compliant("MKT-02", before)
    p.compliant("MKT-01", after, before)


def _tracking(p: Plan) -> None:
    """TRK-01: under Do Not Track only essential trackers, except in exempt areas."""
    S, A = p.start, p.as_of
    us = _sharers(p)
    e = p.event
    p.violation("TRK-01",
                e("trk_website", us, S + D(3), "website", "analytics"),
                e("trk_third_party", None, S + D(4), "third_party", "advertising"),
                e("trk_at_start", None, S, "services", "advertising"))  # fmt: skip
    p.compliant("TRK-01",
                e("trk_client_area", us, S + D(5), "client_area", "analytics"),
                e("trk_control_panel", us, S + D(6), "control_panel", "advertising"),
                e("trk_essential", None, S + D(7), "website", "essential"))  # fmt: skip
    e("trk_no_dnt", us, S + D(8), "website", "advertising", dnt=False)
    e("trk_at_end", None, A, "website", "analytics")


def _children(p: Plan) -> None:
    """AGE-01: no item received before the 13th birthday (29 February: 28 February)."""
    A = p.as_of
    born = _leap_day(p.start - D(120), 13).date()  # 2012-02-29
    thirteen = add_years(midnight(born), 13)  # 2025-02-28T00:00:00Z
    child = p.customer("age_leap_child", thirteen - D(60), country="DE", birth=born)
    p.item("age_leap_child_item", child, thirteen - SEC)
    p.request("age_child_removal", child, "child_data_removal", thirteen + D(30),
              thirteen + D(35))  # fulfilled, yet not judged by RET-03  # fmt: skip
    p.violation("AGE-01", child)
    teen = p.customer("age_leap_teen", thirteen - D(60), country="DE", birth=born)
    p.item("age_leap_teen_item", teen, thirteen)
    p.compliant("AGE-01", teen)

    edge = add_years(A, -13).date()  # turns 13 at as_of
    young = p.customer("age_13_at_as_of", A - D(200), birth=edge)
    p.item("age_13_at_as_of_item", young, A - SEC)
    p.violation("AGE-01", young)
    older = p.customer("age_13_day_before", A - D(200), birth=edge - D(1))
    p.item("age_13_day_before_item", older, A - D(1))
    p.compliant("AGE-01", older)
    later = p.customer("age_child_future_item", A - D(100), birth=add_years(A, -10).date())
    p.item("age_child_item_at_as_of", later, A)  # not a state item: not in the population


def _investigation(p: Plan) -> None:
    """A complaining customer with several planted findings."""
    S, A = p.start, p.as_of
    c = p.customer("investigated", add_years(A, -13), country="DE",
                   birth=add_years(A, -41).date())  # fmt: skip
    p.violation("RET-01", p.item("inv_old_address", c, add_years(A, -12), category="address"))
    p.exception("RET-01", "access_log", _log(p, "inv_old_log", c, add_years(A, -11)))
    p.violation("SEC-01", p.item("inv_card", c, S - D(20), category="card", system="billing-db",
                                 encrypted=False))  # fmt: skip
    p.violation("MKT-01", p.message("inv_promotion", c, S + D(50), "promotion"))
    p.violation("SHR-05", p.disclosure("inv_police", "bka", c, S + D(2), LEGAL))
    p.violation("DSR-01", p.request("inv_access", c, "access", S + D(3), S + D(40)))
    p.compliant("AGE-01", c)
    complaint = p.dispute("inv_complaint", c, A - D(6), topic="Why do you still hold my data?")
    p.compliant("DSP-01", complaint)
    p.investigation["dispute_id"] = complaint

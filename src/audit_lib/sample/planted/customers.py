"""Planted stories of marketing, tracking, children and the investigated complaint."""

from __future__ import annotations

from audit_lib.sample.parties import LEGAL
from audit_lib.sample.plan import Plan, midnight
from audit_lib.sample.planted.common import SEC, D, leap_day, log, sharers
from audit_lib.sample.timeline import add_years


def opt_in(p: Plan) -> None:
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


def opt_out(p: Plan) -> None:
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


def tracking(p: Plan) -> None:
    """TRK-01: under Do Not Track only essential trackers, except in exempt areas."""
    S, A = p.start, p.as_of
    us = sharers(p)
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


def children(p: Plan) -> None:
    """AGE-01: no item received before the 13th birthday (29 February: 28 February)."""
    A = p.as_of
    born = leap_day(p.start - D(120), 13).date()  # 2012-02-29
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


def investigation(p: Plan) -> None:
    """A complaining customer with several planted findings."""
    S, A = p.start, p.as_of
    c = p.customer("investigated", add_years(A, -13), country="DE",
                   birth=add_years(A, -41).date())  # fmt: skip
    p.violation("RET-01", p.item("inv_old_address", c, add_years(A, -12), category="address"))
    p.exception("RET-01", "access_log", log(p, "inv_old_log", c, add_years(A, -11)))
    p.violation("SEC-01", p.item("inv_card", c, S - D(20), category="card", system="billing-db",
                                 encrypted=False))  # fmt: skip
    p.violation("MKT-01", p.message("inv_promotion", c, S + D(50), "promotion"))
    p.violation("SHR-05", p.disclosure("inv_police", "bka", c, S + D(2), LEGAL))
    p.violation("DSR-01", p.request("inv_access", c, "access", S + D(3), S + D(40)))
    p.compliant("AGE-01", c)
    complaint = p.dispute("inv_complaint", c, A - D(6), topic="Why do you still hold my data?")
    p.compliant("DSP-01", complaint)
    p.investigation["dispute_id"] = complaint

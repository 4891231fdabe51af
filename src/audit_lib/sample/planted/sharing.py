"""Planted stories of disclosures, transfers and security (SHR-01..06, XFR-01, SEC-01, SEC-02)."""

from __future__ import annotations

from audit_lib.sample.parties import AGGREGATE, LEGAL, RENDER, TOS, TRANSITION
from audit_lib.sample.plan import Plan, midnight
from audit_lib.sample.planted.common import DEADLINE, SEC, D, date_of, sharers
from audit_lib.sample.timeline import add_years


def authorization(p: Plan) -> None:
    """SHR-01: render_services only by sub-processors listed at disclosed_at."""
    S = p.start
    us = sharers(p)
    removed = midnight(date_of(p.parties["script"].authorized_until))
    listed = midnight(date_of(p.parties["starting"].authorized_from))
    x = p.disclosure
    p.violation("SHR-01",
                x("shr01_never_listed", "never_listed", us, S + D(10, hours=9), RENDER),
                x("shr01_on_removal_day", "script", us, removed, RENDER),
                x("shr01_before_listing", "starting", us, listed - SEC, RENDER),
                x("shr01_affiliate", "acme_retail", us, S + D(15), RENDER))  # fmt: skip
    p.compliant("SHR-01",
                x("shr01_before_removal", "script", us, removed - SEC, RENDER),
                x("shr01_on_listing_day", "starting", us, listed, RENDER))  # fmt: skip


def protection_and_purpose(p: Plan) -> None:
    """SHR-02 (DPA by the date of disclosure), SHR-03 (purposes), SHR-04 (aggregates)."""
    S, A = p.start, p.as_of
    us = sharers(p)
    signed = midnight(date_of(p.parties["late_dpa"].dpa_signed_at))
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


def legal_notice(p: Plan) -> None:
    """SHR-05: customers told within 30 days of a legal disclosure, unless the law forbids."""
    S, A = p.start, p.as_of
    us = sharers(p)
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


def limit_sharing(p: Plan) -> None:
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


def transfers(p: Plan) -> None:
    """XFR-01: EU customers' data to parties outside the EEA needs a safeguard."""
    S, A = p.start, p.as_of
    us = sharers(p)
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


def security(p: Plan) -> None:
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

    us = sharers(p)
    p.violation("SEC-02", p.disclosure("sec02_plain", "cloudlane", us, S + D(48), RENDER,
                                       encrypted=False))  # fmt: skip
    p.disclosure("sec02_plain_at_end", "cloudlane", us, A, RENDER, encrypted=False)

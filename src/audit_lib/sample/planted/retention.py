"""Planted stories of retention, erasure and response deadlines (RET-01..03, DSR-01, DSP-01)."""

from __future__ import annotations

from audit_lib.sample.plan import Plan
from audit_lib.sample.planted.common import DEADLINE, GRACE, HTML_TOPIC, SEC, D, leap_day, log
from audit_lib.sample.timeline import add_years


def retention_cap(p: Plan) -> None:
    """RET-01: received + 10 years < as_of (2016-10-01T00:00:00Z is the first compliant)."""
    A, cap = p.as_of, add_years(p.as_of, -10)
    c = p.customer("ret01", add_years(A, -14))
    p.violation("RET-01", p.item("ret01_old", c, add_years(A, -11)),
                p.item("ret01_one_second_too_old", c, cap - SEC),
                p.item("ret01_leap_day", c, leap_day(A, 10)))  # fmt: skip
    p.compliant("RET-01", p.item("ret01_exactly_ten_years", c, cap))
    p.exception("RET-01", "access_log", log(p, "ret01_old_log", c, add_years(A, -12)))

    fraud = p.customer("ret01_fraud", add_years(A, -13), country="GB")
    p.hold("ret01_fraud_hold", fraud, "fraud", add_years(A, -3))
    p.exception("RET-01", "indefinite_hold", p.item("ret01_fraud_item", fraud, add_years(A, -11)))
    p.exception("RET-01", "access_log", log(p, "ret01_fraud_log", fraud, add_years(A, -11)))

    tos = p.customer("ret01_tos", add_years(A, -13), country="IN")
    p.hold("ret01_tos_hold_placed_at_as_of", tos, "tos_breach", A)  # active at as_of
    p.exception("RET-01", "indefinite_hold", p.item("ret01_tos_item", tos, cap - D(30)))

    claim = p.customer("ret01_claim", add_years(A, -13), country="BR")
    p.hold("ret01_claim_hold", claim, "legal_claim", add_years(A, -2))  # exempts nothing here
    p.violation("RET-01", p.item("ret01_claim_item", claim, add_years(A, -11)))

    released = p.customer("ret01_released", add_years(A, -13), country="CH")
    p.hold("ret01_hold_released_at_as_of", released, "fraud", add_years(A, -4), released=A)
    p.violation("RET-01", p.item("ret01_released_item", released, add_years(A, -11)))


def deactivated(p: Plan) -> None:
    """RET-02: deactivated_at + 365 days < as_of (2025-10-01T00:00:00Z is still in grace)."""
    A = p.as_of
    gone = p.customer("ret02", add_years(A, -6), deactivated=A - D(730))
    got = add_years(A, -3)
    p.violation("RET-02", p.item("ret02_name", gone, got))
    p.exception("RET-02", "legal_retention",
                p.item("ret02_invoice", gone, got, category="billing", system="archive",
                       purpose="legal_compliance"),
                log(p, "ret02_log_kept_for_law", gone, got, purpose="legal_compliance"))  # fmt: skip
    p.exception("RET-02", "access_log", log(p, "ret02_log", gone, got))
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


def erasure(p: Plan) -> None:
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
    p.exception("RET-03", "access_log", log(p, "ret03_log", c, old))

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


def requests(p: Plan) -> None:
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


def complaints(p: Plan) -> None:
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

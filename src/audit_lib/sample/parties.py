"""The fixed list of third parties of a sample export.

Background parties carry the disclosure purposes they serve (`uses`); the
background only sends them what keeps every sharing control satisfied.
Planted parties (`uses == ()`) exist for the planted disclosures only.
Dates are placed relative to the start of the reference period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

RENDER, LEGAL, TOS, AGGREGATE, TRANSITION = (
    "render_services",
    "legal_requirement",
    "tos_breach",
    "aggregate",
    "business_transition",
)


@dataclass(frozen=True)
class Party:
    key: str
    name: str
    kind: str
    country: str
    authorized_from: date | None
    authorized_until: date | None
    dpa_signed_at: date | None
    transfer_safeguard: str | None
    uses: tuple[str, ...] = ()


def party_list(start: date) -> list[Party]:
    """Every party, in party_id order (P001, P002, ...)."""

    def y(years: int, month: int = 1, day: int = 1) -> date:
        return date(start.year + years, month, day)

    def d(days: int) -> date:
        return start + timedelta(days=days)

    sub, aff, par = "sub_processor", "affiliate", "partner"
    law, gov, pri, acq = "law_enforcement", "government", "private_party", "acquirer"
    bg, agg, tos, legal = (RENDER,), (AGGREGATE,), (TOS,), (LEGAL, TOS)
    P = Party
    return [
        P("cloudlane", "Cloudlane Hosting GmbH", sub, "DE", y(-12), None, y(-12), None, bg),
        P("postwick", "Postwick Mail Ltd", sub, "IE", y(-10, 3), None, y(-10, 2), None, bg),
        P("northbeam", "Northbeam Analytics Inc.", sub, "US", y(-9), None, y(-9), "scc", bg),
        P("never_listed", "Quickfix Data Services", sub, "DE", None, None, y(-1), None),
        P("tallyworks", "Tallyworks Payments B.V.", sub, "NL", y(-11), None, y(-11), None, bg),
        P("ledgerly", "Ledgerly Billing SAS", sub, "FR", y(-6, 5), None, y(-6, 4, 15), None, bg),
        P("supportly", "Supportly Desk, Inc.", sub, "US", y(-8), y(-2, 6), y(-8), "bcr", bg),
        P("script", "<script>alert(1)</script>", sub, "IE", y(-5), d(45), y(-5), None),
        P("kansai", "Kansai Render KK", sub, "JP", y(-4, 9), None, y(-4, 8), "adequacy", bg),
        P("bangalore", "Bangalore Backoffice Pvt Ltd", sub, "IN", y(-3, 2), None, y(-3, 1, 10), "scc", bg),
        P("helvetic", "Helvetic Vault AG", sub, "CH", y(-7), None, y(-7), "adequacy", bg),
        P("starting", "Lumen Edge SRL", sub, "RO", d(62), None, d(30), None),
        P("thames", "Thames Courier Ltd", sub, "GB", y(-5), None, y(-5), "adequacy", bg),
        P("nordlys", "Nordlys Cloud AS", sub, "NO", y(-2, 4), None, y(-2, 3), "none", bg),
        P("vistula", "Vistula Print Sp. z o.o.", sub, "PL", y(-9), y(-1, 2), y(-9), None, bg),
        P("cedar", "Cedar Street SMS LLC", sub, "US", y(-1, 7), None, y(-1, 6), "scc", bg),
        P("no_dpa", "Paperless Archive SA", sub, "BE", y(-4), None, None, None),
        P("late_dpa", "Quill Transcription Oy", sub, "FI", y(-2), None, d(40), None),
        P("acme_se", "Acme Group Holdings SE", aff, "LU", None, None, y(-10), None, agg),
        P("acme_labs", "Acme Labs Inc.", aff, "US", None, None, y(-8), "bcr", agg),
        P("acme_retail", "Acme Retail Services GmbH", aff, "AT", y(-3), None, y(-3), None),
        P("acme_iberia", "Acme Iberia SL", aff, "ES", None, None, None, None, agg),
        P("brightpath", "Brightpath Media", par, "US", None, None, None, "none", agg),
        P("meridian", "Meridian Research Institute", par, "DE", None, None, y(-6), None, agg),
        P("orbit", "Orbit Ads Ltd", par, "GB", None, None, None, "adequacy", agg),
        P("kiwi", "Kiwi Insights Ltd", par, "NZ", None, None, None, "adequacy", agg),
        P("samba", "Samba Marketing Ltda", par, "BR", None, None, None, None, agg),
        P("bka", "Bundeskriminalamt", law, "DE", None, None, None, None, legal),
        P("police_fr", "Police nationale", law, "FR", None, None, None, None, legal),
        P("garda", "An Garda Síochána", law, "IE", None, None, None, None, legal),
        P("met", "Metropolitan Police Service", law, "GB", None, None, None, "adequacy", legal),
        P("entrate", "Agenzia delle Entrate", gov, "IT", None, None, None, None, (LEGAL,)),
        P("belasting", "Belastingdienst", gov, "NL", None, None, None, None, (LEGAL,)),
        P("skatteverket", "Skatteverket", gov, "SE", None, None, None, None, (LEGAL,)),
        P("hmrc", "HM Revenue & Customs", gov, "GB", None, None, None, "adequacy", (LEGAL,)),
        P("kessler", "Kessler & Partner Rechtsanwälte", pri, "DE", None, None, None, None, tos),
        P("obrien", "O'Brien Collections Ltd", pri, "IE", None, None, y(-4), None, tos),
        P("fraudwatch", "Fraudwatch Oy", pri, "FI", None, None, y(-7), None, tos),
        P("lakeshore", "Lakeshore Data Brokers, Inc.", pri, "US", None, None, None, "none"),
        P("mumbai", "Mumbai Recovery Agents", pri, "IN", None, None, None, None),
        P("fjord", "Fjord Inkasso AS", pri, "NO", None, None, None, "none"),
        P("zurich", "Zurich Claims AG", pri, "CH", None, None, None, "adequacy"),
        P("zenith", "Zenith Holdings S.A.", acq, "LU", None, None, y(-6), None, (TRANSITION,)),
        P("harbor", "Harbor Capital LLC", acq, "US", None, None, y(-6), "scc", (TRANSITION,)),
        P("blue_harbor", "Blue Harbor Acquisitions Ltd", acq, "GB", None, None, None, "adequacy"),
    ]


def party_ids(parties: list[Party]) -> dict[str, str]:
    """Key -> party_id, in list order."""
    return {p.key: f"P{i:03d}" for i, p in enumerate(parties, start=1)}

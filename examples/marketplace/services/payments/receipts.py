"""Receipts with VAT lines. Implements WBS-010 (NT-0103)."""
from __future__ import annotations

from dataclasses import dataclass

# Standard VAT rates, percent, for the launch countries.
VAT_RATES = {"DE": 19, "FR": 20, "ES": 21, "NL": 21, "GB": 20}


@dataclass(frozen=True)
class ReceiptLines:
    gross_minor: int
    net_minor: int
    vat_minor: int
    vat_rate: int


def vat_lines(gross_minor: int, country: str) -> ReceiptLines:
    """NT-0103: prices are shown VAT-inclusive; the receipt splits them."""
    rate = VAT_RATES.get(country.upper(), 0)
    net = round(gross_minor * 100 / (100 + rate))
    return ReceiptLines(gross_minor, net, gross_minor - net, rate)

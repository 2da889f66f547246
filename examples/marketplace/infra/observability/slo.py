"""SLO burn rates and status page components (scaffold). Implements WBS-019.

Spec: TD-0344 (SLOs and alerting), NT-0341 (status page).
"""
from __future__ import annotations

SLOS = {"checkout": 0.999, "search": 0.999, "messaging": 0.995}


def burn_rate(errors: int, total: int, objective: float) -> float:
    """TD-0344: 1.0 means the error budget is spent exactly at the end of the window."""
    if total == 0:
        return 0.0
    return (errors / total) / (1.0 - objective)


def component_status(rate_1h: float, rate_6h: float) -> str:
    """NT-0341: what the public status page shows for a component."""
    if rate_1h >= 14.4:
        return "major_outage"
    if rate_6h >= 6.0:
        return "degraded"
    return "operational"

#!/usr/bin/env python3
"""Generate the demo workspace examples/marketplace/.

The demo is a realistic, mid-flight repository of a two-sided marketplace for booking
creative studios: a chunked product spec, a work breakdown, a queue history, a lock,
access checks, and Python / Rust / TypeScript code and tests that carry trace tags.
It also contains a small, documented set of deliberate gaps so that
`concord check examples/marketplace` has something real to report (see the generated
README.md).

Usage:
    python3 examples/generate_marketplace.py

Standard library only, no network, no clock: the output is byte-identical on every run.
The script deletes and recreates examples/marketplace/ and writes nothing else.
"""
from __future__ import annotations

import json
import math
import random
import re
import shutil
import sys
from pathlib import Path

SEED = 20261124
HERE = Path(__file__).resolve().parent
OUT = HERE / "marketplace"

# ---------------------------------------------------------------------------
# Spec topics. Each topic owns a block of 20 chunk numbers per family:
# topic i uses NT/TD numbers 20*i+1 .. 20*i+9, so payments (i=5) is TD-0101..TD-0109.
# Title entries are plain strings or (title, key, priority); keys are used by code
# templates below as @@key@@ and resolve to the chunk's ID.
# ---------------------------------------------------------------------------
TOPICS = [
    dict(
        slug="auth", name="Signup & auth", component="auth service",
        actors=["guests", "hosts", "studio owners"], random_must=False,
        nt=[("Sign up with email or Google", "auth_signup_story", "must"),
            "Magic-link login for returning guests",
            "Host onboarding checklist after signup",
            ("Account recovery when a guest loses access", "auth_recovery", "should"),
            "Two-step verification for studio owners",
            "Session expiry and the 'remember this device' option",
            "Deleting an account with upcoming bookings"],
        td=[("Passphrase hashing with scrypt", "auth_hash", "must"),
            ("Session tokens, rotation and revocation", "auth_sessions", "must"),
            ("Google sign-in with OAuth 2.0 and PKCE", "auth_oauth", "should"),
            ("Login throttling and temporary lockout", "auth_ratelimit", "should"),
            "Email verification tokens",
            "Auth audit log schema",
            "Role model: guest, host, admin and support"],
        facts=["Hosts must verify an email address before a listing can be published.",
               "Sessions last 30 days on trusted devices and 12 hours elsewhere.",
               "Failed logins are throttled per account and per IP address.",
               "Google sign-in links to an existing account only after the email is verified.",
               "Every credential change sends a security notice by email.",
               "Support agents can never see or set a user's passphrase."],
        questions=["Should hosts be required to use two-step verification before their first payout?",
                   "Do we keep magic links once passkeys ship?"],
        metrics=["signup completion rate", "login success rate", "lockouts per day"],
    ),
    dict(
        slug="profiles", name="Profiles", component="profiles service",
        actors=["hosts", "guests", "studio owners"], random_must=False,
        nt=[("Public studio-owner profile page", "prof_public", "must"),
            ("Guest profile with a project portfolio", "prof_guest", "should"),
            "Verified badges on profiles",
            "Profile completeness nudges for new hosts",
            "Choosing a display name and handle",
            "Profile photos and cover images"],
        td=[("Profile schema and handle uniqueness", "prof_schema", "must"),
            ("Avatar upload pipeline and image variants", "prof_avatar", "should"),
            "Privacy settings storage",
            "Handle change history and redirects",
            "Profile indexing hooks for search",
            "Profile data export for GDPR requests"],
        facts=["Handles are 3 to 30 characters: lowercase letters, digits and hyphens.",
               "A public profile never shows an email address or a phone number.",
               "Hosts with a complete profile receive more booking requests.",
               "Guests can link up to five portfolio pieces such as tracks, reels or photo sets.",
               "Avatars are cropped square and served in three sizes."],
        questions=["Do guests need a public profile at all, or only hosts?",
                   "How long do old handles redirect after a change?"],
        metrics=["profile completeness", "profile views per listing view"],
    ),
    dict(
        slug="search", name="Search & discovery", component="search service",
        actors=["guests", "bands", "photographers", "podcasters"], random_must=True,
        nt=[("Search studios by city, date and gear", "search_story", "must"),
            ("Map view with price pins", "search_map", "should"),
            "Saved searches and alerts",
            ("Empty results and 'widen your search' suggestions", "search_empty", "could"),
            "Recently viewed studios",
            "Sorting by relevance, price and rating",
            ("Filters for soundproofing, natural light and gear", "search_filters_story", "should")],
        td=[("Inverted index for studio listings", "search_index", "must"),
            ("Query parsing and tokenization", "search_query", "must"),
            ("Relevance ranking with quality signals", "search_ranking", "must"),
            ("Availability filter against the booking calendar", "search_avail", "should"),
            ("Typo tolerance with bounded edit distance", "search_typo", "should"),
            "Search latency budget and result caching",
            "Reindexing when listings change",
            "Geo radius queries around a map point"],
        facts=["Guests mostly search by city first, then narrow by date and equipment.",
               "Results must come back in under 200 ms at the 95th percentile.",
               "Studios that are unavailable for the requested time are hidden, not ranked lower.",
               "Ranking blends text match, rating and host response rate.",
               "A search with no results suggests nearby neighbourhoods or flexible dates.",
               "Gear names such as a Neumann U87 or a Neve 1073 match as whole phrases."],
        questions=["Should sponsored listings ever appear in the first three results?",
                   "Do we sort by distance when the guest shares a location?"],
        metrics=["search-to-view rate", "zero-result rate", "p95 search latency"],
    ),
    dict(
        slug="listings", name="Studio listings", component="listings service",
        actors=["hosts", "studio owners", "studio managers"], random_must=False,
        nt=[("Create a studio listing in under ten minutes", "list_create", "must"),
            ("Photo gallery guidelines for studios", "list_photos", "should"),
            ("Hourly and day-rate pricing", "list_pricing_story", "must"),
            ("House rules and cancellation policy on the listing", "list_rules", "should"),
            "Equipment inventory on listings",
            "Listing quality score shown to hosts",
            "Pausing and archiving a listing",
            "Multi-room studios under one address"],
        td=[("Listing data model and lifecycle states", "list_model", "must"),
            ("Price calculation with peak-hour multipliers", "list_pricing", "must"),
            ("Publish validation rules", "list_validate", "should"),
            "Image CDN and thumbnail variants",
            "Listing change events for the search indexer",
            "Draft autosave",
            "Address geocoding and privacy radius"],
        facts=["A listing stays a draft until it has a title, an address, a price and three photos.",
               "The exact address is shown only after a booking is confirmed.",
               "Prices are stored as integers in the currency's minor unit.",
               "Peak hours (evenings and weekends) can carry a multiplier of up to 2x.",
               "A day rate caps the price of any booking of eight hours or more.",
               "Hosts pick one of three cancellation policies: flexible, moderate or strict."],
        questions=["Should hosts be able to price each room differently?",
                   "Do we require a photo of the entrance for accessibility?"],
        metrics=["time to first published listing", "draft abandonment rate"],
    ),
    dict(
        slug="booking", name="Booking & checkout", component="booking service",
        actors=["guests", "hosts", "bands"], random_must=False,
        nt=[("Instant book versus request to book", "book_modes", "must"),
            ("Guest checkout in three steps", "book_checkout_story", "must"),
            ("Booking changes and reschedules", "book_resched", "should"),
            ("Cancellation by the guest with refund tiers", "book_cancel", "must"),
            "Group bookings for bands and crews",
            "Add-ons: engineer, gear rental and catering",
            "Booking confirmation screen and receipt"],
        td=[("Slot holds with a 15-minute expiry", "book_hold", "must"),
            ("Availability from opening hours, bookings and buffers", "book_avail", "must"),
            ("Checkout state machine", "book_sm", "must"),
            ("Refund tier calculation for cancellations", "book_refund_calc", "should"),
            "Double-booking prevention with row locks",
            "Booking reference codes",
            "Time zones for studio opening hours"],
        facts=["A slot is held for 15 minutes while the guest pays; the hold is released on expiry.",
               "Instant book confirms on payment; request to book waits up to 24 hours for the host.",
               "Buffers between sessions default to 30 minutes and are set per studio.",
               "Under the flexible policy guests get a full refund up to 48 hours before the session.",
               "Checkout has three steps: time and add-ons, details, payment.",
               "Every booking gets a short reference code that support can search for."],
        questions=["Should a host be able to decline an instant booking within the first hour?",
                   "Do group bookings split the payment between members?"],
        metrics=["checkout conversion", "hold expiry rate", "host acceptance rate"],
    ),
    dict(
        slug="payments", name="Payments", component="payments service",
        actors=["guests", "hosts", "finance staff"], random_must=False,
        nt=[("Paying for a booking with a card or a wallet", "pay_story", "must"),
            "Deposits for multi-day bookings",
            ("Receipts and VAT invoices", "pay_receipts", "should"),
            "Failed payment recovery for guests",
            "Saved cards for returning guests",
            "Promo codes and credits at checkout",
            "Showing prices in the traveller's currency"],
        td=[("Payments service boundaries", "pay_boundary", "should"),
            ("Idempotency keys for payment calls", "pay_idem", "must"),
            ("Stripe PaymentIntents for studio bookings", "pay_pi", "must"),
            ("Refunds and partial refunds", "pay_refunds", "must"),
            ("Stripe webhook verification and replay protection", "pay_webhooks", "must"),
            ("Currency handling in minor units", "pay_minor", "should"),
            "Payment failure retry policy",
            "Ledger entries for every money movement"],
        facts=["Card data never touches our servers; Stripe Elements collects it in the browser.",
               "Every call to Stripe carries an idempotency key derived from the booking and the attempt.",
               "Instant bookings capture at confirmation; request-to-book uses manual capture.",
               "Refunds go back to the original payment method within 5 to 10 business days.",
               "Webhook events are verified, deduplicated and processed at most once.",
               "Amounts are integers in the currency's minor unit; JPY has no minor unit."],
        questions=["Do we support SEPA Direct Debit for studios in Germany?",
                   "Who absorbs the Stripe fee when a booking is refunded?"],
        metrics=["payment success rate", "refund processing time", "dispute rate"],
    ),
    dict(
        slug="payouts", name="Host payouts", component="payouts service",
        actors=["hosts", "studio owners", "finance staff"], random_must=True,
        nt=[("Hosts get paid 24 hours after the session", "po_story", "must"),
            "Payout history and monthly statements",
            "Tax forms for hosts (1099-K and DAC7)",
            "Payout holds for new hosts",
            "Changing bank details safely",
            "Instant payouts for a fee"],
        td=[("Stripe Connect Express onboarding", "po_connect", "must"),
            ("Payout scheduling job", "po_schedule", "must"),
            "Platform fee and host earnings split",
            ("Payout hold rules for risk", "po_holds", "should"),
            "Reconciliation against Stripe balance transactions",
            "Negative balance recovery"],
        facts=["Payouts are released 24 hours after the session ends unless a dispute is open.",
               "New hosts have a 7-day hold on their first three payouts.",
               "The platform fee is taken before the payout and shown on every statement.",
               "A change of bank details pauses payouts for 72 hours and notifies the host.",
               "Hosts onboard through Stripe Connect Express; we never store bank account numbers."],
        questions=["Do we offer instant payouts in the EU at launch?",
                   "How do we recover a negative balance after a late chargeback?"],
        metrics=["on-time payout rate", "hosts with paused payouts"],
    ),
    dict(
        slug="messaging", name="Messaging & inbox", component="messaging service",
        actors=["guests", "hosts", "support agents"], random_must=True,
        nt=[("Guest-host inbox with booking context", "msg_inbox_story", "must"),
            ("Questions to a host before booking", "msg_prebook", "should"),
            "Read receipts and typing indicators",
            "Quick replies for hosts",
            "Sharing files and reference tracks",
            "Muting and archiving threads"],
        td=[("Thread and message storage model", "msg_model", "must"),
            ("Contact-detail redaction before a booking is confirmed", "msg_redact", "must"),
            ("Real-time delivery over WebSockets", "msg_ws", "should"),
            "Attachment scanning and size limits",
            "Message search for support agents",
            "Unread counters and fan-out"],
        facts=["There is one thread per guest, host and listing; bookings attach to it.",
               "Phone numbers, email addresses and links are masked until a booking is confirmed.",
               "Hosts are expected to reply within 24 hours; the response rate shows on listings.",
               "Attachments up to 25 MB are scanned before delivery.",
               "Support can read a thread only while a case is open on it."],
        questions=["Should we allow voice notes in the inbox?",
                   "How long do we keep messages after an account is deleted?"],
        metrics=["median host response time", "messages per booking"],
    ),
    dict(
        slug="calendar", name="Calendar sync", component="calendar sync worker",
        actors=["hosts", "studio managers"], random_must=True,
        nt=[("Two-way sync with Google Calendar", "cal_story", "must"),
            "iCal export for hosts",
            "Blocking time for maintenance",
            "Seeing conflicts before accepting a request"],
        td=[("iCal feed import and parsing", "cal_ical", "must"),
            ("Google Calendar push notifications", "cal_push", "should"),
            "Sync conflict resolution",
            "Recurring blocks (RRULE subset)",
            "Calendar token storage and refresh"],
        facts=["External calendars are polled every 15 minutes when push is unavailable.",
               "Busy blocks from outside calendars hide slots but never reveal event details.",
               "All times are stored in UTC and shown in the studio's time zone.",
               "A conflict found after a booking is confirmed alerts the host at once."],
        questions=["Do we support Outlook calendars at launch?",
                   "Should imported blocks get their own buffer?"],
        metrics=["sync lag", "double-booking incidents"],
    ),
    dict(
        slug="reviews", name="Reviews & ratings", component="reviews service",
        actors=["guests", "hosts"], random_must=True,
        nt=[("Two-sided reviews after each session", "rev_story", "must"),
            "Review reminders",
            "Responding to a review as a host",
            "Reporting an unfair review"],
        td=[("Double-blind review reveal", "rev_blind", "must"),
            ("Rating aggregation with Bayesian smoothing", "rev_agg", "should"),
            "Review moderation queue",
            "Review eligibility rules"],
        facts=["Both sides have 14 days to review; reviews are revealed together or when the window closes.",
               "Only guests with a completed booking can review a studio.",
               "Ratings are smoothed so a single five-star review cannot top the charts.",
               "Hosts can reply once, publicly, to each review."],
        questions=["Do we show a rating before a studio has three reviews?",
                   "Should a cancelled booking allow a review?"],
        metrics=["review rate", "average rating drift"],
    ),
    dict(
        slug="trust", name="Trust & safety", component="trust service",
        actors=["hosts", "guests", "trust agents"], random_must=True,
        nt=[("Host identity verification", "trust_idv_gap", "must"),
            ("Reporting a user or a listing", "trust_report", "should"),
            "Safety tips in the inbox",
            "Warnings about paying off-platform",
            "Bans and appeals"],
        td=[("Fraud risk rules for new bookings", "trust_rules", "must"),
            ("Velocity limits on card attempts", "trust_velocity", "should"),
            "Device fingerprint signals",
            "Trust case data model",
            "Sanctions screening for hosts"],
        facts=["New accounts booking more than 500 euros in their first hour go to manual review.",
               "Card attempts are limited per account, device and card fingerprint.",
               "Hosts are verified with a government ID and a selfie before their first payout.",
               "Reports are triaged within 4 hours, safety reports within 30 minutes.",
               "Banned users keep read access to their receipts."],
        questions=["Which identity verification vendor do we use in the EU?",
                   "Do we verify guests on bookings above a certain amount?"],
        metrics=["fraud loss rate", "manual review rate", "report triage time"],
    ),
    dict(
        slug="notifications", name="Notifications & comms", component="notifications service",
        actors=["guests", "hosts"], random_must=True,
        nt=[("Booking confirmation by email and SMS", "notif_story", "must"),
            "Reminder 24 hours before a session",
            "Notification preferences center",
            "Quiet hours for hosts",
            "Push notifications on mobile"],
        td=[("Notification dispatch with channel fallback", "notif_dispatch", "must"),
            ("Email templates and localization", "notif_templates", "should"),
            "SMS provider failover",
            "Unsubscribe links and compliance headers",
            "Delivery receipts and bounce handling"],
        facts=["Transactional messages ignore marketing opt-outs but respect quiet hours for SMS.",
               "Email is the fallback channel when push or SMS fails.",
               "Templates exist in English, German, French and Spanish.",
               "Every message carries the booking reference code."],
        questions=["Do we send SMS where it costs more than the booking fee?",
                   "Should hosts get a daily digest instead of one email per message?"],
        metrics=["delivery rate", "bounce rate", "unsubscribe rate"],
    ),
    dict(
        slug="admin", name="Admin console", component="admin console",
        actors=["support agents", "finance staff", "trust agents"], random_must=True,
        nt=[("Support agent looks up a booking", "admin_lookup", "must"),
            "Issuing goodwill credits",
            "Listing takedown workflow",
            "Admin audit trail"],
        td=[("Role-based access for the admin console", "admin_rbac", "must"),
            "Refund approval queue",
            "Impersonation with consent and logging",
            "Bulk actions on listings"],
        facts=["Support agents search by booking reference, email address or phone number.",
               "Refunds above 300 euros need a second approver.",
               "Every admin action is written to an append-only audit log.",
               "Impersonation requires the user's consent and expires after 30 minutes."],
        questions=["Do finance staff get read-only access to payouts?",
                   "Who can lift a ban on a host?"],
        metrics=["time to resolve a ticket", "refunds issued by support"],
    ),
    dict(
        slug="help", name="Help center", component="help center",
        actors=["guests", "hosts", "support agents"], random_must=True,
        nt=[("Help center home and top questions", "help_home", "must"),
            "Contact support form",
            "Cancellation policy explainer",
            "Guides for new hosts"],
        td=[("Help article storage and search", "help_store", "should"),
            "Contextual help links in the product",
            "Deflection metrics for the support bot"],
        facts=["The help center answers the ten most common questions without a login.",
               "Articles are written in markdown and published without a deploy.",
               "The contact form asks for the booking reference first.",
               "Articles link to the policy version they describe."],
        questions=["Do we localize host guides at launch?",
                   "Should signed-in users see their own bookings on the help home?"],
        metrics=["self-service rate", "tickets per 100 bookings"],
    ),
    dict(
        slug="seo", name="SEO", component="web frontend",
        actors=["guests", "search engines"], random_must=True,
        nt=[("City landing pages for studio types", "seo_city", "must"),
            "Studio pages shared on social media",
            "A blog for creators"],
        td=[("Server-rendered landing pages with caching", "seo_ssr", "should"),
            ("Sitemaps and canonical URLs", "seo_sitemap", "should"),
            "Structured data for studios",
            "Hreflang for localized pages"],
        facts=["A landing page exists for each city and studio type with at least five listings.",
               "Thin pages with fewer than five listings are marked noindex.",
               "Canonical URLs never include filter parameters.",
               "Sitemaps are regenerated nightly and split at 50,000 URLs."],
        questions=["Do neighbourhood pages compete with city pages?",
                   "Should studio pages show prices to crawlers?"],
        metrics=["organic sessions", "indexed pages"],
    ),
    dict(
        slug="analytics", name="Analytics", component="analytics pipeline",
        actors=["hosts", "the founders", "the growth team"], random_must=False,
        nt=[("Host dashboard: views, requests and earnings", "an_hostdash", "should"),
            ("Marketplace health metrics", "an_health", "must"),
            "Funnel from search to booking",
            "Weekly founder report"],
        td=[("Event schema and tracking plan", "an_schema", "must"),
            ("Event ingestion with batching", "an_ingest", "should"),
            "Warehouse models for bookings and payouts",
            "PII handling in analytics events"],
        facts=["Every event has a name, a version, an actor and an occurred-at time in UTC.",
               "Events never contain email addresses, phone numbers or message text.",
               "Liquidity is the share of searches that end in a booking within 7 days.",
               "Client events are batched and sent at most every 10 seconds."],
        questions=["Do hosts see benchmarks against similar studios on their dashboard?",
                   "How long do we keep raw events?"],
        metrics=["search-to-booking liquidity", "repeat booking rate"],
    ),
    dict(
        slug="experiments", name="Experimentation", component="experiments service",
        actors=["the growth team", "guests"], random_must=True,
        nt=[("Testing a new search ranking on a slice of guests", "exp_story", "should"),
            "Holdout groups for fee changes",
            "Reading experiment results"],
        td=[("Deterministic assignment by hashed user ID", "exp_assign", "must"),
            ("Exposure logging", "exp_exposure", "should"),
            "Guardrail metrics and automatic stop",
            "Feature flags and kill switches"],
        facts=["Assignment is a pure function of the experiment key and the user ID, so it is stable across devices.",
               "Exposure is logged when a variant is rendered, not when it is assigned.",
               "Guardrails stop an experiment if checkout conversion drops by more than 2%.",
               "Fee experiments always keep a 5% holdout."],
        questions=["Are signed-out guests assigned by device ID?",
                   "Who may start an experiment that touches payments?"],
        metrics=["experiments shipped per month", "guardrail stops"],
    ),
    dict(
        slug="infra", name="Infrastructure", component="platform team",
        actors=["engineers", "on-call engineers", "the founders"], random_must=True,
        nt=[("Status page and incident communication", "infra_status", "should"),
            "Data residency in the EU",
            "Backups and restore drills"],
        td=[("Service health checks and readiness", "infra_health", "must"),
            ("CI pipeline and required checks", "infra_ci", "must"),
            ("Structured logging with redaction", "infra_logging", "must"),
            ("SLOs and alerting", "infra_slo", "should"),
            ("Rate limits at the API gateway", "infra_gateway", "must"),
            "Postgres migration policy",
            "Credential storage and rotation",
            "Staging environment parity"],
        facts=["Every service exposes /healthz for liveness and /readyz for readiness.",
               "A pull request cannot merge unless lint, unit tests and the spec check pass.",
               "Logs are JSON, one line per event, with tokens and card data redacted.",
               "Checkout and search have a 99.9% monthly availability SLO.",
               "Production data stays in the EU region."],
        questions=["Do we need a second region before launch?",
                   "How often do we run restore drills?"],
        metrics=["deploys per week", "change failure rate", "error budget remaining"],
    ),
    dict(
        slug="fansub", name="FanSub subscriptions", component="FanSub service",
        actors=["fans", "artists", "studio owners"], random_must=True,
        nt=[("Fans subscribe to a studio's session feed", "fan_story", "must"),
            "Tiers and perks for fans",
            "Behind-the-scenes posts for subscribers",
            "Gifting a subscription"],
        td=[("Subscription billing with Stripe Billing", "fan_billing", "must"),
            ("Entitlements service", "fan_entitle", "should"),
            "Content gating for posts",
            "Creator revenue share"],
        facts=["FanSub lets fans follow a studio's sessions and support the artists who record there.",
               "Tiers are monthly, with perks such as early access to session clips.",
               "Entitlements are checked on every post view and cached for five minutes.",
               "Creators receive their revenue share with the regular payout."],
        questions=["Do artists or studios own the subscriber relationship?",
                   "Can a fan pause a subscription?"],
        metrics=["active subscribers", "subscriber churn"],
    ),
    dict(
        slug="contracts", name="Smart docs & contracts", component="documents service",
        actors=["hosts", "guests", "artists"], random_must=True,
        nt=[("Studio rental agreement signed at checkout", "doc_story", "must"),
            "Release forms for recordings",
            "Contract templates for hosts"],
        td=[("Template rendering with merge fields", "doc_render", "should"),
            ("E-signature audit trail", "doc_audit", "must"),
            "Document storage and retention"],
        facts=["Smart docs fill the studio's rental agreement from the booking: names, times, price and rules.",
               "The guest signs during checkout; the signed PDF is attached to the booking.",
               "Each signature event records who signed, when, and a hash of the document.",
               "Hosts can upload their own template if it uses the supported merge fields."],
        questions=["Is click-to-sign acceptable in every launch country?",
                   "How long must signed documents be retained?"],
        metrics=["agreements signed at checkout", "template errors"],
    ),
]

NT_QUALIFIERS = ["on mobile", "edge cases", "in the EU", "for team accounts", "empty and error states",
                 "copy and tone", "launch scope", "later phases"]
TD_QUALIFIERS = ["data model", "API contract", "failure handling", "observability",
                 "migration plan", "rate limits", "idempotency", "caching", "backfill job",
                 "load profile", "security review"]
NT_LEADS = [
    "Describes “{T}” from the point of view of {a}.",
    "Product rules for “{T}”, including the edge cases support sees most often.",
    "What {a} should experience in “{T}”, on the web and in the mobile apps.",
    "Sets expectations for “{T}” so that {a} and {b} always see the same state.",
    "Explains “{T}” and the copy shown to {a} when something goes wrong.",
    "The story of “{T}” for {a}, step by step, including what happens when it fails.",
]
TD_LEADS = [
    "Technical design for {t} in the {c}.",
    "Specifies the data model, API and failure handling behind {t}.",
    "How the {c} implements {t}, with its limits and metrics.",
    "Design notes for {t}: storage, retries and the events it emits.",
    "Defines the contract between the {c} and its callers for {t}.",
    "Implementation plan for {t}, including tests and rollout in the {c}.",
]
# Topics a chunk may cross-reference besides its own.
RELATED = {
    "auth": ["profiles", "trust"], "profiles": ["auth", "listings"],
    "search": ["listings", "calendar", "experiments"], "listings": ["search", "booking", "profiles"],
    "booking": ["payments", "calendar", "listings"], "payments": ["booking", "payouts"],
    "payouts": ["payments", "trust"], "messaging": ["booking", "trust", "notifications"],
    "calendar": ["booking"], "reviews": ["booking", "trust"], "trust": ["payments", "messaging"],
    "notifications": ["booking", "messaging"], "admin": ["payments", "trust"],
    "help": ["booking", "admin"], "seo": ["search", "listings"], "analytics": ["experiments", "search"],
    "experiments": ["analytics"], "infra": ["auth", "payments"], "fansub": ["payments", "payouts"],
    "contracts": ["booking", "listings"],
}
PROPER_WORDS = {"Stripe", "Google", "Apple", "FanSub", "Postgres", "OAuth", "SLOs", "CI",
                "API", "E-signature", "iCal"}

# ---------------------------------------------------------------------------
# Code and test templates. @@key@@ becomes the ID of the chunk with that key,
# @@typo@@ becomes the deliberate near-miss ID (see README).
# ---------------------------------------------------------------------------
CODE: dict[str, str] = {}

CODE["services/auth/passwords.py"] = r'''
"""Passphrase hashing and account-recovery tokens.

Implements WBS-002 (signup, login and sessions).
Spec: @@auth_hash@@ (scrypt), @@auth_signup_story@@ (signup rules), @@auth_recovery@@ (recovery).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

# @@auth_hash@@: cost parameters. Raise SCRYPT_N when login p95 leaves room for it.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
MIN_LENGTH = 10
RECOVERY_TTL_SECONDS = 30 * 60


class WeakPassphrase(ValueError):
    """The passphrase does not meet the signup rules."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_strength(phrase: str, email: str) -> None:
    """Signup rules from @@auth_signup_story@@.

    At least ten characters, and not built around the local part of the email address.
    """
    if len(phrase) < MIN_LENGTH:
        raise WeakPassphrase(f"use at least {MIN_LENGTH} characters")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 3 and local in phrase.lower():
        raise WeakPassphrase("do not include your email address")


def hash_passphrase(phrase: str, salt: bytes | None = None) -> str:
    """Return a self-describing scrypt hash (@@auth_hash@@)."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(phrase.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_passphrase(phrase: str, stored: str) -> bool:
    """Constant-time comparison of a passphrase with a stored hash."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    _, n, r, p, salt, digest = parts
    candidate = hashlib.scrypt(
        phrase.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(candidate, _unb64(digest))


def needs_rehash(stored: str) -> bool:
    """True when a stored hash uses weaker parameters than today's (@@auth_hash@@)."""
    parts = stored.split("$")
    return len(parts) != 6 or parts[0] != "scrypt" or int(parts[1]) < SCRYPT_N


def _signing_key() -> bytes:
    return os.environ["AUTH_RECOVERY_SIGNING_KEY"].encode("utf-8")


def issue_recovery_token(user_id: str, now: float | None = None, key: bytes | None = None) -> str:
    """@@auth_recovery@@: a signed, expiring token sent to the account's verified address."""
    issued = int(time.time() if now is None else now)
    body = f"{user_id}.{issued}"
    sig = hmac.new(key or _signing_key(), body.encode("utf-8"), hashlib.sha256).digest()
    return f"{body}.{_b64(sig)}"


def redeem_recovery_token(token: str, now: float | None = None, key: bytes | None = None) -> str | None:
    """Return the user ID when the token is genuine and younger than 30 minutes."""
    try:
        user_id, issued, sig = token.rsplit(".", 2)
        issued_at = int(issued)
    except ValueError:
        return None
    expected = hmac.new(key or _signing_key(), f"{user_id}.{issued}".encode("utf-8"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _unb64(sig)):
        return None
    current = time.time() if now is None else now
    if current - issued_at > RECOVERY_TTL_SECONDS:
        return None
    return user_id
'''

CODE["services/auth/sessions.py"] = r'''
"""Login sessions and login throttling. Implements WBS-002.

Spec: @@auth_sessions@@ (tokens, rotation, revocation), @@auth_ratelimit@@ (throttling).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

IDLE_TIMEOUT = 12 * 3600
TRUSTED_DEVICE_LIFETIME = 30 * 24 * 3600


@dataclass
class Session:
    user_id: str
    token_hash: str
    created_at: float
    last_seen: float
    trusted_device: bool = False


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionStore:
    """In-memory store with the same contract as the Postgres-backed one (@@auth_sessions@@).

    Only a hash of each token is kept, so a copy of the table cannot be replayed.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def issue(self, user_id: str, now: float, trusted_device: bool = False) -> str:
        token = secrets.token_urlsafe(32)
        digest = _hash(token)
        self._sessions[digest] = Session(user_id, digest, now, now, trusted_device)
        return token

    def lookup(self, token: str, now: float) -> Session | None:
        session = self._sessions.get(_hash(token))
        if session is None:
            return None
        limit = TRUSTED_DEVICE_LIFETIME if session.trusted_device else IDLE_TIMEOUT
        if now - session.last_seen > limit:
            del self._sessions[session.token_hash]
            return None
        session.last_seen = now
        return session

    def rotate(self, token: str, now: float) -> str | None:
        """Swap a valid token for a fresh one, e.g. after a role change (@@auth_sessions@@)."""
        session = self.lookup(token, now)
        if session is None:
            return None
        del self._sessions[session.token_hash]
        return self.issue(session.user_id, now, session.trusted_device)

    def revoke_all(self, user_id: str) -> int:
        """Sign a user out everywhere, e.g. after a passphrase change. Returns the count."""
        doomed = [h for h, s in self._sessions.items() if s.user_id == user_id]
        for digest in doomed:
            del self._sessions[digest]
        return len(doomed)


class LoginThrottle:
    """@@auth_ratelimit@@: five failures within 15 minutes lock the account for 15 minutes."""

    MAX_FAILURES = 5
    WINDOW = 15 * 60
    LOCKOUT = 15 * 60

    def __init__(self) -> None:
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}

    def is_locked(self, account: str, now: float) -> bool:
        return self._locked_until.get(account, 0.0) > now

    def record_failure(self, account: str, now: float) -> bool:
        """Record a failed attempt; returns True when the account is now locked."""
        recent = [t for t in self._failures.get(account, []) if now - t < self.WINDOW]
        recent.append(now)
        self._failures[account] = recent
        if len(recent) >= self.MAX_FAILURES:
            self._locked_until[account] = now + self.LOCKOUT
            self._failures[account] = []
            return True
        return False

    def record_success(self, account: str) -> None:
        self._failures.pop(account, None)
        self._locked_until.pop(account, None)
'''

CODE["tests/python/test_auth.py"] = r'''
"""Tests for WBS-002: @@auth_hash@@, @@auth_sessions@@, @@auth_ratelimit@@, @@auth_signup_story@@, @@auth_recovery@@."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.auth import passwords  # noqa: E402
from services.auth.sessions import LoginThrottle, SessionStore  # noqa: E402

TEST_SIGNER = b"unit-test-signer"


class PassphraseTests(unittest.TestCase):
    # @@auth_hash@@
    def test_hash_round_trip(self):
        stored = passwords.hash_passphrase("violet studio lamp", salt=b"0123456789abcdef")
        self.assertTrue(stored.startswith("scrypt$"))
        self.assertTrue(passwords.verify_passphrase("violet studio lamp", stored))
        self.assertFalse(passwords.verify_passphrase("violet studio lamb", stored))

    def test_salt_makes_hashes_differ(self):
        a = passwords.hash_passphrase("violet studio lamp", salt=b"a" * 16)
        b = passwords.hash_passphrase("violet studio lamp", salt=b"b" * 16)
        self.assertNotEqual(a, b)

    def test_old_parameters_need_rehash(self):
        self.assertTrue(passwords.needs_rehash("scrypt$1024$8$1$AAAA$AAAA"))
        self.assertTrue(passwords.needs_rehash("md5$whatever"))

    # @@auth_signup_story@@
    def test_short_phrase_rejected(self):
        with self.assertRaises(passwords.WeakPassphrase):
            passwords.check_strength("tiny", "mara@example.com")

    def test_phrase_with_email_rejected(self):
        with self.assertRaises(passwords.WeakPassphrase):
            passwords.check_strength("mara-records-2026", "mara@example.com")
        passwords.check_strength("late night mixing", "mara@example.com")


class RecoveryTests(unittest.TestCase):
    # @@auth_recovery@@
    def test_token_redeems_within_ttl(self):
        token = passwords.issue_recovery_token("usr_17", now=1_000_000, key=TEST_SIGNER)
        self.assertEqual(passwords.redeem_recovery_token(token, now=1_000_600, key=TEST_SIGNER), "usr_17")

    def test_token_expires_and_resists_tampering(self):
        token = passwords.issue_recovery_token("usr_17", now=1_000_000, key=TEST_SIGNER)
        self.assertIsNone(passwords.redeem_recovery_token(token, now=1_003_000, key=TEST_SIGNER))
        forged = token.replace("usr_17", "usr_18")
        self.assertIsNone(passwords.redeem_recovery_token(forged, now=1_000_010, key=TEST_SIGNER))


class SessionTests(unittest.TestCase):
    # @@auth_sessions@@
    def test_rotation_invalidates_old_token(self):
        store = SessionStore()
        old = store.issue("usr_1", now=0)
        new = store.rotate(old, now=60)
        self.assertIsNotNone(new)
        self.assertIsNone(store.lookup(old, now=61))
        self.assertEqual(store.lookup(new, now=62).user_id, "usr_1")

    def test_idle_timeout_and_trusted_devices(self):
        store = SessionStore()
        short = store.issue("usr_1", now=0)
        trusted = store.issue("usr_1", now=0, trusted_device=True)
        self.assertIsNone(store.lookup(short, now=13 * 3600))
        self.assertIsNotNone(store.lookup(trusted, now=13 * 3600))
        self.assertEqual(store.revoke_all("usr_1"), 1)


class ThrottleTests(unittest.TestCase):
    # @@auth_ratelimit@@
    def test_five_failures_lock_the_account(self):
        throttle = LoginThrottle()
        results = [throttle.record_failure("mara@example.com", now=t) for t in range(5)]
        self.assertEqual(results, [False, False, False, False, True])
        self.assertTrue(throttle.is_locked("mara@example.com", now=10))
        self.assertFalse(throttle.is_locked("mara@example.com", now=10 + 15 * 60))


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/profiles/profile.py"] = r'''
"""Profiles for hosts and guests. Implements WBS-003.

Spec: @@prof_schema@@ (schema and handles), @@prof_public@@ (public page),
@@prof_avatar@@ (avatar variants), @@prof_guest@@ (guest portfolio).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# @@prof_schema@@: 3-30 characters, lowercase letters, digits and inner hyphens.
HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$")
RESERVED_HANDLES = frozenset({"admin", "support", "help", "studios", "api", "www", "fansub"})
AVATAR_SIZES = (64, 192, 512)
MAX_PORTFOLIO_LINKS = 5


def normalize_handle(raw: str) -> str:
    return raw.strip().lower()


def validate_handle(raw: str, taken: set[str]) -> str:
    """Return the normalized handle or raise ValueError with a message for the form."""
    handle = normalize_handle(raw)
    if not HANDLE_RE.match(handle) or "--" in handle:
        raise ValueError("handles use 3-30 lowercase letters, digits and single hyphens")
    if handle in RESERVED_HANDLES:
        raise ValueError("that handle is reserved")
    if handle in taken:
        raise ValueError("that handle is taken")
    return handle


@dataclass
class Profile:
    user_id: str
    handle: str
    display_name: str
    role: str  # "host" or "guest"
    email: str
    phone: str | None = None
    bio: str = ""
    city: str | None = None
    avatar_key: str | None = None
    portfolio_links: list[str] = field(default_factory=list)
    verified: bool = False

    def public_view(self) -> dict:
        """@@prof_public@@: what anyone can see. Never the email address or phone number."""
        view = {
            "handle": self.handle,
            "display_name": self.display_name,
            "role": self.role,
            "bio": self.bio,
            "city": self.city,
            "verified": self.verified,
            "avatar": avatar_variants(self.avatar_key) if self.avatar_key else None,
        }
        if self.role == "guest":
            view["portfolio"] = list(self.portfolio_links)
        return view

    def completeness(self) -> int:
        """Percentage shown in the profile nudge."""
        checks = [bool(self.bio), bool(self.city), bool(self.avatar_key), self.verified]
        return round(100 * sum(checks) / len(checks))


def add_portfolio_link(profile: Profile, url: str) -> None:
    """@@prof_guest@@: https links only, at most five, no duplicates."""
    if not url.startswith("https://"):
        raise ValueError("portfolio links must start with https://")
    if url in profile.portfolio_links:
        return
    if len(profile.portfolio_links) >= MAX_PORTFOLIO_LINKS:
        raise ValueError(f"at most {MAX_PORTFOLIO_LINKS} portfolio links")
    profile.portfolio_links.append(url)


def avatar_variants(avatar_key: str) -> dict[int, str]:
    """@@prof_avatar@@: storage keys of the square variants made at upload time."""
    return {size: f"avatars/{avatar_key}/{size}.webp" for size in AVATAR_SIZES}
'''

CODE["tests/python/test_profiles.py"] = r'''
"""Tests for WBS-003 profiles: @@prof_schema@@, @@prof_public@@, @@prof_avatar@@, @@prof_guest@@."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.profiles.profile import Profile, add_portfolio_link, avatar_variants, validate_handle  # noqa: E402


def host(**overrides):
    fields = dict(user_id="usr_9", handle="northside-sound", display_name="Northside Sound",
                  role="host", email="bookings@northside.example", phone="+49 30 0000000")
    fields.update(overrides)
    return Profile(**fields)


class HandleTests(unittest.TestCase):
    # @@prof_schema@@
    def test_valid_handles(self):
        self.assertEqual(validate_handle("  Northside-Sound ", taken=set()), "northside-sound")

    def test_invalid_reserved_and_taken(self):
        for bad in ["ab", "-lead", "trail-", "double--dash", "x" * 31]:
            with self.assertRaises(ValueError, msg=bad):
                validate_handle(bad, taken=set())
        with self.assertRaises(ValueError):
            validate_handle("support", taken=set())
        with self.assertRaises(ValueError):
            validate_handle("blue-room", taken={"blue-room"})


class PublicViewTests(unittest.TestCase):
    # @@prof_public@@
    def test_public_view_hides_contact_details(self):
        view = host().public_view()
        self.assertNotIn("email", view)
        self.assertNotIn("phone", view)
        self.assertEqual(view["handle"], "northside-sound")

    # @@prof_avatar@@
    def test_avatar_variants(self):
        self.assertEqual(sorted(avatar_variants("a1")), [64, 192, 512])
        self.assertEqual(host(avatar_key="a1").public_view()["avatar"][64], "avatars/a1/64.webp")


class PortfolioTests(unittest.TestCase):
    # @@prof_guest@@
    def test_portfolio_rules(self):
        guest = host(role="guest", handle="mara-k")
        add_portfolio_link(guest, "https://tracks.example/mara/demo-1")
        add_portfolio_link(guest, "https://tracks.example/mara/demo-1")
        self.assertEqual(len(guest.portfolio_links), 1)
        with self.assertRaises(ValueError):
            add_portfolio_link(guest, "http://insecure.example")
        for i in range(2, 6):
            add_portfolio_link(guest, f"https://tracks.example/mara/demo-{i}")
        with self.assertRaises(ValueError):
            add_portfolio_link(guest, "https://tracks.example/mara/demo-6")
        self.assertEqual(len(guest.public_view()["portfolio"]), 5)


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/analytics/events.py"] = r'''
"""Analytics events: tracking plan, batching and marketplace health. Implements WBS-004.

Spec: @@an_schema@@ (event schema), @@an_ingest@@ (batched ingestion), @@an_health@@ (health metrics).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

# Properties that must never reach the warehouse.
FORBIDDEN_PROPERTIES = frozenset({"email", "phone", "message_text", "card_number"})


@dataclass(frozen=True)
class EventSpec:
    name: str
    version: int
    required: tuple[str, ...]


# @@an_schema@@: the tracking plan; bump the version when a required property changes.
TRACKING_PLAN = {
    spec.name: spec
    for spec in (
        EventSpec("search_performed", 1, ("city", "result_count")),
        EventSpec("listing_viewed", 1, ("listing_id",)),
        EventSpec("booking_requested", 1, ("listing_id", "booking_id")),
        EventSpec("booking_confirmed", 2, ("listing_id", "booking_id", "amount_minor", "currency")),
    )
}


def validate(event: dict) -> list[str]:
    """Return a list of problems; an empty list means the event may be sent."""
    problems = []
    spec = TRACKING_PLAN.get(event.get("name", ""))
    if spec is None:
        return [f"unknown event {event.get('name')!r}"]
    if event.get("version") != spec.version:
        problems.append(f"{spec.name} is version {spec.version}")
    props = event.get("properties", {})
    problems += [f"missing property {p}" for p in spec.required if p not in props]
    problems += [f"forbidden property {p}" for p in sorted(FORBIDDEN_PROPERTIES & set(props))]
    if "occurred_at" not in event:
        problems.append("missing occurred_at")
    return problems


class Batcher:
    """@@an_ingest@@: buffer events and flush by size or age (10 s)."""

    def __init__(self, sink: Callable[[list[dict]], None], max_size: int = 50, max_age: float = 10.0):
        self._sink = sink
        self._max_size = max_size
        self._max_age = max_age
        self._buffer: list[dict] = []
        self._opened_at: float | None = None

    def add(self, event: dict, now: float) -> None:
        if validate(event):
            return  # invalid events are dropped here and counted by the client
        if self._opened_at is None:
            self._opened_at = now
        self._buffer.append(event)
        if len(self._buffer) >= self._max_size or now - self._opened_at >= self._max_age:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._sink(self._buffer)
        self._buffer = []
        self._opened_at = None


def health_snapshot(events: Iterable[dict]) -> dict:
    """@@an_health@@: searches, views, bookings and liquidity for the founder report."""
    counts = {"search_performed": 0, "listing_viewed": 0, "booking_confirmed": 0}
    for event in events:
        if event.get("name") in counts:
            counts[event["name"]] += 1
    searches = counts["search_performed"]
    liquidity = counts["booking_confirmed"] / searches if searches else 0.0
    return {
        "searches": searches,
        "views": counts["listing_viewed"],
        "bookings": counts["booking_confirmed"],
        "liquidity": round(liquidity, 4),
    }
'''

CODE["tests/python/test_analytics.py"] = r'''
"""Tests for WBS-004 analytics: @@an_schema@@, @@an_ingest@@, @@an_health@@."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.analytics.events import Batcher, health_snapshot, validate  # noqa: E402


def search_event(city="berlin"):
    return {"name": "search_performed", "version": 1, "occurred_at": "2026-11-20T10:00:00Z",
            "properties": {"city": city, "result_count": 12}}


class SchemaTests(unittest.TestCase):
    # @@an_schema@@
    def test_valid_event(self):
        self.assertEqual(validate(search_event()), [])

    def test_pii_is_rejected(self):
        event = search_event()
        event["properties"]["email"] = "someone@example.com"
        self.assertIn("forbidden property email", validate(event))


class BatcherTests(unittest.TestCase):
    # @@an_ingest@@
    def test_flush_by_size_and_age(self):
        batches = []
        batcher = Batcher(batches.append, max_size=3, max_age=10.0)
        for t in range(3):
            batcher.add(search_event(), now=t)
        self.assertEqual(len(batches), 1)
        batcher.add(search_event(), now=20)
        batcher.add(search_event(), now=31)
        self.assertEqual([len(b) for b in batches], [3, 2])


class HealthTests(unittest.TestCase):
    # @@an_health@@
    def test_liquidity(self):
        events = [search_event() for _ in range(4)] + [{"name": "booking_confirmed"}]
        self.assertEqual(health_snapshot(events)["liquidity"], 0.25)
        self.assertEqual(health_snapshot([])["liquidity"], 0.0)


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/listings/studio.py"] = r'''
"""Studio listings: lifecycle, drafts and publish rules. Implements WBS-005.

Spec: @@list_model@@ (data model and states), @@list_create@@ (fast listing creation),
@@list_validate@@ (publish validation), @@list_photos@@ (photo rules), @@list_rules@@ (house rules).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import Enum

_ids = itertools.count(1)

# @@list_rules@@: hours before the session until which the guest gets a full refund.
CANCELLATION_POLICIES = {"flexible": 48, "moderate": 120, "strict": 336}
MIN_PHOTOS = 3


class ListingState(str, Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"
    ARCHIVED = "archived"


# @@list_model@@: allowed lifecycle transitions.
ALLOWED_TRANSITIONS = {
    ListingState.DRAFT: {ListingState.PUBLISHED, ListingState.ARCHIVED},
    ListingState.PUBLISHED: {ListingState.PAUSED, ListingState.ARCHIVED},
    ListingState.PAUSED: {ListingState.PUBLISHED, ListingState.ARCHIVED},
    ListingState.ARCHIVED: set(),
}


@dataclass
class Listing:
    listing_id: str
    host_id: str
    title: str
    city: str
    address: str = ""
    hourly_rate_minor: int = 0
    currency: str = "EUR"
    photos: list[str] = field(default_factory=list)
    house_rules: list[str] = field(default_factory=list)
    cancellation_policy: str = "moderate"
    rooms: int = 1
    state: ListingState = ListingState.DRAFT


def create_draft(host_id: str, title: str, city: str) -> Listing:
    """@@list_create@@: the first screen asks only for a title and a city."""
    return Listing(listing_id=f"lst_{next(_ids):05d}", host_id=host_id, title=title.strip(), city=city)


def publish_problems(listing: Listing) -> list[str]:
    """@@list_validate@@: everything that blocks publishing, in the order the form shows it."""
    problems = []
    if len(listing.title) < 8:
        problems.append("title needs at least 8 characters")
    if not listing.address:
        problems.append("address is missing")
    if listing.hourly_rate_minor <= 0:
        problems.append("set an hourly rate")
    # @@list_photos@@: three photos minimum, so guests can judge the room.
    if len(listing.photos) < MIN_PHOTOS:
        problems.append(f"add at least {MIN_PHOTOS} photos")
    if listing.cancellation_policy not in CANCELLATION_POLICIES:
        problems.append("choose a cancellation policy")
    return problems


def transition(listing: Listing, target: ListingState) -> None:
    if target not in ALLOWED_TRANSITIONS[listing.state]:
        raise ValueError(f"cannot move a {listing.state.value} listing to {target.value}")
    if target is ListingState.PUBLISHED:
        problems = publish_problems(listing)
        if problems:
            raise ValueError("; ".join(problems))
    listing.state = target


def public_address(listing: Listing, booking_confirmed: bool) -> str:
    """The exact address only after a confirmed booking; otherwise the city."""
    return listing.address if booking_confirmed else listing.city
'''

CODE["services/listings/pricing.py"] = r'''
"""Hourly pricing with peak multipliers and day-rate caps. Implements WBS-005.

Spec: @@list_pricing@@ (price calculation), @@list_pricing_story@@ (hourly and day rates).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PEAK_START_HOUR = 18
MAX_MULTIPLIER = 2.0
DAY_RATE_HOURS = 8


@dataclass(frozen=True)
class RateCard:
    hourly_minor: int
    day_rate_minor: int | None = None
    peak_multiplier: float = 1.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.peak_multiplier <= MAX_MULTIPLIER:
            raise ValueError("peak multiplier must be between 1.0 and 2.0")


def is_peak(hour_start: datetime) -> bool:
    """Evenings from 18:00 and all of Saturday and Sunday are peak hours."""
    return hour_start.weekday() >= 5 or hour_start.hour >= PEAK_START_HOUR


def quote(card: RateCard, start: datetime, end: datetime) -> int:
    """@@list_pricing@@: price of a booking in minor units.

    Bookings are whole hours. From eight hours on, the day rate caps the total
    (@@list_pricing_story@@).
    """
    hours = (end - start) / timedelta(hours=1)
    if hours <= 0 or hours != int(hours):
        raise ValueError("bookings are whole hours")
    total = 0
    for i in range(int(hours)):
        hour_start = start + timedelta(hours=i)
        rate = card.hourly_minor * (card.peak_multiplier if is_peak(hour_start) else 1.0)
        total += round(rate)
    if card.day_rate_minor is not None and hours >= DAY_RATE_HOURS:
        total = min(total, card.day_rate_minor)
    return total
'''

CODE["tests/python/test_listings.py"] = r'''
"""Tests for WBS-005 listings.

Covers @@list_model@@, @@list_create@@, @@list_validate@@, @@list_photos@@, @@list_rules@@,
@@list_pricing@@ and @@list_pricing_story@@.
"""
import sys
import unittest
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.listings import pricing, studio  # noqa: E402
from services.listings.studio import ListingState  # noqa: E402


def ready_listing():
    listing = studio.create_draft("host_4", "Live room with Neve console", "Berlin")
    listing.address = "Hauptstrasse 1"
    listing.hourly_rate_minor = 4500
    listing.photos = ["p1.jpg", "p2.jpg", "p3.jpg"]
    return listing


class LifecycleTests(unittest.TestCase):
    # @@list_create@@ @@list_model@@
    def test_new_listing_is_a_draft(self):
        listing = studio.create_draft("host_4", "  Live room  ", "Berlin")
        self.assertEqual(listing.state, ListingState.DRAFT)
        self.assertEqual(listing.title, "Live room")

    def test_publish_pause_archive(self):
        listing = ready_listing()
        studio.transition(listing, ListingState.PUBLISHED)
        studio.transition(listing, ListingState.PAUSED)
        studio.transition(listing, ListingState.ARCHIVED)
        with self.assertRaises(ValueError):
            studio.transition(listing, ListingState.PUBLISHED)

    # @@list_validate@@ @@list_photos@@
    def test_publish_needs_three_photos(self):
        listing = ready_listing()
        listing.photos = listing.photos[:2]
        self.assertIn("add at least 3 photos", studio.publish_problems(listing))
        with self.assertRaises(ValueError):
            studio.transition(listing, ListingState.PUBLISHED)

    # @@list_rules@@
    def test_unknown_policy_and_address_privacy(self):
        listing = ready_listing()
        listing.cancellation_policy = "whenever"
        self.assertIn("choose a cancellation policy", studio.publish_problems(listing))
        self.assertEqual(studio.public_address(listing, booking_confirmed=False), "Berlin")
        self.assertEqual(studio.public_address(listing, booking_confirmed=True), "Hauptstrasse 1")


class PricingTests(unittest.TestCase):
    # @@list_pricing@@
    def test_peak_hours_use_multiplier(self):
        card = pricing.RateCard(hourly_minor=4000, peak_multiplier=1.5)
        weekday_evening = datetime(2026, 11, 24, 17, 0)
        self.assertEqual(pricing.quote(card, weekday_evening, datetime(2026, 11, 24, 19, 0)), 4000 + 6000)

    # @@list_pricing_story@@
    def test_day_rate_caps_long_bookings(self):
        card = pricing.RateCard(hourly_minor=4000, day_rate_minor=25000)
        start = datetime(2026, 11, 24, 9, 0)
        self.assertEqual(pricing.quote(card, start, datetime(2026, 11, 24, 17, 0)), 25000)
        with self.assertRaises(ValueError):
            pricing.quote(card, start, datetime(2026, 11, 24, 9, 30))
        with self.assertRaises(ValueError):
            pricing.RateCard(hourly_minor=100, peak_multiplier=3.0)


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/booking/availability.py"] = r'''
"""Availability and slot holds. Implements WBS-009.

Spec: @@book_avail@@ (availability from hours, bookings and buffers), @@book_hold@@ (15-minute holds).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

HOLD_SECONDS = 15 * 60
DEFAULT_BUFFER = timedelta(minutes=30)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end

    def widened(self, by: timedelta) -> "Interval":
        return Interval(self.start - by, self.end + by)


def open_slots(
    opens: datetime,
    closes: datetime,
    busy: list[Interval],
    length: timedelta,
    buffer: timedelta = DEFAULT_BUFFER,
    step: timedelta = timedelta(hours=1),
) -> list[Interval]:
    """@@book_avail@@: bookable slots of `length` inside opening hours.

    A slot is free when it does not overlap any busy interval widened by the studio's buffer.
    Busy intervals come from confirmed bookings, holds and synced external calendars.
    """
    slots = []
    cursor = opens
    while cursor + length <= closes:
        candidate = Interval(cursor, cursor + length)
        if not any(candidate.overlaps(b.widened(buffer)) for b in busy):
            slots.append(candidate)
        cursor += step
    return slots


class HoldBook:
    """@@book_hold@@: a slot is held for 15 minutes while the guest pays."""

    def __init__(self) -> None:
        self._holds: dict[tuple[str, Interval], tuple[str, float]] = {}

    def place(self, listing_id: str, slot: Interval, booking_id: str, now: float) -> bool:
        self.release_expired(now)
        for (other_listing, other_slot), _ in self._holds.items():
            if other_listing == listing_id and other_slot.overlaps(slot):
                return False
        self._holds[(listing_id, slot)] = (booking_id, now + HOLD_SECONDS)
        return True

    def release_expired(self, now: float) -> int:
        expired = [k for k, (_, until) in self._holds.items() if until <= now]
        for key in expired:
            del self._holds[key]
        return len(expired)

    def holder(self, listing_id: str, slot: Interval, now: float) -> str | None:
        self.release_expired(now)
        entry = self._holds.get((listing_id, slot))
        return entry[0] if entry else None
'''

CODE["services/booking/checkout.py"] = r'''
"""Checkout state machine for studio bookings. Implements WBS-009.

Spec: @@book_sm@@ (state machine), @@book_checkout_story@@ (three-step checkout),
@@book_modes@@ (instant book vs request to book), @@book_cancel@@ and @@book_refund_calc@@
(cancellation refunds).

Run `python3 -m services.booking.checkout --smoke` from the workspace root for a smoke check.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

# @@book_checkout_story@@
STEPS = ("time_and_addons", "details", "payment")


class State(str, Enum):
    QUOTED = "quoted"
    HELD = "held"
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# @@book_sm@@: every allowed move; anything else is a bug and raises.
TRANSITIONS = {
    State.QUOTED: {State.HELD},
    State.HELD: {State.CONFIRMED, State.REQUESTED, State.EXPIRED},
    State.REQUESTED: {State.CONFIRMED, State.DECLINED, State.EXPIRED},
    State.CONFIRMED: {State.CANCELLED},
    State.DECLINED: set(),
    State.EXPIRED: set(),
    State.CANCELLED: set(),
}

# @@book_refund_calc@@: (hours before the session, share refunded), checked top-down.
REFUND_TIERS = {
    "flexible": [(48, 1.0), (0, 0.5)],
    "moderate": [(120, 1.0), (48, 0.5), (0, 0.0)],
    "strict": [(336, 0.5), (0, 0.0)],
}


class PaymentPort(Protocol):
    def authorize(self, booking_id: str, amount_minor: int, currency: str, capture: bool) -> str: ...
    def refund(self, payment_ref: str, amount_minor: int) -> None: ...


@dataclass
class Booking:
    booking_id: str
    listing_id: str
    amount_minor: int
    currency: str
    starts_at: datetime
    instant: bool
    policy: str = "moderate"
    state: State = State.QUOTED
    payment_ref: str | None = None
    history: list[str] = field(default_factory=list)

    def move(self, target: State) -> None:
        if target not in TRANSITIONS[self.state]:
            raise ValueError(f"{self.booking_id}: {self.state.value} -> {target.value} is not allowed")
        self.history.append(f"{self.state.value}->{target.value}")
        self.state = target


def refund_for(policy: str, amount_minor: int, hours_before: float) -> int:
    """@@book_cancel@@: the refund a guest gets when cancelling `hours_before` the session."""
    for threshold, share in REFUND_TIERS[policy]:
        if hours_before >= threshold:
            return int(amount_minor * share)
    return 0


class Checkout:
    def __init__(self, payments: PaymentPort) -> None:
        self._payments = payments

    def hold(self, booking: Booking) -> None:
        booking.move(State.HELD)

    def pay(self, booking: Booking) -> None:
        """@@book_modes@@: instant book captures now; request to book only authorizes."""
        booking.payment_ref = self._payments.authorize(
            booking.booking_id, booking.amount_minor, booking.currency, capture=booking.instant
        )
        booking.move(State.CONFIRMED if booking.instant else State.REQUESTED)

    def host_decision(self, booking: Booking, accept: bool) -> None:
        booking.move(State.CONFIRMED if accept else State.DECLINED)

    def cancel(self, booking: Booking, now: datetime) -> int:
        hours_before = (booking.starts_at - now).total_seconds() / 3600
        refund = refund_for(booking.policy, booking.amount_minor, hours_before)
        booking.move(State.CANCELLED)
        if refund and booking.payment_ref:
            self._payments.refund(booking.payment_ref, refund)
        return refund


class _RecordingPayments:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def authorize(self, booking_id, amount_minor, currency, capture):
        self.calls.append(("authorize", booking_id, amount_minor, currency, capture))
        return f"pay_{booking_id}"

    def refund(self, payment_ref, amount_minor):
        self.calls.append(("refund", payment_ref, amount_minor))


def _smoke() -> int:
    payments = _RecordingPayments()
    checkout = Checkout(payments)
    booking = Booking("bk_smoke", "lst_00001", 9000, "EUR", datetime(2026, 12, 1, 10), instant=True)
    checkout.hold(booking)
    checkout.pay(booking)
    refund = checkout.cancel(booking, now=datetime(2026, 11, 20, 10))
    ok = booking.state is State.CANCELLED and refund == 9000 and len(payments.calls) == 2
    print("checkout smoke:", "ok" if ok else "FAILED", booking.history)
    return 0 if ok else 1


if __name__ == "__main__" and "--smoke" in sys.argv:
    sys.exit(_smoke())
'''

CODE["tests/python/test_booking.py"] = r'''
"""Tests for WBS-009 booking and checkout.

@@book_avail@@ @@book_hold@@ @@book_sm@@ @@book_checkout_story@@ @@book_modes@@ @@book_cancel@@ @@book_refund_calc@@
"""
import sys
import unittest
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.booking.availability import HoldBook, Interval, open_slots  # noqa: E402
from services.booking.checkout import STEPS, Booking, Checkout, State, refund_for  # noqa: E402


class FakePayments:
    def __init__(self):
        self.calls = []

    def authorize(self, booking_id, amount_minor, currency, capture):
        self.calls.append(("authorize", capture))
        return "pay_1"

    def refund(self, payment_ref, amount_minor):
        self.calls.append(("refund", amount_minor))


def day(h, m=0):
    return datetime(2026, 11, 24, h, m)


class AvailabilityTests(unittest.TestCase):
    # @@book_avail@@
    def test_buffer_hides_adjacent_slots(self):
        busy = [Interval(day(12), day(14))]
        slots = open_slots(day(9), day(18), busy, timedelta(hours=2))
        starts = [s.start.hour for s in slots]
        self.assertEqual(starts, [9, 15, 16])

    # @@book_hold@@
    def test_hold_blocks_then_expires(self):
        holds = HoldBook()
        slot = Interval(day(10), day(12))
        self.assertTrue(holds.place("lst_1", slot, "bk_a", now=0))
        self.assertFalse(holds.place("lst_1", Interval(day(11), day(13)), "bk_b", now=60))
        self.assertEqual(holds.holder("lst_1", slot, now=60), "bk_a")
        self.assertIsNone(holds.holder("lst_1", slot, now=15 * 60))
        self.assertTrue(holds.place("lst_1", Interval(day(11), day(13)), "bk_b", now=15 * 60 + 1))


class CheckoutTests(unittest.TestCase):
    def booking(self, instant):
        return Booking("bk_1", "lst_1", 12000, "EUR", datetime(2026, 12, 10, 10), instant=instant)

    # @@book_checkout_story@@
    def test_three_steps(self):
        self.assertEqual(len(STEPS), 3)

    # @@book_modes@@ @@book_sm@@
    def test_instant_book_confirms_on_payment(self):
        payments = FakePayments()
        booking = self.booking(instant=True)
        checkout = Checkout(payments)
        checkout.hold(booking)
        checkout.pay(booking)
        self.assertEqual(booking.state, State.CONFIRMED)
        self.assertEqual(payments.calls, [("authorize", True)])

    def test_request_to_book_waits_for_host(self):
        booking = self.booking(instant=False)
        checkout = Checkout(FakePayments())
        checkout.hold(booking)
        checkout.pay(booking)
        self.assertEqual(booking.state, State.REQUESTED)
        checkout.host_decision(booking, accept=False)
        self.assertEqual(booking.state, State.DECLINED)
        with self.assertRaises(ValueError):
            booking.move(State.CONFIRMED)

    # @@book_cancel@@ @@book_refund_calc@@
    def test_refund_tiers(self):
        self.assertEqual(refund_for("flexible", 10000, hours_before=72), 10000)
        self.assertEqual(refund_for("flexible", 10000, hours_before=10), 5000)
        self.assertEqual(refund_for("moderate", 10000, hours_before=60), 5000)
        self.assertEqual(refund_for("strict", 10000, hours_before=100), 0)

    def test_cancel_refunds_through_payments(self):
        payments = FakePayments()
        booking = self.booking(instant=True)
        checkout = Checkout(payments)
        checkout.hold(booking)
        checkout.pay(booking)
        refund = checkout.cancel(booking, now=booking.starts_at - timedelta(days=10))
        self.assertEqual(refund, 12000)
        self.assertEqual(payments.calls[-1], ("refund", 12000))


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/payments/stripe_gateway.py"] = r'''
"""Stripe gateway for booking payments. Implements WBS-010.

Spec: @@pay_boundary@@ (service boundaries), @@pay_pi@@ (PaymentIntents), @@pay_idem@@ (idempotency),
@@pay_minor@@ (minor units), @@pay_story@@ (cards and wallets).

Only this module talks to Stripe. The API key is read from the STRIPE_API_KEY environment
variable at call time; it is never logged and never returned to callers.
Run `python3 -m services.payments.stripe_gateway --dry-run` for an offline smoke check.
"""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Protocol

API_BASE = "https://api.stripe.com/v1"
STRIPE_VERSION = "2024-06-20"
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP"})


class Transport(Protocol):
    def __call__(self, method: str, url: str, form: dict[str, str], headers: dict[str, str]) -> dict: ...


def to_minor_units(amount: Decimal | str, currency: str) -> int:
    """@@pay_minor@@: 12.50 EUR -> 1250; 1200 JPY -> 1200."""
    value = Decimal(str(amount))
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def idempotency_key(booking_id: str, operation: str, attempt: int) -> str:
    """@@pay_idem@@: the same booking, operation and attempt always give the same key."""
    digest = hashlib.sha256(f"{booking_id}:{operation}:{attempt}".encode("utf-8")).hexdigest()
    return f"bk-{digest[:32]}"


@dataclass(frozen=True)
class IntentResult:
    intent_id: str
    status: str
    amount_minor: int
    currency: str


def _env_credentials() -> str:
    return os.environ["STRIPE_API_KEY"]


class StripeGateway:
    """Thin client over the Stripe REST API (@@pay_pi@@). All I/O goes through `transport`."""

    def __init__(self, transport: Transport, credentials: Callable[[], str] = _env_credentials) -> None:
        self._transport = transport
        self._credentials = credentials

    def _headers(self, key: str) -> dict[str, str]:
        return {
            "Authorization": "Bearer " + self._credentials(),
            "Idempotency-Key": key,
            "Stripe-Version": STRIPE_VERSION,
        }

    def create_payment_intent(
        self, booking_id: str, amount_minor: int, currency: str, manual_capture: bool, attempt: int = 1
    ) -> IntentResult:
        """@@pay_pi@@ @@pay_story@@: one PaymentIntent per booking attempt.

        Automatic payment methods let Stripe offer cards, Apple Pay and Google Pay.
        Request-to-book bookings use manual capture and are captured when the host accepts.
        """
        if amount_minor <= 0:
            raise ValueError("amount must be positive")
        form = {
            "amount": str(amount_minor),
            "currency": currency.lower(),
            "automatic_payment_methods[enabled]": "true",
            "capture_method": "manual" if manual_capture else "automatic",
            "metadata[booking_id]": booking_id,
        }
        key = idempotency_key(booking_id, "create_intent", attempt)
        body = self._transport("POST", f"{API_BASE}/payment_intents", form, self._headers(key))
        return IntentResult(body["id"], body["status"], int(body["amount"]), body["currency"])

    def capture(self, booking_id: str, intent_id: str, attempt: int = 1) -> str:
        key = idempotency_key(booking_id, "capture", attempt)
        body = self._transport("POST", f"{API_BASE}/payment_intents/{intent_id}/capture", {}, self._headers(key))
        return body["status"]

    def refund(self, booking_id: str, intent_id: str, amount_minor: int, attempt: int = 1) -> str:
        key = idempotency_key(booking_id, f"refund:{amount_minor}", attempt)
        form = {"payment_intent": intent_id, "amount": str(amount_minor)}
        body = self._transport("POST", f"{API_BASE}/refunds", form, self._headers(key))
        return body["id"]


def _dry_run() -> int:
    seen = []

    def transport(method, url, form, headers):
        seen.append((method, url, headers["Idempotency-Key"]))
        return {"id": "pi_dry_run", "status": "requires_payment_method", "amount": form.get("amount", "0"),
                "currency": form.get("currency", "eur")}

    gateway = StripeGateway(transport, credentials=lambda: "dry-run-placeholder")
    result = gateway.create_payment_intent("bk_dry", to_minor_units("45.00", "EUR"), "EUR", manual_capture=False)
    again = gateway.create_payment_intent("bk_dry", 4500, "EUR", manual_capture=False)
    ok = result.amount_minor == 4500 and seen[0][2] == seen[1][2]
    print("stripe gateway dry run:", "ok" if ok else "FAILED", seen[0][0], seen[0][1])
    return 0 if ok and again.intent_id == result.intent_id else 1


if __name__ == "__main__" and "--dry-run" in sys.argv:
    sys.exit(_dry_run())
'''

CODE["services/payments/refunds.py"] = r'''
"""Refunds and partial refunds. Implements WBS-010 (@@pay_refunds@@)."""
from __future__ import annotations

from dataclasses import dataclass, field

from services.payments.stripe_gateway import StripeGateway


@dataclass
class RefundLedger:
    """Tracks what was already refunded per booking so a refund never exceeds the charge."""

    charged: dict[str, int] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=dict)

    def refundable(self, booking_id: str) -> int:
        return self.charged.get(booking_id, 0) - self.refunded.get(booking_id, 0)


def partial_amount(total_minor: int, share: float) -> int:
    """@@pay_refunds@@: partial refunds round down to the minor unit; never above the total."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be between 0 and 1")
    return min(total_minor, int(total_minor * share))


class RefundService:
    def __init__(self, gateway: StripeGateway, ledger: RefundLedger) -> None:
        self._gateway = gateway
        self._ledger = ledger

    def refund(self, booking_id: str, intent_id: str, amount_minor: int, attempt: int = 1) -> str:
        # The refund is created against the booking's original PaymentIntent (see @@typo@@).
        if amount_minor <= 0:
            raise ValueError("refund amount must be positive")
        if amount_minor > self._ledger.refundable(booking_id):
            raise ValueError("refund exceeds what is left on the charge")
        refund_id = self._gateway.refund(booking_id, intent_id, amount_minor, attempt)
        self._ledger.refunded[booking_id] = self._ledger.refunded.get(booking_id, 0) + amount_minor
        return refund_id
'''

CODE["services/payments/webhooks.py"] = r'''
"""Stripe webhook verification and replay protection. Implements WBS-010 (@@pay_webhooks@@).

The signing value comes from the STRIPE_WEBHOOK_SECRET environment variable in production.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Callable

TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The Stripe-Signature header is missing, malformed, stale or wrong."""


def _signing_value() -> bytes:
    return os.environ["STRIPE_WEBHOOK_SECRET"].encode("utf-8")


def sign(payload: bytes, timestamp: int, signing_value: bytes) -> str:
    mac = hmac.new(signing_value, f"{timestamp}.".encode("utf-8") + payload, hashlib.sha256)
    return mac.hexdigest()


def verify(payload: bytes, header: str, now: int, signing_value: bytes | None = None) -> dict:
    """@@pay_webhooks@@: check the `t=...,v1=...` header and return the decoded event."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.partition("=")
        fields.setdefault(name.strip(), []).append(value.strip())
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("no timestamp in Stripe-Signature") from None
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("timestamp outside the 5-minute tolerance")
    expected = sign(payload, timestamp, signing_value or _signing_value())
    if not any(hmac.compare_digest(expected, v) for v in fields.get("v1", [])):
        raise SignatureError("no matching v1 signature")
    return json.loads(payload)


class WebhookProcessor:
    """Processes each event ID at most once, whatever order Stripe retries in."""

    def __init__(self, handlers: dict[str, Callable[[dict], None]]) -> None:
        self._handlers = handlers
        self._seen: set[str] = set()

    def handle(self, event: dict) -> str:
        if event["id"] in self._seen:
            return "duplicate"
        handler = self._handlers.get(event["type"])
        if handler is None:
            self._seen.add(event["id"])
            return "ignored"
        handler(event["data"]["object"])
        self._seen.add(event["id"])
        return "processed"
'''

CODE["services/payments/receipts.py"] = r'''
"""Receipts with VAT lines. Implements WBS-010 (@@pay_receipts@@)."""
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
    """@@pay_receipts@@: prices are shown VAT-inclusive; the receipt splits them."""
    rate = VAT_RATES.get(country.upper(), 0)
    net = round(gross_minor * 100 / (100 + rate))
    return ReceiptLines(gross_minor, net, gross_minor - net, rate)
'''

CODE["tests/python/test_payments.py"] = r'''
"""Tests for WBS-010 payments.

@@pay_pi@@ @@pay_idem@@ @@pay_minor@@ @@pay_story@@ @@pay_boundary@@ @@pay_refunds@@ @@pay_receipts@@
"""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.payments.receipts import vat_lines  # noqa: E402
from services.payments.refunds import RefundLedger, RefundService, partial_amount  # noqa: E402
from services.payments.stripe_gateway import StripeGateway, idempotency_key, to_minor_units  # noqa: E402


class FakeStripe:
    """Records requests instead of calling the network."""

    def __init__(self):
        self.requests = []

    def __call__(self, method, url, form, headers):
        self.requests.append((method, url, dict(form), dict(headers)))
        if url.endswith("/refunds"):
            return {"id": f"re_{len(self.requests)}"}
        return {"id": "pi_test_1", "status": "requires_payment_method",
                "amount": form.get("amount", "0"), "currency": form.get("currency", "eur")}


def gateway(fake):
    return StripeGateway(fake, credentials=lambda: "unit-test-placeholder")


class MinorUnitTests(unittest.TestCase):
    # @@pay_minor@@
    def test_minor_units(self):
        self.assertEqual(to_minor_units("12.50", "EUR"), 1250)
        self.assertEqual(to_minor_units("0.125", "usd"), 13)
        self.assertEqual(to_minor_units("1200", "JPY"), 1200)


class IntentTests(unittest.TestCase):
    # @@pay_idem@@
    def test_idempotency_key_is_stable(self):
        self.assertEqual(idempotency_key("bk_1", "create_intent", 1), idempotency_key("bk_1", "create_intent", 1))
        self.assertNotEqual(idempotency_key("bk_1", "create_intent", 1), idempotency_key("bk_1", "create_intent", 2))

    # @@pay_pi@@ @@pay_story@@ @@pay_boundary@@
    def test_create_intent_request(self):
        fake = FakeStripe()
        result = gateway(fake).create_payment_intent("bk_7", 4500, "EUR", manual_capture=True)
        method, url, form, headers = fake.requests[0]
        self.assertEqual((method, url.rsplit("/", 1)[-1]), ("POST", "payment_intents"))
        self.assertEqual(form["capture_method"], "manual")
        self.assertEqual(form["automatic_payment_methods[enabled]"], "true")
        self.assertEqual(form["currency"], "eur")
        self.assertEqual(headers["Idempotency-Key"], idempotency_key("bk_7", "create_intent", 1))
        self.assertEqual(result.amount_minor, 4500)

    def test_rejects_non_positive_amounts(self):
        with self.assertRaises(ValueError):
            gateway(FakeStripe()).create_payment_intent("bk_7", 0, "EUR", manual_capture=False)


class RefundTests(unittest.TestCase):
    # @@pay_refunds@@
    def test_partial_amount_rounds_down(self):
        self.assertEqual(partial_amount(999, 0.5), 499)
        with self.assertRaises(ValueError):
            partial_amount(999, 1.5)

    def test_refunds_never_exceed_charge(self):
        ledger = RefundLedger(charged={"bk_7": 4500})
        service = RefundService(gateway(FakeStripe()), ledger)
        service.refund("bk_7", "pi_test_1", 3000)
        with self.assertRaises(ValueError):
            service.refund("bk_7", "pi_test_1", 2000)
        self.assertEqual(ledger.refundable("bk_7"), 1500)


class ReceiptTests(unittest.TestCase):
    # @@pay_receipts@@
    def test_vat_split(self):
        lines = vat_lines(11900, "de")
        self.assertEqual((lines.net_minor, lines.vat_minor, lines.vat_rate), (10000, 1900, 19))
        self.assertEqual(vat_lines(5000, "US").vat_minor, 0)


if __name__ == "__main__":
    unittest.main()
'''

CODE["tests/python/test_payments_webhooks.py"] = r'''
"""Tests for WBS-010 webhook handling (@@pay_webhooks@@)."""
import json
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.payments.webhooks import SignatureError, WebhookProcessor, sign, verify  # noqa: E402

SIGNING_VALUE = b"unit-test-webhook-signing"
EVENT = {"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_test_1"}}}
PAYLOAD = json.dumps(EVENT).encode("utf-8")


class VerifyTests(unittest.TestCase):
    # @@pay_webhooks@@
    def test_valid_signature(self):
        header = f"t=1000,v1={sign(PAYLOAD, 1000, SIGNING_VALUE)}"
        self.assertEqual(verify(PAYLOAD, header, now=1100, signing_value=SIGNING_VALUE)["id"], "evt_1")

    def test_stale_or_wrong_signature(self):
        header = f"t=1000,v1={sign(PAYLOAD, 1000, SIGNING_VALUE)}"
        with self.assertRaises(SignatureError):
            verify(PAYLOAD, header, now=2000, signing_value=SIGNING_VALUE)
        with self.assertRaises(SignatureError):
            verify(PAYLOAD + b" ", header, now=1001, signing_value=SIGNING_VALUE)
        with self.assertRaises(SignatureError):
            verify(PAYLOAD, "v1=abc", now=1001, signing_value=SIGNING_VALUE)


class ReplayTests(unittest.TestCase):
    def test_each_event_processed_once(self):
        handled = []
        processor = WebhookProcessor({"payment_intent.succeeded": handled.append})
        self.assertEqual(processor.handle(EVENT), "processed")
        self.assertEqual(processor.handle(EVENT), "duplicate")
        self.assertEqual(len(handled), 1)
        self.assertEqual(processor.handle({"id": "evt_2", "type": "customer.created", "data": {}}), "ignored")


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/payouts/schedule.py"] = r'''
"""Payout scheduling for hosts. Implements WBS-011.

Spec: @@po_schedule@@ (scheduling job), @@po_story@@ (paid 24 hours after the session),
@@po_holds@@ (holds for new hosts and open disputes).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RELEASE_DELAY = timedelta(hours=24)
NEW_HOST_HOLD = timedelta(days=7)
NEW_HOST_PAYOUTS = 3
BANK_CHANGE_PAUSE = timedelta(hours=72)


@dataclass(frozen=True)
class PayoutContext:
    session_end: datetime
    completed_payouts: int
    dispute_open: bool = False
    bank_changed_at: datetime | None = None


def release_time(ctx: PayoutContext) -> datetime | None:
    """@@po_story@@ @@po_holds@@: when the payout may leave; None while a dispute is open."""
    if ctx.dispute_open:
        return None
    release = ctx.session_end + RELEASE_DELAY
    if ctx.completed_payouts < NEW_HOST_PAYOUTS:
        release = max(release, ctx.session_end + NEW_HOST_HOLD)
    if ctx.bank_changed_at is not None:
        release = max(release, ctx.bank_changed_at + BANK_CHANGE_PAUSE)
    return release


def due_payouts(contexts: dict[str, PayoutContext], now: datetime) -> list[str]:
    """@@po_schedule@@: booking IDs whose payout is due at `now`, oldest first."""
    due = []
    for booking_id, ctx in contexts.items():
        release = release_time(ctx)
        if release is not None and release <= now:
            due.append((release, booking_id))
    return [booking_id for _, booking_id in sorted(due)]
'''

CODE["tests/python/test_payouts.py"] = r'''
"""Tests for WBS-011 payouts: @@po_schedule@@, @@po_story@@, @@po_holds@@."""
import sys
import unittest
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.payouts.schedule import PayoutContext, due_payouts, release_time  # noqa: E402

END = datetime(2026, 11, 20, 18, 0)


class ReleaseTests(unittest.TestCase):
    # @@po_story@@
    def test_established_host_paid_next_day(self):
        self.assertEqual(release_time(PayoutContext(END, completed_payouts=10)), END + timedelta(hours=24))

    # @@po_holds@@
    def test_holds(self):
        self.assertEqual(release_time(PayoutContext(END, completed_payouts=0)), END + timedelta(days=7))
        self.assertIsNone(release_time(PayoutContext(END, completed_payouts=10, dispute_open=True)))
        changed = PayoutContext(END, completed_payouts=10, bank_changed_at=END)
        self.assertEqual(release_time(changed), END + timedelta(hours=72))

    # @@po_schedule@@
    def test_due_payouts_sorted(self):
        contexts = {
            "bk_new": PayoutContext(END, completed_payouts=0),
            "bk_old": PayoutContext(END - timedelta(days=1), completed_payouts=9),
            "bk_mid": PayoutContext(END, completed_payouts=9),
        }
        self.assertEqual(due_payouts(contexts, END + timedelta(days=2)), ["bk_old", "bk_mid"])


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/messaging/inbox.py"] = r'''
"""Guest-host inbox. Implements WBS-012.

Spec: @@msg_model@@ (threads and messages), @@msg_inbox_story@@ (inbox with booking context),
@@msg_prebook@@ (questions before booking).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from services.messaging.redaction import redact_contact_details


@dataclass
class Message:
    sender_id: str
    body: str
    sent_at: float


@dataclass
class Thread:
    """@@msg_model@@: one thread per (guest, host, listing); bookings attach to it."""

    guest_id: str
    host_id: str
    listing_id: str
    booking_ids: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    read_up_to: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.guest_id, self.host_id, self.listing_id)

    def has_confirmed_booking(self, confirmed: set[str]) -> bool:
        return any(b in confirmed for b in self.booking_ids)


class Inbox:
    def __init__(self) -> None:
        self._threads: dict[tuple[str, str, str], Thread] = {}
        self.confirmed_bookings: set[str] = set()

    def thread_for(self, guest_id: str, host_id: str, listing_id: str) -> Thread:
        """@@msg_prebook@@: guests may open a thread before they book."""
        key = (guest_id, host_id, listing_id)
        if key not in self._threads:
            self._threads[key] = Thread(guest_id, host_id, listing_id)
        return self._threads[key]

    def post(self, thread: Thread, sender_id: str, body: str, now: float) -> Message:
        if sender_id not in (thread.guest_id, thread.host_id):
            raise PermissionError("only the guest and the host can post in a thread")
        if not thread.has_confirmed_booking(self.confirmed_bookings):
            body = redact_contact_details(body)
        message = Message(sender_id, body, now)
        thread.messages.append(message)
        thread.read_up_to[sender_id] = len(thread.messages)
        return message

    def unread_count(self, user_id: str) -> int:
        """@@msg_inbox_story@@: the badge on the inbox tab."""
        total = 0
        for thread in self._threads.values():
            if user_id in (thread.guest_id, thread.host_id):
                total += len(thread.messages) - thread.read_up_to.get(user_id, 0)
        return total
'''

CODE["services/messaging/redaction.py"] = r'''
"""Contact-detail redaction before a booking is confirmed. Implements WBS-012 (@@msg_redact@@)."""
from __future__ import annotations

import re

MASK = "[hidden until booking]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
# Seven or more digits, allowing spaces, dots, dashes and brackets between them.
_PHONE = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")


def redact_contact_details(text: str) -> str:
    """@@msg_redact@@: mask emails, links and phone numbers; keep times and prices readable."""
    text = _EMAIL.sub(MASK, text)
    text = _URL.sub(MASK, text)
    return _PHONE.sub(MASK, text)
'''

CODE["tests/python/test_messaging.py"] = r'''
"""Tests for WBS-012 messaging: @@msg_model@@, @@msg_redact@@, @@msg_inbox_story@@."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.messaging.inbox import Inbox  # noqa: E402
from services.messaging.redaction import MASK, redact_contact_details  # noqa: E402


class RedactionTests(unittest.TestCase):
    # @@msg_redact@@
    def test_masks_contact_details(self):
        text = "Call me on +49 151 2345 6789 or mail mara@example.com, see www.example.com/rooms"
        self.assertEqual(redact_contact_details(text).count(MASK), 3)

    def test_keeps_times_and_prices(self):
        text = "Can we do 10:00-14:00 on the 24th for 180 EUR?"
        self.assertEqual(redact_contact_details(text), text)


class InboxTests(unittest.TestCase):
    # @@msg_model@@ @@msg_inbox_story@@
    def test_one_thread_per_pair_and_listing(self):
        inbox = Inbox()
        a = inbox.thread_for("g1", "h1", "lst_1")
        self.assertIs(a, inbox.thread_for("g1", "h1", "lst_1"))
        self.assertIsNot(a, inbox.thread_for("g1", "h1", "lst_2"))

    def test_redaction_lifts_after_confirmation(self):
        inbox = Inbox()
        thread = inbox.thread_for("g1", "h1", "lst_1")
        self.assertIn(MASK, inbox.post(thread, "g1", "text me: 0151 234 5678", now=1).body)
        thread.booking_ids.append("bk_1")
        inbox.confirmed_bookings.add("bk_1")
        self.assertNotIn(MASK, inbox.post(thread, "h1", "sure, 0151 234 5678", now=2).body)
        self.assertEqual(inbox.unread_count("g1"), 1)
        with self.assertRaises(PermissionError):
            inbox.post(thread, "someone-else", "hi", now=3)


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/calendar/ical_sync.py"] = r'''
"""iCal feed import for external calendars. Implements WBS-007.

Spec: @@cal_ical@@ (feed parsing), @@cal_story@@ (two-way sync: imported blocks hide slots).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


def unfold(text: str) -> list[str]:
    """RFC 5545 line unfolding: a line starting with a space continues the previous one."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw.startswith((" ", "\t")) and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def _parse_time(name_and_params: str, value: str) -> datetime:
    if "VALUE=DATE" in name_and_params and "T" not in value:
        return datetime.strptime(value, "%Y%m%d").replace(tzinfo=timezone.utc)
    if value.endswith("Z"):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    # Floating times are read as UTC; TZID support is tracked in the spec.
    return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)


def parse_busy_blocks(text: str) -> list[tuple[datetime, datetime]]:
    """@@cal_ical@@: (start, end) of every VEVENT; summaries are dropped on purpose."""
    blocks = []
    start = end = None
    in_event = False
    for line in unfold(text):
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            in_event, start, end = True, None, None
        elif line == "END:VEVENT" and in_event:
            if start is not None:
                blocks.append((start, end or start + timedelta(days=1)))
            in_event = False
        elif in_event and name.startswith("DTSTART"):
            start = _parse_time(name, value)
        elif in_event and name.startswith("DTEND"):
            end = _parse_time(name, value)
    return merge(blocks)


def merge(blocks: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """@@cal_story@@: overlapping blocks become one, so the slot finder sees fewer intervals."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(blocks):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
'''

CODE["tests/python/test_calendar.py"] = r'''
"""Tests for WBS-007 calendar import: @@cal_ical@@, @@cal_story@@."""
import sys
import unittest
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.calendar.ical_sync import parse_busy_blocks, unfold  # noqa: E402

FEED = "\r\n".join([
    "BEGIN:VCALENDAR",
    "BEGIN:VEVENT",
    "SUMMARY:Drum tracking, private",
    "DTSTART:20261124T100000Z",
    "DTEND:20261124T130000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART:20261124T120000Z",
    "DTEND:20261124T150000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART;VALUE=DATE:20261126",
    "END:VEVENT",
    "END:VCALENDAR",
])


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


class ICalTests(unittest.TestCase):
    # @@cal_ical@@
    def test_unfolding(self):
        self.assertEqual(unfold("SUMMARY:Long\r\n  title\r\n"), ["SUMMARY:Long title"])

    # @@cal_ical@@ @@cal_story@@
    def test_blocks_are_parsed_and_merged(self):
        blocks = parse_busy_blocks(FEED)
        self.assertEqual(blocks, [
            (utc(2026, 11, 24, 10), utc(2026, 11, 24, 15)),
            (utc(2026, 11, 26), utc(2026, 11, 27)),
        ])


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/reviews/ratings.py"] = r'''
"""Reviews: double-blind reveal and smoothed ratings. Implements WBS-014.

Spec: @@rev_blind@@ (double-blind reveal), @@rev_agg@@ (Bayesian smoothing).
"""
from __future__ import annotations

from dataclasses import dataclass

REVIEW_WINDOW_DAYS = 14
PRIOR_MEAN = 4.3
PRIOR_WEIGHT = 5


def smoothed_rating(ratings: list[int]) -> float:
    """@@rev_agg@@: pull small samples toward the marketplace mean."""
    total = PRIOR_MEAN * PRIOR_WEIGHT + sum(ratings)
    return round(total / (PRIOR_WEIGHT + len(ratings)), 2)


@dataclass
class ReviewPair:
    """The guest's and the host's review of one booking."""

    guest_submitted: bool = False
    host_submitted: bool = False

    def visible(self, days_since_session: float) -> bool:
        """@@rev_blind@@: both reviews show once both are in, or when the window closes."""
        both_in = self.guest_submitted and self.host_submitted
        return both_in or days_since_session >= REVIEW_WINDOW_DAYS
'''

CODE["tests/python/test_reviews.py"] = r'''
"""Tests for WBS-014 reviews: @@rev_blind@@, @@rev_agg@@."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.reviews.ratings import ReviewPair, smoothed_rating  # noqa: E402


class RatingTests(unittest.TestCase):
    # @@rev_agg@@
    def test_single_five_star_is_smoothed(self):
        self.assertLess(smoothed_rating([5]), 4.5)
        self.assertGreater(smoothed_rating([5] * 200), 4.95)


class RevealTests(unittest.TestCase):
    # @@rev_blind@@
    def test_double_blind(self):
        pair = ReviewPair(guest_submitted=True)
        self.assertFalse(pair.visible(days_since_session=3))
        pair.host_submitted = True
        self.assertTrue(pair.visible(days_since_session=3))
        self.assertTrue(ReviewPair(guest_submitted=True).visible(days_since_session=14))


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/trust/risk_rules.py"] = r'''
"""Fraud risk rules for new bookings. Implements WBS-015.

Spec: @@trust_rules@@ (risk rules), @@trust_velocity@@ (card attempt velocity).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class BookingSignals:
    account_age_hours: float
    amount_eur: float
    card_attempts_last_hour: int
    country_mismatch: bool
    prior_completed_bookings: int


@dataclass(frozen=True)
class Rule:
    name: str
    points: int
    applies: Callable[[BookingSignals], bool]


# @@trust_rules@@: additive points; the thresholds below decide.
RULES = (
    Rule("new_account_large_amount", 60, lambda s: s.account_age_hours < 1 and s.amount_eur > 500),
    Rule("card_velocity", 50, lambda s: s.card_attempts_last_hour >= 4),  # @@trust_velocity@@
    Rule("country_mismatch", 20, lambda s: s.country_mismatch),
    Rule("first_booking", 10, lambda s: s.prior_completed_bookings == 0),
)
REVIEW_AT = 50
BLOCK_AT = 100


def evaluate(signals: BookingSignals) -> tuple[str, list[str]]:
    """Return ("allow" | "review" | "block", names of the rules that fired)."""
    fired = [rule for rule in RULES if rule.applies(signals)]
    score = sum(rule.points for rule in fired)
    decision = "block" if score >= BLOCK_AT else "review" if score >= REVIEW_AT else "allow"
    return decision, [rule.name for rule in fired]
'''

CODE["tests/python/test_trust.py"] = r'''
"""Tests for WBS-015 trust rules: @@trust_rules@@, @@trust_velocity@@."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.trust.risk_rules import BookingSignals, evaluate  # noqa: E402


def signals(**kw):
    base = dict(account_age_hours=400, amount_eur=120, card_attempts_last_hour=1,
                country_mismatch=False, prior_completed_bookings=3)
    base.update(kw)
    return BookingSignals(**base)


class RuleTests(unittest.TestCase):
    # @@trust_rules@@
    def test_regular_booking_allowed(self):
        self.assertEqual(evaluate(signals())[0], "allow")

    def test_new_account_large_amount_reviewed(self):
        decision, fired = evaluate(signals(account_age_hours=0.5, amount_eur=800))
        self.assertEqual(decision, "review")
        self.assertIn("new_account_large_amount", fired)

    # @@trust_velocity@@
    def test_velocity_plus_new_account_blocks(self):
        decision, _ = evaluate(signals(account_age_hours=0.2, amount_eur=900, card_attempts_last_hour=5))
        self.assertEqual(decision, "block")


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/notifications/dispatch.py"] = r'''
"""Notification dispatch with channel fallback. Implements WBS-013.

Spec: @@notif_dispatch@@ (dispatch and fallback), @@notif_story@@ (booking confirmation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

CHANNEL_ORDER = ("push", "sms", "email")


@dataclass
class Preferences:
    channels: set[str] = field(default_factory=lambda: {"push", "sms", "email"})
    quiet_hours: tuple[int, int] | None = (22, 8)  # local hours, start inclusive

    def is_quiet(self, local_hour: int) -> bool:
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        return local_hour >= start or local_hour < end if start > end else start <= local_hour < end


class Dispatcher:
    """@@notif_dispatch@@: try push, then SMS, then email; email is the last resort."""

    def __init__(self, senders: dict[str, Callable[[str, str], bool]]) -> None:
        self._senders = senders

    def send(self, user_id: str, text: str, prefs: Preferences, local_hour: int) -> str | None:
        for channel in CHANNEL_ORDER:
            if channel not in prefs.channels and channel != "email":
                continue
            if channel == "sms" and prefs.is_quiet(local_hour):
                continue
            sender = self._senders.get(channel)
            if sender is not None and sender(user_id, text):
                return channel
        return None


def booking_confirmation_text(reference: str, studio: str, starts: str) -> str:
    """@@notif_story@@: every message carries the booking reference code."""
    return f"Booking {reference} confirmed: {studio}, {starts}. Reply in the app to reach your host."
'''

CODE["tests/python/test_notifications.py"] = r'''
"""Tests for WBS-013 notifications: @@notif_dispatch@@, @@notif_story@@."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.notifications.dispatch import Dispatcher, Preferences, booking_confirmation_text  # noqa: E402


class DispatchTests(unittest.TestCase):
    # @@notif_dispatch@@
    def test_falls_back_to_email(self):
        sent = []
        dispatcher = Dispatcher({
            "push": lambda u, t: False,
            "sms": lambda u, t: sent.append("sms") or True,
            "email": lambda u, t: sent.append("email") or True,
        })
        self.assertEqual(dispatcher.send("u1", "hi", Preferences(), local_hour=12), "sms")
        self.assertEqual(dispatcher.send("u1", "hi", Preferences(), local_hour=23), "email")

    # @@notif_story@@
    def test_confirmation_has_reference(self):
        self.assertIn("BK-7QX2", booking_confirmation_text("BK-7QX2", "Blue Room", "Tue 24 Nov, 10:00"))


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/experiments/assign.py"] = r'''
"""Experiment assignment and exposure logging. Implements WBS-018.

Spec: @@exp_assign@@ (deterministic assignment), @@exp_exposure@@ (exposure logging).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

BUCKETS = 10_000


def bucket(experiment_key: str, user_id: str) -> int:
    """@@exp_assign@@: a stable bucket in [0, 10000) from the experiment key and user ID."""
    digest = hashlib.sha256(f"{experiment_key}:{user_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(experiment_key: str, user_id: str, variants: list[tuple[str, int]]) -> str:
    """Pick a variant; weights are in basis points and must add up to 10000."""
    if sum(weight for _, weight in variants) != BUCKETS:
        raise ValueError("variant weights must add up to 10000")
    point = bucket(experiment_key, user_id)
    for name, weight in variants:
        if point < weight:
            return name
        point -= weight
    raise AssertionError("unreachable")


@dataclass
class ExposureLog:
    """@@exp_exposure@@: log once per user and experiment, when the variant renders."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def expose(self, experiment_key: str, user_id: str, variant: str) -> bool:
        if (experiment_key, user_id) in self._seen:
            return False
        self._seen.add((experiment_key, user_id))
        self.entries.append((experiment_key, user_id, variant))
        return True
'''

CODE["tests/python/test_experiments.py"] = r'''
"""Tests for WBS-018 experiments: @@exp_assign@@, @@exp_exposure@@."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.experiments.assign import ExposureLog, assign  # noqa: E402

VARIANTS = [("control", 9000), ("new_ranking", 1000)]


class AssignmentTests(unittest.TestCase):
    # @@exp_assign@@
    def test_stable_and_roughly_weighted(self):
        first = [assign("search-ranking-v2", f"u{i}", VARIANTS) for i in range(2000)]
        again = [assign("search-ranking-v2", f"u{i}", VARIANTS) for i in range(2000)]
        self.assertEqual(first, again)
        share = first.count("new_ranking") / len(first)
        self.assertTrue(0.06 < share < 0.14, share)

    def test_weights_must_sum(self):
        with self.assertRaises(ValueError):
            assign("x", "u1", [("a", 5000)])

    # @@exp_exposure@@
    def test_exposure_logged_once(self):
        log = ExposureLog()
        self.assertTrue(log.expose("search-ranking-v2", "u1", "control"))
        self.assertFalse(log.expose("search-ranking-v2", "u1", "control"))
        self.assertEqual(len(log.entries), 1)


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/fansub/plans.py"] = r'''
"""FanSub tiers and entitlements (scaffold). Implements WBS-020.

Spec: @@fan_story@@ (fans subscribe to a studio), @@fan_billing@@ (Stripe Billing),
@@fan_entitle@@ (entitlements).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    tier_id: str
    studio_id: str
    name: str
    monthly_minor: int
    currency: str
    perks: tuple[str, ...]
    rank: int  # higher ranks include the perks of lower ones


def price_payload(tier: Tier) -> dict[str, str]:
    """@@fan_billing@@: form fields for a recurring Stripe Price; sent by the payments service."""
    return {
        "unit_amount": str(tier.monthly_minor),
        "currency": tier.currency.lower(),
        "recurring[interval]": "month",
        "product_data[name]": f"{tier.name} ({tier.studio_id})",
        "metadata[tier_id]": tier.tier_id,
    }


def can_view(post_min_rank: int, active_tier: Tier | None) -> bool:
    """@@fan_entitle@@: a post is visible to subscribers at or above its minimum tier."""
    return active_tier is not None and active_tier.rank >= post_min_rank
'''

CODE["services/contracts/templates.py"] = r'''
"""Smart docs: rental agreements from templates, with a signature audit trail. Implements WBS-021.

Spec: @@doc_story@@ (agreement signed at checkout), @@doc_render@@ (merge fields),
@@doc_audit@@ (e-signature audit trail).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

FIELD = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
SUPPORTED_FIELDS = frozenset({"studio_name", "guest_name", "host_name", "starts_at", "ends_at",
                              "price", "house_rules", "booking_reference"})


class TemplateError(ValueError):
    pass


def render(template: str, values: dict[str, str]) -> str:
    """@@doc_render@@: replace {{field}} placeholders; unknown or missing fields are errors."""
    names = set(FIELD.findall(template))
    unknown = names - SUPPORTED_FIELDS
    if unknown:
        raise TemplateError(f"unsupported fields: {', '.join(sorted(unknown))}")
    missing = names - values.keys()
    if missing:
        raise TemplateError(f"missing values: {', '.join(sorted(missing))}")
    return FIELD.sub(lambda m: values[m.group(1)], template)


@dataclass
class AuditTrail:
    """@@doc_audit@@ @@doc_story@@: a hash chain of signature events for one document."""

    document_sha256: str
    events: list[dict] = field(default_factory=list)

    def record(self, signer_id: str, action: str, at: str) -> dict:
        previous = self.events[-1]["hash"] if self.events else self.document_sha256
        event = {"signer": signer_id, "action": action, "at": at, "prev": previous}
        event["hash"] = hashlib.sha256(json.dumps(event, sort_keys=True).encode("utf-8")).hexdigest()
        self.events.append(event)
        return event

    def verify(self) -> bool:
        previous = self.document_sha256
        for event in self.events:
            body = {k: v for k, v in event.items() if k != "hash"}
            if body["prev"] != previous:
                return False
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()
            if digest != event["hash"]:
                return False
            previous = event["hash"]
        return True
'''

CODE["tests/python/test_contracts.py"] = r'''
"""Tests for WBS-021 smart docs: @@doc_render@@, @@doc_audit@@, @@doc_story@@."""
import hashlib
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.contracts.templates import AuditTrail, TemplateError, render  # noqa: E402

TEMPLATE = "Rental of {{ studio_name }} to {{guest_name}} from {{starts_at}} to {{ends_at}}."


class RenderTests(unittest.TestCase):
    # @@doc_render@@
    def test_render(self):
        text = render(TEMPLATE, {"studio_name": "Blue Room", "guest_name": "Mara K.",
                                 "starts_at": "10:00", "ends_at": "14:00"})
        self.assertEqual(text, "Rental of Blue Room to Mara K. from 10:00 to 14:00.")

    def test_missing_and_unknown_fields(self):
        with self.assertRaises(TemplateError):
            render(TEMPLATE, {"studio_name": "Blue Room"})
        with self.assertRaises(TemplateError):
            render("{{ shoe_size }}", {"shoe_size": "42"})


class AuditTests(unittest.TestCase):
    # @@doc_audit@@ @@doc_story@@
    def test_chain_detects_tampering(self):
        trail = AuditTrail(hashlib.sha256(b"agreement v1").hexdigest())
        trail.record("guest_1", "signed", "2026-11-24T10:00:00Z")
        trail.record("host_1", "countersigned", "2026-11-24T10:05:00Z")
        self.assertTrue(trail.verify())
        trail.events[0]["at"] = "2026-11-23T10:00:00Z"
        self.assertFalse(trail.verify())


if __name__ == "__main__":
    unittest.main()
'''

CODE["services/gateway/rate_limit.py"] = r'''
"""Token-bucket rate limits at the API gateway. Implements WBS-022 (@@infra_gateway@@)."""
from __future__ import annotations

from dataclasses import dataclass, field

# Requests per minute and burst size per route class.
LIMITS = {"search": (600, 60), "checkout": (60, 10), "login": (20, 5), "default": (300, 30)}


@dataclass
class Bucket:
    rate_per_sec: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate_per_sec)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class Limiter:
    """@@infra_gateway@@: one bucket per (client, route class)."""

    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)

    def allow(self, client_id: str, route_class: str, now: float) -> bool:
        per_minute, burst = LIMITS.get(route_class, LIMITS["default"])
        key = (client_id, route_class)
        if key not in self.buckets:
            self.buckets[key] = Bucket(per_minute / 60.0, burst, burst, now)
        return self.buckets[key].take(now)
'''

CODE["tests/python/test_gateway.py"] = r'''
"""Tests for WBS-022 gateway rate limits (@@infra_gateway@@)."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.gateway.rate_limit import Limiter  # noqa: E402


class LimiterTests(unittest.TestCase):
    def test_burst_then_refill(self):
        limiter = Limiter()
        allowed = [limiter.allow("ip-1", "login", now=0.0) for _ in range(7)]
        self.assertEqual(allowed.count(True), 5)
        self.assertFalse(limiter.allow("ip-1", "login", now=1.0))
        self.assertTrue(limiter.allow("ip-1", "login", now=4.0))
        self.assertTrue(limiter.allow("ip-2", "login", now=0.0))


if __name__ == "__main__":
    unittest.main()
'''

CODE["infra/healthcheck.py"] = r'''
"""Readiness checks, required CI checks and log redaction. Implements WBS-001.

Spec: @@infra_health@@ (health and readiness), @@infra_ci@@ (required checks),
@@infra_logging@@ (structured logs with redaction).
Run `python3 infra/healthcheck.py --self-check` from the workspace root as a smoke check.
"""
from __future__ import annotations

import json
import re
import sys
from typing import Callable

# @@infra_ci@@: a pull request cannot merge unless all of these pass.
REQUIRED_CI_CHECKS = ("lint", "unit-tests", "rust-tests", "web-tests", "concord-check")

_REDACT_KEYS = re.compile(r"(token|authorization|password|card|cookie|signature)", re.IGNORECASE)


def readiness(checks: dict[str, Callable[[], bool]]) -> tuple[bool, dict[str, str]]:
    """@@infra_health@@: /readyz is green only when every dependency answers."""
    report = {}
    for name, probe in sorted(checks.items()):
        try:
            report[name] = "ok" if probe() else "failing"
        except Exception as exc:  # a probe must never take the endpoint down
            report[name] = f"error: {type(exc).__name__}"
    return all(v == "ok" for v in report.values()), report


def log_line(event: str, **fields: object) -> str:
    """@@infra_logging@@: one JSON object per line; sensitive keys are replaced."""
    clean = {k: ("[redacted]" if _REDACT_KEYS.search(k) else v) for k, v in fields.items()}
    return json.dumps({"event": event, **clean}, sort_keys=True)


def _self_check() -> int:
    ok, report = readiness({"postgres": lambda: True, "stripe": lambda: True})
    line = log_line("self_check", authorization="Bearer placeholder", ok=ok)
    good = ok and "placeholder" not in line and report == {"postgres": "ok", "stripe": "ok"}
    print("healthcheck self-check:", "ok" if good else "FAILED")
    return 0 if good else 1


if __name__ == "__main__" and "--self-check" in sys.argv:
    sys.exit(_self_check())
'''

CODE["tests/python/test_infra.py"] = r'''
"""Tests for WBS-001 infrastructure: @@infra_health@@, @@infra_ci@@, @@infra_logging@@."""
import json
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.healthcheck import REQUIRED_CI_CHECKS, log_line, readiness  # noqa: E402


class ReadinessTests(unittest.TestCase):
    # @@infra_health@@
    def test_failing_or_raising_probe_is_not_ready(self):
        def boom():
            raise ConnectionError("down")

        ok, report = readiness({"postgres": lambda: True, "redis": boom})
        self.assertFalse(ok)
        self.assertEqual(report["redis"], "error: ConnectionError")

    # @@infra_ci@@
    def test_spec_check_is_required(self):
        self.assertIn("concord-check", REQUIRED_CI_CHECKS)


class LoggingTests(unittest.TestCase):
    # @@infra_logging@@
    def test_sensitive_keys_redacted(self):
        record = json.loads(log_line("login", session_token="abc", user_id="u1"))
        self.assertEqual(record["session_token"], "[redacted]")
        self.assertEqual(record["user_id"], "u1")


if __name__ == "__main__":
    unittest.main()
'''

CODE["infra/observability/slo.py"] = r'''
"""SLO burn rates and status page components (scaffold). Implements WBS-019.

Spec: @@infra_slo@@ (SLOs and alerting), @@infra_status@@ (status page).
"""
from __future__ import annotations

SLOS = {"checkout": 0.999, "search": 0.999, "messaging": 0.995}


def burn_rate(errors: int, total: int, objective: float) -> float:
    """@@infra_slo@@: 1.0 means the error budget is spent exactly at the end of the window."""
    if total == 0:
        return 0.0
    return (errors / total) / (1.0 - objective)


def component_status(rate_1h: float, rate_6h: float) -> str:
    """@@infra_status@@: what the public status page shows for a component."""
    if rate_1h >= 14.4:
        return "major_outage"
    if rate_6h >= 6.0:
        return "degraded"
    return "operational"
'''

CODE["tools/cleanup.py"] = r'''
"""Delete abandoned upload fragments older than a number of days.

Usage: python3 tools/cleanup.py /var/tmp/uploads --days 3 [--dry-run]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def stale_files(root: Path, days: float, now: float) -> list[Path]:
    cutoff = now - days * 86400
    return sorted(p for p in root.rglob("*.part") if p.is_file() and p.stat().st_mtime < cutoff)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    for path in stale_files(args.root, args.days, time.time()):
        print(("would remove " if args.dry_run else "removing ") + str(path))
        if not args.dry_run:
            os.remove(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
'''

CODE["services/search/Cargo.toml"] = r'''
[package]
name = "marketplace-search"
version = "0.3.0"
edition = "2021"
publish = false
description = "Studio search: index, query parsing, ranking and filters"

# Standalone crate: not part of any parent workspace.
[workspace]

[dependencies]
'''

CODE["services/search/src/lib.rs"] = r'''
//! Studio search for the marketplace.
//!
//! Implements WBS-006. Spec: @@search_story@@ (search by city, date and gear).

pub mod filters;
pub mod index;
pub mod query;
pub mod ranking;
pub mod typo;

use std::cmp::Ordering;

use index::InvertedIndex;
use query::Query;

/// A ranked search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub studio_id: u32,
    pub score: f64,
}

/// Implements @@search_story@@: parse the query, match terms, keep the city, rank.
pub fn search(index: &InvertedIndex, raw_query: &str, limit: usize) -> Vec<Hit> {
    let query = Query::parse(raw_query);
    let mut hits: Vec<Hit> = index
        .candidates(&query.terms)
        .into_iter()
        .filter_map(|id| index.doc(id))
        .filter(|doc| match &query.city {
            Some(city) => doc.city.eq_ignore_ascii_case(city),
            None => true,
        })
        .map(|doc| Hit {
            studio_id: doc.id,
            score: ranking::score(doc, &query.terms),
        })
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(Ordering::Equal)
            .then(a.studio_id.cmp(&b.studio_id))
    });
    hits.truncate(limit);
    hits
}
'''

CODE["services/search/src/index.rs"] = r'''
//! Inverted index over studio listings. Spec: @@search_index@@ (WBS-006).

use std::collections::{BTreeSet, HashMap};

use crate::query::tokenize;

/// The part of a listing that search needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StudioDoc {
    pub id: u32,
    pub city: String,
    pub title: String,
    pub gear: Vec<String>,
    pub amenities: Vec<String>,
    pub rating: f64,
    pub review_count: u32,
    pub response_rate: f64,
}

/// Term -> studio IDs, plus the documents themselves.
#[derive(Debug, Default)]
pub struct InvertedIndex {
    postings: HashMap<String, BTreeSet<u32>>,
    docs: HashMap<u32, StudioDoc>,
}

impl InvertedIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// @@search_index@@: titles and gear go through the query tokenizer, so both sides agree.
    pub fn insert(&mut self, doc: StudioDoc) {
        self.remove(doc.id);
        let mut terms = tokenize(&doc.title);
        for item in &doc.gear {
            terms.extend(tokenize(item));
        }
        for term in terms {
            self.postings.entry(term).or_default().insert(doc.id);
        }
        self.docs.insert(doc.id, doc);
    }

    /// Drop a listing, e.g. when it is paused or archived.
    pub fn remove(&mut self, id: u32) {
        if self.docs.remove(&id).is_some() {
            for ids in self.postings.values_mut() {
                ids.remove(&id);
            }
            self.postings.retain(|_, ids| !ids.is_empty());
        }
    }

    pub fn doc(&self, id: u32) -> Option<&StudioDoc> {
        self.docs.get(&id)
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Studios matching every term; an empty query matches every studio.
    pub fn candidates(&self, terms: &[String]) -> Vec<u32> {
        if terms.is_empty() {
            let mut all: Vec<u32> = self.docs.keys().copied().collect();
            all.sort_unstable();
            return all;
        }
        let mut sets = terms.iter().map(|t| self.postings.get(t));
        let first = match sets.next().flatten() {
            Some(set) => set.clone(),
            None => return Vec::new(),
        };
        sets.fold(first, |acc, set| match set {
            Some(set) => acc.intersection(set).copied().collect(),
            None => BTreeSet::new(),
        })
        .into_iter()
        .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn doc(id: u32, city: &str, title: &str, gear: &[&str]) -> StudioDoc {
        StudioDoc {
            id,
            city: city.to_string(),
            title: title.to_string(),
            gear: gear.iter().map(|g| g.to_string()).collect(),
            amenities: Vec::new(),
            rating: 4.6,
            review_count: 12,
            response_rate: 0.9,
        }
    }

    // @@search_index@@: AND semantics across title and gear terms.
    #[test]
    fn candidates_match_all_terms() {
        let mut index = InvertedIndex::new();
        index.insert(doc(1, "Berlin", "Vocal booth with Neumann U87", &["Neve 1073"]));
        index.insert(doc(2, "Berlin", "Drum room", &["Neumann KM184"]));
        assert_eq!(index.candidates(&["neumann".to_string()]), vec![1, 2]);
        assert_eq!(index.candidates(&["neumann".to_string(), "neve".to_string()]), vec![1]);
        assert!(index.candidates(&["harp".to_string()]).is_empty());
    }

    #[test]
    fn reinsert_replaces_old_terms() {
        let mut index = InvertedIndex::new();
        index.insert(doc(1, "Berlin", "Drum room", &[]));
        index.insert(doc(1, "Berlin", "Vocal booth", &[]));
        assert!(index.candidates(&["drum".to_string()]).is_empty());
        assert_eq!(index.len(), 1);
    }
}
'''

CODE["services/search/src/query.rs"] = r'''
//! Query parsing and tokenization. Spec: @@search_query@@ (WBS-006).

const STOPWORDS: &[&str] = &["a", "an", "and", "the", "with", "in", "for", "of"];

/// A parsed search box query: free-text terms plus `city:` and `gear:` operators.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Query {
    pub terms: Vec<String>,
    pub city: Option<String>,
}

/// Lowercase, split on anything that is not a letter or digit, drop stopwords.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_lowercase())
        .filter(|t| !STOPWORDS.contains(&t.as_str()))
        .collect()
}

impl Query {
    /// Implements @@search_query@@: `city:berlin vocal booth gear:u87`.
    pub fn parse(raw: &str) -> Query {
        let mut query = Query::default();
        for word in raw.split_whitespace() {
            if let Some(city) = word.strip_prefix("city:") {
                if !city.is_empty() {
                    query.city = Some(city.to_lowercase());
                }
            } else if let Some(gear) = word.strip_prefix("gear:") {
                query.terms.extend(tokenize(gear));
            } else {
                query.terms.extend(tokenize(word));
            }
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // @@search_query@@
    #[test]
    fn parses_operators_and_terms() {
        let q = Query::parse("city:Berlin vocal booth with gear:U87");
        assert_eq!(q.city.as_deref(), Some("berlin"));
        assert_eq!(q.terms, vec!["vocal", "booth", "u87"]);
    }

    #[test]
    fn tokenizer_drops_punctuation_and_stopwords() {
        assert_eq!(tokenize("The Neve-1073, and a plate!"), vec!["neve", "1073", "plate"]);
    }
}
'''

CODE["services/search/src/ranking.rs"] = r'''
//! Relevance ranking. Spec: @@search_ranking@@ (WBS-006).

use crate::index::StudioDoc;
use crate::query::tokenize;

/// Marketplace-wide prior used to smooth ratings with few reviews.
const PRIOR_RATING: f64 = 4.3;
const PRIOR_WEIGHT: f64 = 5.0;

/// Bayesian-smoothed rating, so one five-star review does not outrank fifty good ones.
pub fn smoothed_rating(doc: &StudioDoc) -> f64 {
    let n = doc.review_count as f64;
    (PRIOR_RATING * PRIOR_WEIGHT + doc.rating * n) / (PRIOR_WEIGHT + n)
}

/// Implements @@search_ranking@@: text match first, then quality signals.
pub fn score(doc: &StudioDoc, terms: &[String]) -> f64 {
    let title_terms = tokenize(&doc.title);
    let title_hits = terms.iter().filter(|t| title_terms.contains(t)).count() as f64;
    let text = 2.0 * title_hits + terms.len() as f64;
    text + smoothed_rating(doc) / 5.0 + 0.5 * doc.response_rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::doc;

    // @@search_ranking@@: a title match beats a gear-only match.
    #[test]
    fn title_match_ranks_higher() {
        let terms = vec!["vocal".to_string()];
        let a = doc(1, "Berlin", "Vocal booth", &[]);
        let b = doc(2, "Berlin", "Live room", &["vocal chain"]);
        assert!(score(&a, &terms) > score(&b, &terms));
    }

    #[test]
    fn few_reviews_are_smoothed() {
        let mut one_review = doc(1, "Berlin", "Room", &[]);
        one_review.rating = 5.0;
        one_review.review_count = 1;
        let mut many = doc(2, "Berlin", "Room", &[]);
        many.rating = 4.8;
        many.review_count = 80;
        assert!(smoothed_rating(&many) > smoothed_rating(&one_review));
    }
}
'''

CODE["services/search/src/filters.rs"] = r'''
//! Availability and amenity filters. WBS-006A follow-up.
//! Spec: @@search_avail@@ (availability against the calendar), @@search_filters_story@@ (amenity filters).

use crate::index::StudioDoc;

/// A half-open busy interval in minutes since the start of the search day.
pub type Busy = (u32, u32);

/// @@search_avail@@: true when `[start, end)` does not overlap any busy interval.
pub fn is_available(busy: &[Busy], start: u32, end: u32) -> bool {
    start < end && busy.iter().all(|&(b_start, b_end)| end <= b_start || b_end <= start)
}

/// @@search_filters_story@@: every required amenity, e.g. "soundproofed" or "natural-light".
pub fn has_amenities(doc: &StudioDoc, required: &[&str]) -> bool {
    required
        .iter()
        .all(|need| doc.amenities.iter().any(|a| a.eq_ignore_ascii_case(need)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::doc;

    // @@search_avail@@
    #[test]
    fn adjacent_bookings_do_not_conflict() {
        let busy = [(600, 720), (900, 960)];
        assert!(is_available(&busy, 720, 900));
        assert!(!is_available(&busy, 700, 800));
        assert!(!is_available(&busy, 800, 800));
    }

    // @@search_filters_story@@
    #[test]
    fn amenities_are_all_required() {
        let mut studio = doc(1, "Berlin", "Daylight studio", &[]);
        studio.amenities = vec!["Natural-Light".to_string(), "parking".to_string()];
        assert!(has_amenities(&studio, &["natural-light"]));
        assert!(!has_amenities(&studio, &["natural-light", "soundproofed"]));
    }
}
'''

CODE["services/search/src/typo.rs"] = r'''
//! Typo tolerance. WBS-006A follow-up; spec @@search_typo@@.

/// How many edits a term of this length may have: none for short words.
pub fn max_edits(term: &str) -> usize {
    match term.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Implements @@search_typo@@: Levenshtein distance with an early exit above `limit`.
pub fn within_distance(a: &str, b: &str, limit: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == cb { 0 } else { 1 };
            row[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1);
        }
        if row.iter().min().copied().unwrap_or(0) > limit {
            return false;
        }
        prev = row;
    }
    prev[b.len()] <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    // @@search_typo@@
    #[test]
    fn common_misspellings_match() {
        assert!(within_distance("neuman", "neumann", max_edits("neumann")));
        assert!(within_distance("podcst", "podcast", max_edits("podcast")));
        assert!(!within_distance("mic", "mix", max_edits("mic")));
        assert!(!within_distance("drums", "brass", 2));
    }
}
'''

CODE["services/search/tests/search_flow.rs"] = r'''
//! End-to-end search over a small index. WBS-006: @@search_story@@, @@search_index@@,
//! @@search_query@@, @@search_ranking@@.

use marketplace_search::index::{InvertedIndex, StudioDoc};
use marketplace_search::search;

fn studio(id: u32, city: &str, title: &str, gear: &[&str], rating: f64, reviews: u32) -> StudioDoc {
    StudioDoc {
        id,
        city: city.to_string(),
        title: title.to_string(),
        gear: gear.iter().map(|g| g.to_string()).collect(),
        amenities: Vec::new(),
        rating,
        review_count: reviews,
        response_rate: 0.8,
    }
}

fn sample_index() -> InvertedIndex {
    let mut index = InvertedIndex::new();
    index.insert(studio(1, "Berlin", "Vocal booth in Kreuzberg", &["Neumann U87"], 4.9, 40));
    index.insert(studio(2, "Berlin", "Rehearsal room", &["Neumann KM184", "drum kit"], 4.4, 12));
    index.insert(studio(3, "Lisbon", "Vocal booth by the river", &["Neumann U87"], 4.8, 30));
    index
}

#[test]
fn city_filter_and_ranking() {
    let hits = search(&sample_index(), "city:berlin neumann", 10);
    let ids: Vec<u32> = hits.iter().map(|h| h.studio_id).collect();
    assert_eq!(ids, vec![1, 2]);
}

#[test]
fn limit_is_respected() {
    assert_eq!(search(&sample_index(), "vocal", 1).len(), 1);
    assert!(search(&sample_index(), "city:oslo vocal", 5).is_empty());
}
'''

CODE["web/package.json"] = r'''
{
  "name": "marketplace-web",
  "private": true,
  "type": "module",
  "scripts": {
    "test": "node --experimental-strip-types --test src/**/*.test.ts"
  },
  "engines": {
    "node": ">=22.6"
  }
}
'''

CODE["web/tsconfig.json"] = r'''
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "jsx": "react-jsx",
    "strict": true,
    "noEmit": true,
    "allowImportingTsExtensions": true,
    "verbatimModuleSyntax": true
  },
  "include": ["src"]
}
'''

CODE["web/src/lib/api.ts"] = r'''
// Shared HTTP helper for the web app. WBS-001; request IDs follow @@infra_logging@@.

export interface ApiError {
  status: number;
  code: string;
  message: string;
}

export type Fetcher = (input: string, init?: RequestInit) => Promise<Response>;

let requestCounter = 0;

/** A request ID the API gateway copies into every log line for this request. */
export function nextRequestId(prefix = "web"): string {
  requestCounter += 1;
  return `${prefix}-${requestCounter.toString(36).padStart(6, "0")}`;
}

async function parse<T>(response: Response): Promise<T> {
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as Partial<ApiError>;
    const error: ApiError = {
      status: response.status,
      code: body.code ?? "http_error",
      message: body.message ?? response.statusText,
    };
    throw error;
  }
  return (await response.json()) as T;
}

export async function getJson<T>(fetcher: Fetcher, path: string): Promise<T> {
  return parse<T>(await fetcher(path, { headers: { "x-request-id": nextRequestId() } }));
}

export async function postJson<T>(fetcher: Fetcher, path: string, body: unknown): Promise<T> {
  return parse<T>(
    await fetcher(path, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": nextRequestId() },
      body: JSON.stringify(body),
    }),
  );
}
'''

CODE["web/src/auth/login.ts"] = r'''
// Signup and login forms. Implements WBS-002.
// @@auth_signup_story@@ signup rules, @@auth_oauth@@ Google sign-in with PKCE.

export interface SignupForm {
  email: string;
  passphrase: string;
  role: "guest" | "host";
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** @@auth_signup_story@@: the same rules as services/auth/passwords.py, checked before submit. */
export function signupErrors(form: SignupForm): string[] {
  const errors: string[] = [];
  if (!EMAIL.test(form.email)) errors.push("Enter a valid email address.");
  if (form.passphrase.length < 10) errors.push("Use at least 10 characters.");
  const local = form.email.split("@")[0]?.toLowerCase() ?? "";
  if (local.length >= 3 && form.passphrase.toLowerCase().includes(local)) {
    errors.push("Do not include your email address.");
  }
  return errors;
}

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** @@auth_oauth@@: S256 code challenge for a verifier kept in session storage. */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

export async function googleAuthUrl(clientId: string, redirectUri: string, verifier: string, state: string): Promise<string> {
  const params = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid email profile",
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: "S256",
    state,
  });
  return `https://accounts.google.com/o/oauth2/v2/auth?${params.toString()}`;
}
'''

CODE["web/src/auth/login.test.ts"] = r'''
// Tests for WBS-002 web login: @@auth_signup_story@@, @@auth_oauth@@.
import { test } from "node:test";
import assert from "node:assert/strict";
import { codeChallenge, googleAuthUrl, signupErrors } from "./login.ts";

test("signup rules match the backend (@@auth_signup_story@@)", () => {
  assert.deepEqual(signupErrors({ email: "mara@example.com", passphrase: "late night mixing", role: "guest" }), []);
  assert.equal(signupErrors({ email: "mara@example.com", passphrase: "mara-2026-x", role: "host" }).length, 1);
  assert.equal(signupErrors({ email: "nope", passphrase: "short", role: "guest" }).length, 2);
});

test("PKCE challenge follows RFC 7636 (@@auth_oauth@@)", async () => {
  const challenge = await codeChallenge("studio-verifier-".repeat(3));
  assert.equal(challenge.length, 43);
  assert.match(challenge, /^[A-Za-z0-9_-]+$/);
  const url = new URL(await googleAuthUrl("client-123", "https://app.example/cb", "v".repeat(43), "st"));
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.equal(url.searchParams.get("state"), "st");
});
'''

CODE["web/src/profile/profileForm.ts"] = r'''
// Profile editing form. Implements WBS-003.
// @@prof_schema@@ handle rules (mirrors services/profiles/profile.py), @@prof_guest@@ portfolio links.

const HANDLE = /^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$/;
const MAX_PORTFOLIO_LINKS = 5;

export function handleError(raw: string): string | null {
  const handle = raw.trim().toLowerCase();
  if (!HANDLE.test(handle) || handle.includes("--")) {
    return "Handles use 3-30 lowercase letters, digits and single hyphens.";
  }
  return null;
}

/** @@prof_guest@@: keep https links, drop duplicates, cap at five. */
export function normalizePortfolio(links: string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const link of links.map((l) => l.trim())) {
    if (!link.startsWith("https://") || seen.has(link)) continue;
    seen.add(link);
    result.push(link);
    if (result.length === MAX_PORTFOLIO_LINKS) break;
  }
  return result;
}
'''

CODE["web/src/listings/listingApi.ts"] = r'''
// Listing editor API calls. Implements WBS-005 (@@list_create@@, @@list_photos@@).
import { postJson, type Fetcher } from "../lib/api.ts";

export interface StudioSummary {
  id: string;
  title: string;
  city: string;
  hourlyRateMinor: number;
  dayRateMinor?: number;
  currency: string;
  photos: string[];
}

export interface DraftInput {
  title: string;
  city: string;
}

/** @@list_create@@: the first step only needs a title and a city. */
export function createDraft(fetcher: Fetcher, input: DraftInput): Promise<StudioSummary> {
  return postJson<StudioSummary>(fetcher, "/api/listings", { title: input.title.trim(), city: input.city });
}

/** @@list_photos@@: the cover is the first photo; at least three are needed to publish. */
export function coverPhoto(studio: StudioSummary): string | undefined {
  return studio.photos[0];
}

export function missingPhotos(studio: StudioSummary): number {
  return Math.max(0, 3 - studio.photos.length);
}
'''

CODE["web/src/listings/listingApi.test.ts"] = r'''
// Tests for WBS-005 listing API helpers: @@list_create@@, @@list_photos@@.
import { test } from "node:test";
import assert from "node:assert/strict";
import { coverPhoto, createDraft, missingPhotos, type StudioSummary } from "./listingApi.ts";

const studio: StudioSummary = {
  id: "lst_00001",
  title: "Live room",
  city: "Berlin",
  hourlyRateMinor: 4500,
  currency: "EUR",
  photos: ["a.jpg"],
};

test("photo rules (@@list_photos@@)", () => {
  assert.equal(coverPhoto(studio), "a.jpg");
  assert.equal(missingPhotos(studio), 2);
});

test("draft creation posts title and city (@@list_create@@)", async () => {
  let sent: unknown;
  const fetcher = async (_path: string, init?: RequestInit) => {
    sent = JSON.parse(String(init?.body));
    return new Response(JSON.stringify(studio), { status: 201 });
  };
  const created = await createDraft(fetcher, { title: "  Live room ", city: "Berlin" });
  assert.deepEqual(sent, { title: "Live room", city: "Berlin" });
  assert.equal(created.id, "lst_00001");
});
'''

CODE["web/src/listings/StudioCard.tsx"] = r'''
// Studio card in search results and on host pages. WBS-005.
// @@list_photos@@ cover photo, @@list_pricing_story@@ hourly and day rates.
import type { StudioSummary } from "./listingApi.ts";

export function formatMoney(minor: number, currency: string): string {
  return new Intl.NumberFormat("en", { style: "currency", currency }).format(minor / 100);
}

export function StudioCard({ studio }: { studio: StudioSummary }) {
  const cover = studio.photos[0];
  return (
    <article className="studio-card">
      {cover ? <img src={cover} alt={studio.title} loading="lazy" /> : <div className="studio-card__placeholder" />}
      <h3>{studio.title}</h3>
      <p className="studio-card__city">{studio.city}</p>
      <p className="studio-card__price">
        {formatMoney(studio.hourlyRateMinor, studio.currency)} / hour
        {studio.dayRateMinor !== undefined && <> · {formatMoney(studio.dayRateMinor, studio.currency)} / day</>}
      </p>
    </article>
  );
}
'''

CODE["web/src/search/searchClient.ts"] = r'''
// Search client for the results page. Implements WBS-006.
// @@search_story@@ query building, @@search_empty@@ empty-result suggestions, @@search_map@@ price pins.

export interface SearchInput {
  city: string;
  date?: string; // YYYY-MM-DD
  gear: string[];
  text?: string;
}

/** @@search_story@@: the query string sent to the search service. */
export function buildQuery(input: SearchInput): string {
  const parts = [`city:${input.city.trim().toLowerCase()}`];
  if (input.text) parts.push(input.text.trim());
  for (const g of input.gear) parts.push(`gear:${g.replace(/\s+/g, "")}`);
  const params = new URLSearchParams({ q: parts.join(" ") });
  if (input.date) params.set("date", input.date);
  return `/api/search?${params.toString()}`;
}

/** @@search_empty@@: what to offer when nothing matched. */
export function emptySuggestions(input: SearchInput, nearbyCities: string[]): string[] {
  const suggestions: string[] = [];
  if (input.gear.length > 0) suggestions.push("Remove a gear filter");
  if (input.date) suggestions.push("Try flexible dates");
  for (const city of nearbyCities.slice(0, 2)) suggestions.push(`Search in ${city}`);
  return suggestions;
}

/** @@search_map@@: compact price label for a map pin, e.g. "€45". */
export function pinLabel(hourlyRateMinor: number, currency: string): string {
  const symbol = currency === "EUR" ? "€" : currency === "GBP" ? "£" : `${currency} `;
  return `${symbol}${Math.round(hourlyRateMinor / 100)}`;
}
'''

CODE["web/src/search/searchClient.test.ts"] = r'''
// Tests for WBS-006 search client: @@search_story@@, @@search_empty@@, @@search_map@@.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildQuery, emptySuggestions, pinLabel } from "./searchClient.ts";

test("query carries city, gear and date (@@search_story@@)", () => {
  const url = new URL(buildQuery({ city: " Berlin ", gear: ["Neumann U87"], date: "2026-11-24" }), "https://x.example");
  assert.equal(url.searchParams.get("q"), "city:berlin gear:NeumannU87");
  assert.equal(url.searchParams.get("date"), "2026-11-24");
});

test("empty results suggest ways out (@@search_empty@@)", () => {
  const tips = emptySuggestions({ city: "berlin", gear: ["plate reverb"], date: "2026-11-24" }, ["Potsdam", "Leipzig", "Halle"]);
  assert.deepEqual(tips, ["Remove a gear filter", "Try flexible dates", "Search in Potsdam", "Search in Leipzig"]);
});

test("map pins show rounded prices (@@search_map@@)", () => {
  assert.equal(pinLabel(4550, "EUR"), "€46");
  assert.equal(pinLabel(3000, "USD"), "USD 30");
});
'''

CODE["web/src/search/SearchMap.tsx"] = r'''
// Map view with price pins. WBS-006, @@search_map@@.
import { pinLabel } from "./searchClient.ts";

export interface MapStudio {
  id: string;
  lat: number;
  lng: number;
  hourlyRateMinor: number;
  currency: string;
}

export function SearchMap({ studios, onSelect }: { studios: MapStudio[]; onSelect: (id: string) => void }) {
  return (
    <div className="search-map" role="region" aria-label="Studios on the map">
      {studios.map((s) => (
        <button
          key={s.id}
          className="search-map__pin"
          data-lat={s.lat}
          data-lng={s.lng}
          onClick={() => onSelect(s.id)}
        >
          {pinLabel(s.hourlyRateMinor, s.currency)}
        </button>
      ))}
    </div>
  );
}
'''

CODE["web/src/checkout/checkoutFlow.ts"] = r'''
// Checkout flow on the web. Implements WBS-009.
// @@book_checkout_story@@ three steps, @@book_modes@@ instant vs request, @@book_hold@@ hold countdown.

export type Step = "time_and_addons" | "details" | "payment";
export const STEPS: readonly Step[] = ["time_and_addons", "details", "payment"];

export function nextStep(current: Step): Step | null {
  const i = STEPS.indexOf(current);
  return i >= 0 && i < STEPS.length - 1 ? STEPS[i + 1] : null;
}

/** @@book_modes@@: the button label tells the guest whether they are charged now. */
export function submitLabel(instantBook: boolean): string {
  return instantBook ? "Book and pay" : "Request to book (you are charged only if the host accepts)";
}

/** @@book_hold@@: seconds left on the 15-minute hold, never negative. */
export function holdSecondsLeft(heldAtMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((heldAtMs + 15 * 60 * 1000 - nowMs) / 1000));
}
'''

CODE["web/src/checkout/checkoutFlow.test.ts"] = r'''
// Tests for WBS-009 checkout flow: @@book_checkout_story@@, @@book_modes@@, @@book_hold@@.
import { test } from "node:test";
import assert from "node:assert/strict";
import { holdSecondsLeft, nextStep, submitLabel } from "./checkoutFlow.ts";

test("three steps in order (@@book_checkout_story@@)", () => {
  assert.equal(nextStep("time_and_addons"), "details");
  assert.equal(nextStep("details"), "payment");
  assert.equal(nextStep("payment"), null);
});

test("labels differ by booking mode (@@book_modes@@)", () => {
  assert.match(submitLabel(false), /only if the host accepts/);
  assert.equal(submitLabel(true), "Book and pay");
});

test("hold countdown (@@book_hold@@)", () => {
  assert.equal(holdSecondsLeft(0, 60_000), 840);
  assert.equal(holdSecondsLeft(0, 16 * 60_000), 0);
});
'''

CODE["web/src/inbox/threadList.ts"] = r'''
// Inbox thread list and live updates. Implements WBS-012.
// @@msg_inbox_story@@ inbox ordering and badges, @@msg_ws@@ WebSocket reconnects.

export interface ThreadPreview {
  id: string;
  counterpart: string;
  listingTitle: string;
  bookingReference?: string;
  lastMessageAt: number;
  unread: number;
}

/** @@msg_inbox_story@@: threads with a booking first when equally recent, newest first. */
export function sortThreads(threads: ThreadPreview[]): ThreadPreview[] {
  return [...threads].sort(
    (a, b) => b.lastMessageAt - a.lastMessageAt || Number(!!b.bookingReference) - Number(!!a.bookingReference),
  );
}

export function unreadBadge(threads: ThreadPreview[]): string {
  const total = threads.reduce((sum, t) => sum + t.unread, 0);
  return total > 99 ? "99+" : total > 0 ? String(total) : "";
}

/** @@msg_ws@@: exponential backoff with a ceiling, so a restart does not stampede the server. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, attempt));
}
'''

CODE["web/src/seo/landingPages.ts"] = r'''
// City landing pages. Implements WBS-008.
// @@seo_city@@ city and studio-type pages, @@seo_sitemap@@ canonical URLs and indexing.

export interface LandingPage {
  city: string;
  studioType: string;
  listingCount: number;
}

function slug(text: string): string {
  return text.trim().toLowerCase().normalize("NFKD").replace(/[^\w\s-]/g, "").replace(/[\s_]+/g, "-");
}

/** @@seo_city@@: /studios/berlin/recording-studio */
export function landingPath(page: LandingPage): string {
  return `/studios/${slug(page.city)}/${slug(page.studioType)}`;
}

/** @@seo_sitemap@@: canonical URLs never carry filter parameters. */
export function canonicalUrl(origin: string, path: string): string {
  const url = new URL(path, origin);
  url.search = "";
  url.hash = "";
  return url.toString();
}

export function shouldIndex(page: LandingPage): boolean {
  return page.listingCount >= 5;
}
'''

CODE["web/src/seo/landingPages.test.ts"] = r'''
// Tests for WBS-008 landing pages: @@seo_city@@, @@seo_sitemap@@.
import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalUrl, landingPath, shouldIndex } from "./landingPages.ts";

test("paths and canonical URLs", () => {
  const page = { city: "São Paulo", studioType: "Photo studio", listingCount: 4 };
  assert.equal(landingPath(page), "/studios/sao-paulo/photo-studio");
  assert.equal(canonicalUrl("https://studios.example", "/studios/berlin/podcast?gear=u87#map"), "https://studios.example/studios/berlin/podcast");
  assert.equal(shouldIndex(page), false);
});
'''

CODE["web/src/help/articles.ts"] = r'''
// Help center content. Implements WBS-016 (scaffold).
// @@help_home@@ top questions, @@help_store@@ article search.

export interface Article {
  slug: string;
  title: string;
  body: string;
  views: number;
}

/** @@help_home@@: the ten most viewed articles, shown without login. */
export function topQuestions(articles: Article[], limit = 10): Article[] {
  return [...articles].sort((a, b) => b.views - a.views).slice(0, limit);
}

/** @@help_store@@: naive search until the article index exists; title hits rank first. */
export function searchArticles(articles: Article[], query: string): Article[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const inTitle = articles.filter((a) => a.title.toLowerCase().includes(q));
  const inBody = articles.filter((a) => !inTitle.includes(a) && a.body.toLowerCase().includes(q));
  return [...inTitle, ...inBody];
}
'''

CODE["web/src/admin/bookingLookup.ts"] = r'''
// Admin console: booking lookup for support agents. Implements WBS-017.
// @@admin_lookup@@ lookup by reference, email or phone; @@admin_rbac@@ role checks.

export type AdminRole = "support" | "finance" | "trust" | "superadmin";

export type LookupKey =
  | { kind: "reference"; value: string }
  | { kind: "email"; value: string }
  | { kind: "phone"; value: string };

/** @@admin_lookup@@: decide what the agent typed into the single search box. */
export function parseLookup(input: string): LookupKey {
  const value = input.trim();
  if (/^BK-[A-Z0-9]{4,8}$/i.test(value)) return { kind: "reference", value: value.toUpperCase() };
  if (value.includes("@")) return { kind: "email", value: value.toLowerCase() };
  return { kind: "phone", value: value.replace(/[^\d+]/g, "") };
}

/** @@admin_rbac@@: refunds above 300 EUR need a second approver from finance. */
export function canIssueRefund(role: AdminRole, amountMinor: number, secondApprover?: AdminRole): boolean {
  if (role !== "support" && role !== "finance" && role !== "superadmin") return false;
  if (amountMinor <= 30_000) return true;
  return secondApprover === "finance" || secondApprover === "superadmin";
}
'''

CODE["web/src/legacy/banner.ts"] = r'''
// Old promo banner from the landing page before the redesign. Still imported by the
// marketing pages that have not moved yet.

export interface BannerOptions {
  text: string;
  href: string;
  dismissKey: string;
}

export function shouldShowBanner(options: BannerOptions, storage: Pick<Storage, "getItem">): boolean {
  return storage.getItem(options.dismissKey) !== "1";
}

export function dismissBanner(options: BannerOptions, storage: Pick<Storage, "setItem">): void {
  storage.setItem(options.dismissKey, "1");
}

export function bannerHtml(options: BannerOptions): string {
  const text = options.text.replace(/</g, "&lt;");
  return `<a class="promo-banner" href="${encodeURI(options.href)}">${text}</a>`;
}
'''

# ---------------------------------------------------------------------------
# Work items. `keys` are the chunks the item's code implements; items that are
# done or under review list exactly those, the others also take the remaining
# chunks of their topic (see build_wbs).
# ---------------------------------------------------------------------------
def py_tests(name: str) -> str:
    return f"python3 -m unittest discover -s tests/python -p 'test_{name}*.py'"


def node_test(path: str) -> str:
    return f"node --experimental-strip-types --test {path}"


CARGO_SEARCH = "cargo test --manifest-path services/search/Cargo.toml --offline"
# Quality gates in Concord's vocabulary (docs/formats.md); money work is also kept small.
GATES_STD = ["no-todo-in-new-files", "tests-changed"]
GATES_MONEY = GATES_STD + ["max-lines:600"]

ITEMS = [
    dict(id="WBS-001", title="Repository baseline: CI, health checks and structured logs",
         phase="P0 Foundations", topic="infra",
         keys=["infra_health", "infra_ci", "infra_logging"],
         scope=["infra/*.py", "web/src/lib/**", "tests/python/test_infra*.py"],
         ac=["Every service answers /healthz and /readyz",
             "A pull request cannot merge while a required check fails",
             "Log lines are JSON and never contain tokens or card data"],
         tests=[py_tests("infra")], smoke=["python3 infra/healthcheck.py --self-check"],
         gates=GATES_STD, risk="medium", mode="full", deps=[], access=["staging-db"]),
    dict(id="WBS-002", title="Signup, login and sessions",
         phase="P0 Foundations", topic="auth",
         keys=["auth_signup_story", "auth_hash", "auth_sessions", "auth_oauth", "auth_ratelimit", "auth_recovery"],
         scope=["services/auth/**", "web/src/auth/**", "tests/python/test_auth*.py"],
         ac=["A guest can sign up with email or Google and is signed in afterwards",
             "Passphrases are stored only as scrypt hashes",
             "Five failed logins lock the account for 15 minutes",
             "A recovery link stops working after 30 minutes"],
         tests=[py_tests("auth"), node_test("web/src/auth/login.test.ts")],
         gates=GATES_STD, risk="high", mode="review_only", deps=["WBS-001"]),
    dict(id="WBS-003", title="Profiles for hosts and guests",
         phase="P0 Foundations", topic="profiles",
         keys=["prof_public", "prof_schema", "prof_avatar", "prof_guest"],
         scope=["services/profiles/**", "web/src/profile/**", "tests/python/test_profiles*.py"],
         ac=["A public profile never shows an email address or phone number",
             "Handles are unique and follow the handle rules",
             "Guests can show up to five portfolio links"],
         tests=[py_tests("profiles")], gates=GATES_STD, risk="low", mode="full", deps=["WBS-002"]),
    dict(id="WBS-004", title="Analytics event pipeline and health metrics",
         phase="P0 Foundations", topic="analytics",
         keys=["an_schema", "an_ingest", "an_health"],
         scope=["services/analytics/**", "tests/python/test_analytics*.py"],
         ac=["Events outside the tracking plan are rejected",
             "No event carries an email address, phone number or message text",
             "The founder report shows liquidity per week"],
         tests=[py_tests("analytics")], gates=GATES_STD, risk="low", mode="full",
         deps=["WBS-001"], access=["staging-db"]),
    dict(id="WBS-005", title="Studio listings: create, price and publish",
         phase="P1 Supply & discovery", topic="listings",
         keys=["list_create", "list_photos", "list_pricing_story", "list_rules", "list_model",
               "list_pricing", "list_validate"],
         scope=["services/listings/**", "web/src/listings/**", "tests/python/test_listings*.py"],
         ac=["A host can publish a listing with a title, address, price and three photos",
             "Evening and weekend hours use the peak multiplier",
             "A day rate caps bookings of eight hours or more",
             "The exact address is hidden until a booking is confirmed"],
         tests=[py_tests("listings"), node_test("web/src/listings/listingApi.test.ts")],
         gates=GATES_STD, risk="medium", mode="full", deps=["WBS-002", "WBS-003"]),
    dict(id="WBS-006", title="Studio search: index, query parsing and ranking",
         phase="P1 Supply & discovery", topic="search",
         keys=["search_story", "search_index", "search_query", "search_ranking", "search_map", "search_empty"],
         scope=["services/search/**", "web/src/search/**"],
         ac=["A search for a city and a gear term returns only studios in that city with that gear",
             "A title match ranks above a gear-only match",
             "An empty result offers at least two ways to widen the search",
             "Map pins show the hourly price rounded to whole units"],
         tests=[CARGO_SEARCH, node_test("web/src/search/searchClient.test.ts")],
         gates=GATES_STD, risk="medium", mode="full", deps=["WBS-005"]),
    dict(id="WBS-006A", title="Search follow-up: availability filter and typo tolerance",
         phase="P1 Supply & discovery", topic="search",
         keys=["search_avail", "search_filters_story", "search_typo"],
         scope=["services/search/src/filters.rs", "services/search/src/typo.rs"],
         ac=["Studios booked for the requested time are hidden",
             "'neuman' finds studios with a Neumann microphone",
             "Words of three letters or fewer are matched exactly"],
         tests=[CARGO_SEARCH], gates=GATES_STD, risk="low", mode="full", deps=["WBS-006"],
         budget={"max_files": 6, "max_lines": 400}),
    dict(id="WBS-007", title="Calendar sync: iCal import and Google Calendar",
         phase="P1 Supply & discovery", topic="calendar",
         keys=["cal_ical", "cal_story"],
         scope=["services/calendar/**", "tests/python/test_calendar*.py"],
         ac=["Busy blocks from an iCal feed hide the matching slots within 15 minutes",
             "Event titles from external calendars are never stored"],
         tests=[py_tests("calendar")], gates=GATES_STD, risk="medium", mode="full",
         deps=["WBS-005"], access=["google-calendar-oauth"]),
    dict(id="WBS-008", title="City landing pages and sitemaps",
         phase="P1 Supply & discovery", topic="seo",
         keys=["seo_city", "seo_sitemap"],
         scope=["web/src/seo/**"],
         ac=["Every city and studio type with five or more listings has a landing page",
             "Canonical URLs carry no filter parameters"],
         tests=[node_test("web/src/seo/landingPages.test.ts")], gates=GATES_STD, risk="low",
         mode="full", deps=["WBS-005", "WBS-006"]),
    dict(id="WBS-009", title="Booking and checkout",
         phase="P2 Transactions", topic="booking",
         keys=["book_avail", "book_hold", "book_sm", "book_checkout_story", "book_modes",
               "book_cancel", "book_refund_calc"],
         scope=["services/booking/**", "web/src/checkout/**", "tests/python/test_booking*.py"],
         ac=["A guest can instant-book a free slot in three steps",
             "A held slot cannot be booked by anyone else for 15 minutes",
             "Request to book only authorizes the card until the host accepts",
             "Cancellation refunds follow the listing's policy tiers"],
         tests=[py_tests("booking"), node_test("web/src/checkout/checkoutFlow.test.ts")],
         smoke=["python3 -m services.booking.checkout --smoke"],
         gates=GATES_STD, risk="high", mode="full", deps=["WBS-002", "WBS-005"]),
    dict(id="WBS-010", title="Payments via Stripe: PaymentIntents, refunds and webhooks",
         phase="P2 Transactions", topic="payments",
         keys=["pay_boundary", "pay_idem", "pay_pi", "pay_refunds", "pay_webhooks", "pay_minor",
               "pay_story", "pay_receipts"],
         scope=["services/payments/**", "tests/python/test_payments*.py"],
         ac=["A PaymentIntent is created once per booking attempt, even when the request is retried",
             "A webhook with a bad or stale signature is rejected and nothing is processed",
             "A refund can never exceed what is left on the charge",
             "Receipts show net, VAT and gross for DE, FR, ES, NL and GB"],
         tests=[py_tests("payments")],
         smoke=["python3 -m services.payments.stripe_gateway --dry-run"],
         gates=GATES_MONEY, risk="critical", mode="review_only", deps=["WBS-009"],
         access=["stripe-test-keys"], budget={"max_files": 40, "max_lines": 2000}),
    dict(id="WBS-011", title="Host payouts with Stripe Connect",
         phase="P2 Transactions", topic="payouts",
         keys=["po_story", "po_schedule", "po_holds"], extra_ids=["TD-0999"],
         scope=["services/payouts/**", "tests/python/test_payouts*.py"],
         ac=["Hosts are paid 24 hours after the session unless a dispute is open",
             "New hosts have a 7-day hold on their first three payouts",
             "A bank detail change pauses payouts for 72 hours"],
         tests=[py_tests("payouts")], gates=GATES_MONEY, risk="critical", mode="review_only",
         deps=["WBS-010"], access=["stripe-test-keys", "stripe-connect-payouts"]),
    dict(id="WBS-012", title="Guest-host messaging and inbox",
         phase="P3 Conversations & trust", topic="messaging",
         keys=["msg_model", "msg_redact", "msg_inbox_story", "msg_prebook", "msg_ws"],
         scope=["services/messaging/**", "web/src/inbox/**", "tests/python/test_messaging*.py"],
         ac=["Phone numbers, emails and links are masked until a booking is confirmed",
             "There is exactly one thread per guest, host and listing",
             "The inbox badge shows the unread count across threads"],
         tests=[py_tests("messaging")],
         gates=GATES_STD, risk="medium", mode="full", deps=["WBS-009"],
         budget={"max_files": 25, "max_lines": 1200}),
    dict(id="WBS-013", title="Notifications: confirmations and reminders",
         phase="P3 Conversations & trust", topic="notifications",
         keys=["notif_dispatch", "notif_story"],
         scope=["services/notifications/**", "tests/python/test_notifications*.py"],
         ac=["A booking confirmation reaches the guest by push, SMS or email",
             "No SMS is sent during quiet hours"],
         tests=[py_tests("notifications")], gates=GATES_STD, risk="medium", mode="full",
         deps=["WBS-002"], access=["sendgrid-sandbox", "twilio-test-credentials"]),
    dict(id="WBS-014", title="Two-sided reviews and ratings",
         phase="P3 Conversations & trust", topic="reviews",
         keys=["rev_blind", "rev_agg"],
         scope=["services/reviews/**", "tests/python/test_reviews*.py"],
         ac=["Neither side sees the other's review before both are in or 14 days have passed",
             "A studio with one five-star review does not outrank one with fifty good ones"],
         tests=[py_tests("reviews")], gates=GATES_STD, risk="low", mode="full", deps=["WBS-009"]),
    dict(id="WBS-015", title="Trust & safety: fraud rules for new bookings",
         phase="P3 Conversations & trust", topic="trust",
         keys=["trust_rules", "trust_velocity"], exclude=["trust_idv_gap"],
         scope=["services/trust/**", "tests/python/test_trust*.py"],
         ac=["New accounts booking over 500 euros in their first hour go to manual review",
             "Repeated card attempts block the booking",
             "Every decision lists the rules that fired"],
         tests=[py_tests("trust")], gates=GATES_STD, risk="high", mode="review_only", deps=["WBS-010"]),
    dict(id="WBS-016", title="Help center",
         phase="P4 Operations & growth", topic="help",
         keys=["help_home", "help_store"],
         scope=["web/src/help/**"],
         ac=["The ten most viewed articles show on the help home without login",
             "Search finds articles by title before body text"],
         gates=GATES_STD, risk="low", mode="full", deps=["WBS-002"]),
    dict(id="WBS-017", title="Admin console: booking lookup and refund approvals",
         phase="P4 Operations & growth", topic="admin",
         keys=["admin_lookup", "admin_rbac"],
         scope=["web/src/admin/**"],
         ac=["Support finds a booking by reference, email or phone",
             "Refunds above 300 euros need a second approver",
             "Every admin action is in the audit log"],
         gates=GATES_STD, risk="high", mode="disabled", deps=["WBS-009", "WBS-010"]),
    dict(id="WBS-018", title="Experimentation: assignment and exposure logging",
         phase="P4 Operations & growth", topic="experiments",
         keys=["exp_assign", "exp_exposure"],
         scope=["services/experiments/**", "tests/python/test_experiments*.py"],
         ac=["A user gets the same variant on every device",
             "Exposure is logged once per user and experiment"],
         tests=[py_tests("experiments")], gates=GATES_STD, risk="low", mode="full", deps=["WBS-004"]),
    dict(id="WBS-019", title="Observability: SLOs, alerting and status page",
         phase="P4 Operations & growth", topic="infra",
         keys=["infra_slo", "infra_status"],
         scope=["infra/observability/**"],
         ac=["Checkout and search alert on a fast error-budget burn",
             "The status page shows degraded service within 5 minutes"],
         tests=["python3 -m py_compile infra/observability/slo.py"], gates=GATES_STD,
         risk="medium", mode="full", deps=["WBS-001"]),
    dict(id="WBS-020", title="FanSub: fan subscriptions for studios",
         phase="P5 New lines", topic="fansub",
         keys=["fan_story", "fan_billing", "fan_entitle"],
         scope=["services/fansub/**"],
         ac=["A fan can subscribe to a studio's tier and cancel at any time",
             "Posts above a fan's tier stay hidden"],
         tests=["python3 -m py_compile services/fansub/plans.py"], gates=GATES_MONEY,
         risk="high", mode="review_only", deps=["WBS-010"], access=["stripe-test-keys"]),
    dict(id="WBS-021", title="Smart docs: rental agreements signed at checkout",
         phase="P5 New lines", topic="contracts",
         keys=["doc_story", "doc_render", "doc_audit"],
         scope=["services/contracts/**", "tests/python/test_contracts*.py"],
         ac=["The rental agreement is filled from the booking and signed in checkout",
             "Tampering with a signature event is detected"],
         tests=[py_tests("contracts")], gates=GATES_STD, risk="medium", mode="full", deps=["WBS-009"]),
    dict(id="WBS-022", title="Rate limits at the API gateway",
         phase="P4 Operations & growth", topic=None,
         keys=["infra_gateway"], also=["auth_ratelimit", "trust_velocity"],
         scope=["services/gateway/**", "tests/python/test_gateway*.py"],
         ac=["Login, checkout and search each have their own per-client limit",
             "A burst above the limit gets HTTP 429 with a Retry-After header"],
         tests=[py_tests("gateway")], gates=GATES_STD, risk="medium", mode="full", deps=["WBS-001"]),
]

# The final status of each item after the queue below (used to decide how complete it is).
FINISHED = {"WBS-001", "WBS-002", "WBS-003", "WBS-004", "WBS-005", "WBS-006", "WBS-009", "WBS-010"}

QUEUE = [
    ("2026-11-02T08:55:00Z", "WBS-001", "todo", "concord", "queue seeded from ops/wbs.json", None),
    ("2026-11-02T09:00:12Z", "WBS-001", "in_progress", "AGENT-1", "dispatched", 1),
    ("2026-11-02T09:04:40Z", "WBS-002", "in_progress", "AGENT-2", "dispatched", 1),
    ("2026-11-02T14:31:09Z", "WBS-001", "review", "AGENT-1", "run finished; test commands passed", None),
    ("2026-11-02T16:05:44Z", "WBS-001", "done", "concord", "review approved; all gates passed", None),
    ("2026-11-03T08:10:02Z", "WBS-003", "in_progress", "AGENT-1", "dispatched", 1),
    ("2026-11-03T11:47:30Z", "WBS-002", "review", "AGENT-2", "run finished; 2 test commands passed", None),
    ("2026-11-03T12:20:15Z", "WBS-002", "awaiting_approval", "concord", "high risk: waiting for the owner's approval", None),
    ("2026-11-04T09:12:00Z", "WBS-002", "done", "lena", "approved after signing up and back in on staging", None),
    ("2026-11-04T10:40:51Z", "WBS-003", "review", "AGENT-1", "run finished; tests green", None),
    ("2026-11-04T11:02:37Z", "WBS-003", "done", "concord", "review approved; all gates passed", None),
    ("2026-11-05T08:30:00Z", "WBS-005", "in_progress", "AGENT-3", "dispatched", 1),
    ("2026-11-05T08:31:12Z", "WBS-004", "in_progress", "AGENT-4", "dispatched", 1),
    ("2026-11-06T07:58:44Z", "WBS-004", "blocked", "AGENT-4", "staging warehouse unreachable; the ingestion test cannot run", None),
    ("2026-11-06T15:22:09Z", "WBS-005", "review", "AGENT-3", "run finished; tests green", None),
    ("2026-11-07T09:05:31Z", "WBS-005", "done", "concord", "review approved; all gates passed", None),
    ("2026-11-07T13:40:00Z", "WBS-004", "todo", "lena", "unblocked: warehouse reachable again after the VPN fix", None),
    ("2026-11-08T08:00:05Z", "WBS-006", "in_progress", "AGENT-1", "dispatched", 1),
    ("2026-11-08T08:02:40Z", "WBS-009", "in_progress", "AGENT-2", "dispatched", 1),
    ("2026-11-10T17:18:22Z", "WBS-006", "review", "AGENT-1", "run finished; see docs/runs/2026-11-10-WBS-006-AGENT-1.md", None),
    ("2026-11-11T09:03:10Z", "WBS-006", "in_progress", "concord", "review: changes requested, 2 acceptance criteria failed", 2),
    "TORN",
    ("2026-11-12T16:30:00Z", "WBS-009", "awaiting_approval", "concord", "high risk: waiting for the owner's approval", None),
    ("2026-11-13T08:45:12Z", "WBS-009", "done", "lena", "approved; tried instant book and request to book on staging", None),
    ("2026-11-13T14:10:48Z", "WBS-006", "review", "AGENT-1", "run finished; cargo and web tests green", None),
    ("2026-11-14T09:20:00Z", "WBS-006", "done", "concord", "review approved; all gates passed", None),
    ("2026-11-14T09:20:01Z", "WBS-006A", "todo", "concord", "follow-up from the WBS-006 review: availability filter and typo tolerance", None),
    ("2026-11-14T11:00:27Z", "WBS-004", "in_progress", "AGENT-4", "dispatched", 2),
    ("2026-11-15T08:15:33Z", "WBS-010", "in_progress", "AGENT-3", "dispatched", 1),
    ("2026-11-16T10:02:11Z", "WBS-011", "blocked", "concord", "access check stripe-connect-payouts is BLOCKED", None),
    ("2026-11-17T07:44:09Z", "WBS-042", "in_progress", "AGENT-4", "dispatched", 1),
    ("2026-11-18T09:30:00Z", "WBS-013", "in_progress", "AGENT-4", "dispatched", 1),
    ("2026-11-19T16:12:54Z", "WBS-013", "blocked", "AGENT-4", "SMS consent wording not yet approved by legal", None),
    ("2026-11-20T11:27:40Z", "WBS-004", "review", "AGENT-4", "run finished; tests green", None),
    ("2026-11-20T18:05:16Z", "WBS-010", "review", "AGENT-3", "run finished; see docs/runs/2026-11-20-WBS-010-AGENT-3.md", None),
    ("2026-11-21T09:14:02Z", "WBS-010", "awaiting_approval", "concord", "critical risk: waiting for the owner's approval", None),
    ("2026-11-22T10:00:00Z", "WBS-014", "todo", "lena", "moved up: reviews are needed before the beta", None),
    ("2026-11-23T08:05:19Z", "WBS-012", "in_progress", "AGENT-2", "dispatched", 1),
    ("2026-11-23T08:05:27Z", "WBS-012", "todo", "concord", "agent exited with code 2 before changing anything; lock released, item put back", None),
    ("2026-11-24T08:12:41Z", "WBS-012", "in_progress", "AGENT-2", "dispatched", 2),
]
TORN_LINE = '{"id":"WBS-009","status":"review","at":"2026-11-12T10:4'

LOCK = {"agent": "AGENT-2", "task_id": "WBS-012", "acquired_at": "2026-11-24T08:12:40Z",
        "host": "build-2", "pid": 31877}

ACCESS = {
    "stripe-test-keys": ("PASS", "2026-11-24T07:00:00Z", "STRIPE_API_KEY is set in the CI store and is a test-mode key"),
    "stripe-connect-payouts": ("BLOCKED", "2026-11-24T07:00:02Z", "Connect platform profile is still under review by Stripe; payouts cannot be exercised"),
    "google-calendar-oauth": ("PASS", "2026-11-24T07:00:04Z", "OAuth consent screen verified for the staging client"),
    "sendgrid-sandbox": ("PASS", "2026-11-24T07:00:05Z", "sandbox mode on; sending domain verified"),
    "twilio-test-credentials": ("PASS", "2026-11-24T07:00:07Z", "test credentials present; only magic test numbers are used"),
    "staging-db": ("PASS", "2026-11-24T07:00:09Z", "read-write role reachable from CI"),
}

MODEL_DECISIONS = [
    ("2026-11-02T09:00:10Z", "WBS-001", "AGENT-1", "codex", "gpt-5-codex", "medium risk, mostly configuration; the faster model is enough"),
    ("2026-11-02T09:04:38Z", "WBS-002", "AGENT-2", "claude", "claude-sonnet-4-5", "high risk (authentication); stronger model and review_only"),
    ("2026-11-03T08:10:00Z", "WBS-003", "AGENT-1", "codex", "gpt-5-codex", "low risk CRUD work"),
    ("2026-11-05T08:29:58Z", "WBS-005", "AGENT-3", "cursor-agent", "auto", "frontend-heavy item; the editor agent has the component context"),
    ("2026-11-08T08:00:03Z", "WBS-006", "AGENT-1", "claude", "claude-sonnet-4-5", "Rust crate plus web client; needs careful tests"),
    ("2026-11-08T08:02:38Z", "WBS-009", "AGENT-2", "claude", "claude-sonnet-4-5", "high risk: state machine and refunds"),
    ("2026-11-15T08:15:31Z", "WBS-010", "AGENT-3", "claude", "claude-opus-4-1", "critical risk: money movement; strongest model, review_only"),
    ("2026-11-24T08:12:39Z", "WBS-012", "AGENT-2", "codex", "gpt-5-codex", "attempt 1 exited with code 2 before doing any work; switching CLI for attempt 2"),
]

# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------
ID_RE = re.compile(r"\b(?:NT|TD)-\d{4}\b")
WBS_RE = re.compile(r"\bWBS-\d{3}[A-Z]?\b")
NBH = "\u2011"  # non-breaking hyphen: IDs in README.md are written with it (see there)
SECRET_PATTERNS = [r"sk-[A-Za-z0-9]{8,}", r"sk_(?:live|test)_", r"rk_(?:live|test)_", r"pk_(?:live|test)_",
                   r"whsec_", r"AKIA[0-9A-Z]{12,}", r"gh[pousr]_[A-Za-z0-9]{20,}", r"-----BEGIN [A-Z ]*PRIVATE KEY",
                   r"xox[abp]-", r"sk-ant-", r"AIza[0-9A-Za-z_-]{20,}"]


def lower_first(title: str) -> str:
    first = title.split(" ", 1)[0]
    if first in PROPER_WORDS or not first[1:].islower():
        return title
    return title[0].lower() + title[1:]


class Chunk:
    def __init__(self, cid, title, topic, kind, priority, key):
        self.id, self.title, self.topic, self.kind = cid, title, topic, kind
        self.priority, self.key = priority, key
        self.summary = ""
        self.source = ""
        self.line = 0


def build_chunks(rng: random.Random) -> list[Chunk]:
    chunks = []
    for ti, topic in enumerate(TOPICS):
        for kind, base, quals in (("NT", topic["nt"], NT_QUALIFIERS), ("TD", topic["td"], TD_QUALIFIERS)):
            entries = [(e, None, None) if isinstance(e, str) else e for e in base]
            count = rng.choice([8, 9])
            assert len(entries) <= 9
            plain = [t for t, k, _ in entries if k is None] or [t for t, _, _ in entries]
            titles = {t for t, _, _ in entries}
            while len(entries) < count:
                b = rng.choice(plain)
                q = rng.choice(quals)
                fmt = rng.choice(["{b} — {q}", "{b}: {q}", "{b} ({q})"])
                title = fmt.format(b=b, q=q)
                if title not in titles:
                    titles.add(title)
                    entries.append((title, None, None))
            for j, (title, key, prio) in enumerate(entries):
                if prio is None:
                    if topic["random_must"]:
                        prio = rng.choices(["must", "should", "could"], weights=[19, 56, 25])[0]
                    else:
                        prio = rng.choices(["should", "could"], weights=[70, 30])[0]
                cid = f"{kind}-{20 * ti + j + 1:04d}"
                chunks.append(Chunk(cid, title, topic, kind, prio, key))
    for c in chunks:
        t = c.topic
        actors = rng.sample(t["actors"], 2) if len(t["actors"]) > 1 else t["actors"] * 2
        lead = rng.choice(NT_LEADS if c.kind == "NT" else TD_LEADS)
        sentences = [lead.format(T=c.title, t=lower_first(c.title), a=actors[0], b=actors[1], c=t["component"])]
        sentences += rng.sample(t["facts"], rng.choice([0, 1, 1, 2]))
        c.summary = " ".join(sentences)
    return chunks


def body_lines(rng, c: Chunk, by_topic, all_chunks) -> list[str]:
    t = c.topic
    pool = [f for f in t["facts"] if f not in c.summary]
    extras = []
    if pool:
        extras += rng.sample(pool, min(len(pool), rng.choice([1, 1, 2])))
    if rng.random() < 0.55:
        same = [o for o in by_topic[t["slug"]] if o.id != c.id]
        if rng.random() < 0.75:
            other = rng.choice(same)
        else:
            other = rng.choice([o for o in all_chunks if o.topic["slug"] in RELATED[t["slug"]]])
        if other.id != c.id:
            extras.append(rng.choice([
                f"See also {other.id} ({other.title}).",
                f"Depends on {other.id}.",
                f"Related: {other.id}, which covers {lower_first(other.title)}.",
            ]))
    if rng.random() < 0.3:
        extras.append("Open question: " + rng.choice(t["questions"]))
    if rng.random() < 0.3:
        extras.append(f"Metric: {rng.choice(t['metrics'])}.")
    if c.kind == "NT" and rng.random() < 0.25:
        extras.append(f"Acceptance: {rng.choice(t['actors'])} can finish this without contacting support.")
    if c.kind == "TD" and rng.random() < 0.2:
        extras.append(f"Owner: the {t['component']}.")
    extras = extras[:5] or [f"Metric: {t['metrics'][0]}."]
    if rng.random() < 0.35:
        extras = ["- " + e for e in extras]
    return [c.summary] + extras


def heading(rng, cid: str, title: str) -> str:
    r = rng.random()
    if r < 0.72:
        return f"## {cid} {title}"
    if r < 0.86:
        return f"## {cid}: {title}"
    if r < 0.94:
        return f"### {cid} — {title}"
    return f"## {cid} – {title}"


def build_markdown(rng, chunks):
    """Returns {path: text}; sets source/line on chunks; returns the deliberate extras."""
    by_topic: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_topic.setdefault(c.topic["slug"], []).append(c)
    files: dict[str, list[str]] = {}
    gaps = {}
    for ti, topic in enumerate(TOPICS):
        for kind, folder in (("NT", "narrative"), ("TD", "technical")):
            path = f"docs/blueprints/{folder}/{topic['slug']}.md"
            if kind == "NT":
                lines = [f"# {topic['name']} — product narrative", "",
                         f"The product rules for {topic['name'].lower()}, as {topic['actors'][0]} and "
                         f"{topic['actors'][1 % len(topic['actors'])]} see them. Each section is one spec chunk with a stable ID.", ""]
            else:
                lines = [f"# {topic['name']} — technical design", "",
                         f"Design notes for the {topic['component']}. Chunk IDs are stable and never reused.", ""]
            for c in by_topic[topic["slug"]]:
                if c.kind != kind:
                    continue
                c.source = path
                c.line = len(lines) + 1
                lines.append(heading(rng, c.id, c.title))
                lines.append("")
                lines += body_lines(rng, c, by_topic, chunks)
                lines.append("")
            files[path] = lines
    # Deliberate: a chunk defined only by a markdown heading (not in the JSON index).
    listings_i = next(i for i, t in enumerate(TOPICS) if t["slug"] == "listings")
    heading_only = f"NT-{20 * listings_i + 10:04d}"
    assert heading_only not in {c.id for c in chunks}
    path = "docs/blueprints/narrative/listings.md"
    lines = files[path]
    gaps["heading_only"] = (heading_only, path, len(lines) + 1)
    lines += [f"## {heading_only} Accessibility details on listings", "",
              "Hosts describe step-free access, lifts, accessible toilets and parking; guests can filter on them.",
              "Added after the index was last regenerated, so this chunk exists only here for now.", ""]
    # Deliberate: the same TD ID as a heading in a second file.
    dup = next(c for c in chunks if c.key == "po_holds")
    path = "docs/blueprints/technical/payments.md"
    lines = files[path]
    lines += ["## Appendix: payout holds (copied from the payouts design)", "",
              "Copied here while the payments/payouts split was discussed; the payouts file is the source of truth.", ""]
    gaps["duplicate"] = (dup.id, path, len(lines) + 1, dup.source, dup.line)
    lines += [f"## {dup.id} {dup.title}", "",
              "New hosts wait 7 days for their first three payouts; open disputes hold the payout.", ""]
    return {p: "\n".join(ls).rstrip("\n") + "\n" for p, ls in files.items()}, gaps


def embedding(rng) -> list[float]:
    v = [rng.gauss(0.0, 1.0) for _ in range(64)]
    n = math.sqrt(sum(x * x for x in v))
    return [round(x / n, 4) for x in v]


def build_index(rng, chunks) -> str:
    with_emb = set(rng.sample([c.id for c in chunks], 20))
    out, embs = [], []
    for c in sorted(chunks, key=lambda c: c.id):
        entry = {"id": c.id, "title": c.title, "summary": c.summary, "source": c.source,
                 "line": c.line, "topic": c.topic["name"], "priority": c.priority}
        if c.id in with_emb:
            entry["embedding"] = f"@EMB{len(embs)}@"
            embs.append(embedding(rng))
        out.append(entry)
    text = json.dumps({"version": 1, "chunks": out}, indent=2, ensure_ascii=False)
    for i, e in enumerate(embs):
        text = text.replace(f'"@EMB{i}@"', json.dumps(e))
    return text + "\n"


def build_wbs(rng, chunks, key_to_chunk):
    claimed: set[str] = set()
    items = []
    for spec in ITEMS:
        ids = [key_to_chunk[k].id for k in spec["keys"] + spec.get("also", [])]
        claimed.update(ids)
        items.append([spec, ids])
    gap_keys = {k for spec in ITEMS for k in spec.get("exclude", [])}
    gap_ids = {key_to_chunk[k].id for k in gap_keys}
    for entry in items:
        spec, ids = entry
        if spec["id"] in FINISHED or spec["topic"] is None:
            continue
        topic_chunks = [c for c in chunks if c.topic["slug"] == spec["topic"] and c.id not in gap_ids]
        for c in topic_chunks:
            if c.priority == "must" and c.id not in claimed:
                ids.append(c.id)
                claimed.add(c.id)
        target = max(len(ids), rng.randint(6, 11))
        rest = [c for c in topic_chunks if c.id not in ids and c.id not in claimed]
        for c in rng.sample(rest, min(len(rest), target - len(ids))):
            ids.append(c.id)
            claimed.add(c.id)
        ids.extend(spec.get("extra_ids", []))
        assert 3 <= len(ids) <= 15, (spec["id"], len(ids))
    out = []
    for spec, ids in items:
        assert 3 <= len(ids) <= 15, spec["id"]
        item = {"id": spec["id"], "title": spec["title"], "phase": spec["phase"], "blueprint_ids": ids,
                "scope_paths": spec["scope"], "acceptance_criteria": spec["ac"]}
        for field_name, key in (("test_commands", "tests"), ("smoke_checks", "smoke"), ("quality_gates", "gates")):
            if spec.get(key):
                item[field_name] = spec[key]
        item["risk_level"] = spec["risk"]
        item["autopilot_mode"] = spec["mode"]
        item["depends_on"] = spec["deps"]
        if spec.get("access"):
            item["access"] = spec["access"]
        if spec.get("budget"):
            item["change_budget"] = spec["budget"]
        out.append(item)
    return out


def glob_to_re(glob: str) -> re.Pattern:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return path.startswith("tests/") or "/tests/" in path or name.startswith("test_") or ".test." in name


def refs(text: str) -> set[str]:
    return set(ID_RE.findall(text))


def split_code_test(path: str, text: str) -> tuple[set[str], set[str]]:
    """IDs referenced as code and as tests (Rust unit tests live after #[cfg(test)])."""
    if is_test_path(path):
        return set(), refs(text)
    if path.endswith(".rs") and "#[cfg(test)]" in text:
        head, tail = text.split("#[cfg(test)]", 1)
        return refs(head), refs(tail)
    return refs(text), set()


def nb(text: str) -> str:
    """Write IDs with a non-breaking hyphen so README.md adds no references of its own."""
    return re.sub(r"\b(NT|TD|WBS)-(\d)", lambda m: f"{m.group(1)}{NBH}{m.group(2)}", text)


def json_line(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def line_of(text: str, needle: str) -> int:
    for n, line in enumerate(text.split("\n"), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def run_reports(item_by_id) -> dict[str, str]:
    w6 = item_by_id["WBS-006"]
    w10 = item_by_id["WBS-010"]
    r6 = [
        f"# Run report: WBS-006 {w6['title']}",
        "",
        "- Work item: WBS-006",
        "- Agent: AGENT-1 (claude, claude-sonnet-4-5)",
        "- Attempt: 1",
        "- Started: 2026-11-08T08:00:05Z",
        "- Finished: 2026-11-10T17:18:22Z",
        "- Chunks: " + ", ".join(w6["blueprint_ids"]),
        "",
        "## Changes",
        "",
        "- `services/search/src/index.rs`, `query.rs`, `ranking.rs`, `lib.rs`: index, parser and ranking",
        "- `services/search/tests/search_flow.rs`: end-to-end search over a small index",
        "- `web/src/search/searchClient.ts`, `web/src/search/SearchMap.tsx`: results page client and map pins",
        "",
        "## Tests run",
        "",
        "| command | result |",
        "|---|---|",
        f"| `{w6['test_commands'][0]}` | Pass |",
        f"| `{w6['test_commands'][1]}` | Fail |",
        "",
        "## Acceptance criteria",
        "",
        "| criterion | result |",
        "|---|---|",
        f"| {w6['acceptance_criteria'][0]} | Pass |",
        f"| {w6['acceptance_criteria'][1]} | Pass |",
        f"| {w6['acceptance_criteria'][2]} | Fail |",
        f"| {w6['acceptance_criteria'][3]} | Fail |",
        "",
        "## Notes",
        "",
        "- The empty-result suggestions were not wired into the client yet; only one suggestion showed.",
        "- Map pins truncated 45.50 to 45 instead of rounding; the web test caught it.",
        "- Both fixed in attempt 2 (see the queue).",
        "",
    ]
    r10 = [
        f"# Run report: WBS-010 {w10['title']}",
        "",
        "- Work item: WBS-010",
        "- Agent: AGENT-3 (claude, claude-opus-4-1)",
        "- Attempt: 1",
        "- Started: 2026-11-15T08:15:33Z",
        "- Finished: 2026-11-20T18:05:16Z",
        "- Chunks: " + ", ".join(w10["blueprint_ids"]),
        "",
        "## Changes",
        "",
        "- `services/payments/stripe_gateway.py`: PaymentIntents, captures and refunds behind one transport",
        "- `services/payments/webhooks.py`: signature check with a 5-minute tolerance and replay protection",
        "- `services/payments/refunds.py`, `services/payments/receipts.py`: refund ledger and VAT lines",
        "- `tests/python/test_payments.py`, `tests/python/test_payments_webhooks.py`",
        "",
        "## Tests run",
        "",
        "| command | result |",
        "|---|---|",
        f"| `{w10['test_commands'][0]}` | Pass |",
        f"| `{w10['smoke_checks'][0]}` | Pass |",
        "",
        "## Acceptance criteria",
        "",
        "| criterion | result |",
        "|---|---|",
    ] + [f"| {ac} | Pass |" for ac in w10["acceptance_criteria"]] + [
        "",
        "## Notes",
        "",
        "- No network calls in tests: the gateway takes a transport, the tests pass a recorder.",
        "- The API key and the webhook signing value are read from the environment only.",
        "- Critical risk: waits for the owner's approval before it can be marked done.",
        "",
    ]
    return {"docs/runs/2026-11-10-WBS-006-AGENT-1.md": "\n".join(r6),
            "docs/runs/2026-11-20-WBS-010-AGENT-3.md": "\n".join(r10)}


PROGRESS = """# Progress

- 2026-11-02 WBS-001 done: CI, health checks and structured logs (AGENT-1).
- 2026-11-04 WBS-002 done after the owner's approval: signup, login and sessions (AGENT-2).
- 2026-11-04 WBS-003 done: profiles for hosts and guests (AGENT-1).
- 2026-11-06 WBS-004 blocked: the staging warehouse was unreachable.
- 2026-11-07 WBS-005 done: studio listings (AGENT-3).
- 2026-11-11 WBS-006 back to in progress: the review found 2 failed acceptance criteria.
- 2026-11-13 WBS-009 done after the owner's approval: booking and checkout (AGENT-2).
- 2026-11-14 WBS-006 done; follow-up WBS-006A created for availability filters and typo tolerance.
- 2026-11-16 WBS-011 blocked: access check stripe-connect-payouts is BLOCKED.
- 2026-11-19 WBS-013 blocked: SMS consent wording is waiting for legal.
- 2026-11-20 WBS-004 in review: analytics event pipeline (AGENT-4).
- 2026-11-21 WBS-010 awaiting approval (critical risk): payments via Stripe (AGENT-3).
- 2026-11-24 WBS-012 in progress again after a failed start (AGENT-2, attempt 2).
"""


def main() -> int:
    rng = random.Random(SEED)
    assert OUT.name == "marketplace" and OUT.parent.name == "examples", OUT
    if OUT.exists():
        shutil.rmtree(OUT)

    files: dict[str, str] = {}
    chunks = build_chunks(rng)
    key_to_chunk = {c.key: c for c in chunks if c.key}
    index_ids = {c.id for c in chunks}
    md, gaps = build_markdown(rng, chunks)
    files.update(md)
    files["docs/blueprints/blueprint_index.json"] = build_index(rng, chunks)

    wbs = build_wbs(rng, chunks, key_to_chunk)
    item_by_id = {i["id"]: i for i in wbs}
    files["ops/wbs.json"] = json.dumps({"items": wbs}, indent=2, ensure_ascii=False) + "\n"

    # Deliberate near-miss: TD-0103 with its last two digits swapped.
    real = key_to_chunk["pay_pi"].id
    typo = real[:-2] + real[-1] + real[-2]
    assert typo != real and typo not in index_ids, typo

    for path, template in CODE.items():
        text = template.lstrip("\n")
        text = text.replace("@@typo@@", typo)
        text = re.sub(r"@@(\w+)@@", lambda m: key_to_chunk[m.group(1)].id, text)
        assert "@@" not in text, path
        files[path] = text

    # Queue, lock, access, model decisions.
    qlines = []
    for ev in QUEUE:
        if ev == "TORN":
            qlines.append(TORN_LINE)
            continue
        at, wid, status, by, reason, attempt = ev
        obj = {"id": wid, "status": status, "at": at, "by": by, "reason": reason}
        if attempt is not None:
            obj["attempt"] = attempt
        qlines.append(json_line(obj))
    files["ops/queue.jsonl"] = "\n".join(qlines) + "\n"
    lock = {"agent": LOCK["agent"], "task_id": LOCK["task_id"],
            "scope_paths": item_by_id[LOCK["task_id"]]["scope_paths"],
            "acquired_at": LOCK["acquired_at"], "host": LOCK["host"], "pid": LOCK["pid"]}
    files[f"ops/locks/{lock['agent']}.lock"] = json.dumps(lock, indent=2) + "\n"
    files["ops/access/status.json"] = json.dumps(
        {"checks": {name: {"status": s, "checked_at": at, "detail": d} for name, (s, at, d) in ACCESS.items()}},
        indent=2) + "\n"
    files["ops/model-decisions.jsonl"] = "\n".join(
        json_line({"at": a, "task_id": t, "agent": ag, "cli": cli, "model": m, "reason": r})
        for a, t, ag, cli, m, r in MODEL_DECISIONS) + "\n"
    files.update(run_reports(item_by_id))
    files["docs/reviews/.gitkeep"] = ""
    files["docs/PROGRESS.md"] = PROGRESS
    files[".gitignore"] = "target/\n__pycache__/\nnode_modules/\n"

    # ---- consistency checks -------------------------------------------------
    code_paths = sorted(p for p in files if p.endswith((".py", ".rs", ".ts", ".tsx")))
    scopes = {i["id"]: [glob_to_re(g) for g in i["scope_paths"]] for i in wbs}
    for iid, pats in scopes.items():
        for g, pat in zip(item_by_id[iid]["scope_paths"], pats):
            assert any(pat.match(p) for p in files), (iid, g)
    wbs_refs = {bid for i in wbs for bid in i["blueprint_ids"]}
    code_refs: dict[str, set[str]] = {}
    test_refs: dict[str, set[str]] = {}
    untagged_outside = []
    for p in code_paths:
        text = files[p]
        in_scope = [iid for iid, pats in scopes.items() if any(pat.match(p) for pat in pats)]
        ids = refs(text)
        if not ids and not WBS_RE.search(text) and not in_scope:
            untagged_outside.append(p)
        allowed = {b for iid in in_scope for b in item_by_id[iid]["blueprint_ids"]}
        stray = ids - allowed - {typo}
        assert not stray, (p, stray)
        c_ids, t_ids = split_code_test(p, text)
        for i in c_ids:
            code_refs.setdefault(i, set()).add(p)
        for i in t_ids:
            test_refs.setdefault(i, set()).add(p)
    assert untagged_outside == ["tools/cleanup.py", "web/src/legacy/banner.ts"], untagged_outside
    for iid in FINISHED:
        for bid in item_by_id[iid]["blueprint_ids"]:
            assert bid in code_refs and bid in test_refs, (iid, bid)
    gap_must = key_to_chunk["trust_idv_gap"]
    musts = [c for c in chunks if c.priority == "must"]
    for c in musts:
        assert (c.id in wbs_refs) == (c.id != gap_must.id), c.id
    assert gap_must.id not in code_refs and gap_must.id not in test_refs
    assert typo not in files["ops/wbs.json"]
    all_text = "\n".join(files.values())
    for pat in SECRET_PATTERNS:
        assert not re.search(pat, all_text), pat

    fully = [c for c in musts if c.id in wbs_refs and c.id in code_refs and c.id in test_refs]
    status_of = {}
    for c in musts:
        status_of[c.id] = ("missing_wbs" if c.id not in wbs_refs else "missing_code" if c.id not in code_refs
                           else "missing_tests" if c.id not in test_refs else "covered")

    # ---- README ---------------------------------------------------------------
    wbs_text = files["ops/wbs.json"]
    ho_id, ho_path, ho_line = gaps["heading_only"]
    dup_id, dup_path, dup_line, dup_src, dup_src_line = gaps["duplicate"]
    torn_no = qlines.index(TORN_LINE) + 1
    w42_no = next(n for n, l in enumerate(qlines, 1) if '"WBS-042"' in l)
    typo_line = line_of(files["services/payments/refunds.py"], typo)
    n_code = sum(1 for p in code_paths if not is_test_path(p))
    n_tests = len(code_paths) - n_code
    by_status: dict[str, list[str]] = {}
    for cid, st in sorted(status_of.items()):
        by_status.setdefault(st, []).append(cid)
    not_started = [f"`{cid}`" for cid in by_status.get("missing_code", []) + by_status.get("missing_tests", [])]
    readme = f"""# Marketplace demo workspace

A realistic, mid-flight repository of the kind Concord is built for: a two-sided marketplace
where bands, podcasters and photographers book creative studios. It has a chunked product spec,
a work breakdown, a queue history, an active agent lock, access checks, and Python, Rust and
TypeScript code whose comments carry trace tags. Everything here is generated by
`examples/generate_marketplace.py`; do not edit it by hand.

```sh
concord check examples/marketplace          # findings as text
concord crosswalk examples/marketplace      # writes docs/blueprints/crosswalk.json
python3 examples/generate_marketplace.py    # regenerate (byte-identical output)
```

IDs in this README are written with a non-breaking hyphen (U+2011), so that the README
itself adds no references and no unknown IDs to what Concord reports.

## What is in it

| path | contents |
|---|---|
| `docs/blueprints/blueprint_index.json` | {len(chunks)} chunks ({sum(c.kind == 'NT' for c in chunks)} narrative, {sum(c.kind == 'TD' for c in chunks)} technical) across {len(TOPICS)} topics; {len(musts)} are `must`; 20 carry a 64-number `embedding` |
| `docs/blueprints/narrative/*.md`, `technical/*.md` | one file per topic and family; every chunk has a heading at the line the index names |
| `ops/wbs.json` | {len(wbs)} work items in 6 phases, including the follow-up WBS-006A |
| `ops/queue.jsonl` | {len(qlines)} lines of history from 2 to 24 November 2026 |
| `ops/locks/AGENT-2.lock` | AGENT-2 holds WBS-012 (messaging), scope equal to the item's `scope_paths` |
| `ops/access/status.json` | {len(ACCESS)} readiness checks; `stripe-connect-payouts` is BLOCKED |
| `ops/model-decisions.jsonl` | {len(MODEL_DECISIONS)} agent/model choices |
| `services/`, `infra/`, `web/src/`, `tools/` | {n_code} source files in Python, Rust and TypeScript |
| `tests/python/`, `services/search/tests/`, `web/src/**/*.test.ts` | {n_tests} test files, plus `#[cfg(test)]` modules in the Rust sources |
| `docs/runs/` | 2 run reports (WBS-006 attempt 1 with failures, WBS-010) |
| `docs/reviews/` | empty |
| `docs/PROGRESS.md` | the human-readable log |

There is no `concord.toml`: the defaults apply.

Queue state at the end of the history: done WBS-001, 002, 003, 005, 006, 009; in review WBS-004;
awaiting approval WBS-010 (critical risk); in progress WBS-012 (AGENT-2, locked); blocked
WBS-011 (access) and WBS-013; todo everything else.

## Deliberate gaps

These are planted on purpose; `concord check` should report each of them.

1. **Unknown chunk ID in a work item**: `ops/wbs.json` line {line_of(wbs_text, '"TD-0999"')}, WBS-011 lists `TD-0999`, which no index entry or heading defines.
2. **Torn queue line**: `ops/queue.jsonl` line {torn_no} is cut off mid-JSON. The lines before and after it are valid.
3. **Queue event for an unknown work item**: `ops/queue.jsonl` line {w42_no} dispatches `WBS-042`, which is not in `ops/wbs.json`.
4. **Duplicate chunk ID**: `{dup_id}` has a heading in `{dup_src}` line {dup_src_line} (its source in the index) and again in `{dup_path}` line {dup_line}.
5. **Near-miss unknown ID**: `services/payments/refunds.py` line {typo_line} mentions `{typo}`; the author meant `{real}` (Stripe PaymentIntents). `{typo}` does not exist.
6. **Untagged files outside every scope**: `tools/cleanup.py` and `web/src/legacy/banner.ts` carry no ID and match no work item's `scope_paths`.
7. **Uncovered must chunk**: `{gap_must.id}` "{gap_must.title}" is `must`, and no work item, code or test references it.

Also worth knowing (not errors by themselves):

- `{ho_id}` "Accessibility details on listings" is defined only by its heading in `{ho_path}` line {ho_line}; it is not in the JSON index.
- Work that has not started yet shows up as coverage gaps: {len(not_started)} must chunks are planned in a
  work item but have no code or no tests yet ({', '.join(not_started)}).
- Many `should` and `could` chunks are not planned in any work item yet, as in any large spec.

## Fully covered must chunks

Referenced by a work item, by code and by a test ({len(fully)} of {len(musts)}):

""" + "\n".join(f"- `{c.id}` {c.title} ({', '.join(sorted(i for i in item_by_id if c.id in item_by_id[i]['blueprint_ids']))})"
                for c in fully) + """

## Running the demo's own tests

From `examples/marketplace/`:

```sh
python3 -m unittest discover -s tests/python             # all Python tests, standard library only
cargo test --manifest-path services/search/Cargo.toml --offline
node --experimental-strip-types --test web/src/**/*.test.ts   # Node 22.6 or newer
```

Each work item's `test_commands` runs a slice of these.
"""
    files["README.md"] = nb(readme)

    for path in sorted(files):
        target = OUT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(files[path])

    print(f"wrote {len(files)} files under {OUT.relative_to(HERE.parent)}")
    print(f"chunks: {len(chunks)} in the index (+1 heading-only), must: {len(musts)}")
    print(f"work items: {len(wbs)}, queue lines: {len(qlines)}")
    print(f"code files: {n_code}, test files: {n_tests}")
    print(f"fully covered must chunks: {len(fully)}; must status: "
          + ", ".join(f"{k}={len(v)}" for k, v in sorted(by_status.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

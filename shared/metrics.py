"""Prometheus metrics of the platform parts, labelled by service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "bilan_http_requests_total",
    "HTTP requests answered",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "bilan_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
APPENDS = Counter("bilan_eventstore_appends_total", "Successful appends", ["service"])
APPEND_CONFLICTS = Counter(
    "bilan_eventstore_conflicts_total", "Appends refused for a concurrent write", ["service"]
)
RELAY_PUBLISHED = Counter(
    "bilan_relay_published_total", "Outbox messages acknowledged by Kafka", ["service"]
)
RELAY_LAG = Gauge(
    "bilan_relay_lag_seconds", "Age of the oldest outbox message not yet published", ["service"]
)
CONSUMED = Counter(
    "bilan_consumer_events_total",
    "Events handled by a consumer, by outcome",
    ["consumer", "outcome"],
)
CONSUMER_LAG = Gauge(
    "bilan_consumer_lag",
    "Messages behind the end of a partition",
    ["consumer", "topic", "partition"],
)
TIMERS_FIRED = Counter("bilan_timers_fired_total", "Timers fired, by kind", ["service", "kind"])
MAILS = Counter(
    "bilan_mails_total",
    "Mails by outcome: sent, retried, failed, uncertain (may have left), expired (too late)",
    ["service", "outcome"],
)

"""Prometheus metrics of one service (its own registry: two apps in one process do not mix)."""
from __future__ import annotations

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("affekt_requests", "HTTP requests answered, by route and status code",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("affekt_request_seconds", "Time from request to response, by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter("affekt_errors", "Requests answered with an error (4xx/5xx), by route and kind",
                              ["route", "kind"], registry=self.registry)
        self.items = Counter("affekt_items", "Inputs predicted, by model", ["model"], registry=self.registry)
        self.item_errors = Counter("affekt_item_errors", "Inputs answered with an error record, by model",
                                   ["model"], registry=self.registry)
        self.batch_size = Histogram("affekt_batch_size", "Inputs per model call (micro-batching), by model",
                                    ["model"], buckets=BATCH_BUCKETS, registry=self.registry)
        self.batch_seconds = Histogram("affekt_batch_seconds", "Time of one model call, by model", ["model"],
                                       buckets=LATENCY_BUCKETS, registry=self.registry)
        self.in_flight = Gauge("affekt_requests_in_flight", "Requests being answered", registry=self.registry)
        self.streams = Gauge("affekt_speech_streams", "Open speech WebSocket streams", registry=self.registry)
        self.jobs = Gauge("affekt_video_jobs", "Video jobs queued or running", registry=self.registry)

    def observe_batch(self, model: str, n: int, seconds: float) -> None:
        self.batch_size.labels(model).observe(n)
        self.batch_seconds.labels(model).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The Prometheus registry of this process: default process metrics plus HTTP request durations. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds, by method, route template and status class.',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly backgroundRuns = new Counter({
    name: 'countersign_background_task_runs_total',
    help: 'Runs of background tasks on this replica, by task and outcome (success, failure, skipped: another replica holds the lock).',
    labelNames: ['task', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly auditUnsealed = new Gauge({
    name: 'countersign_audit_unsealed_events',
    help: 'Audit events not yet chained by the sealer, as seen by the last sealer run of this replica.',
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'countersign_webhook_deliveries_total',
    help: 'Webhook delivery attempts by this replica, by outcome (delivered, retry, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly principalCache = new Counter({
    name: 'countersign_principal_cache_lookups_total',
    help: 'Credential resolutions by this replica, served from the principal cache (hit) or the database (miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly outboxDepth = new Gauge({
    name: 'countersign_outbox_depth',
    help: 'Webhook deliveries pending, as seen by the last dispatcher run of this replica.',
    registers: [this.registry],
  });

  readonly outboxOldest = new Gauge({
    name: 'countersign_outbox_oldest_seconds',
    help: 'Age in seconds of the oldest pending webhook delivery, as seen by the last dispatcher run of this replica.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_class: `${Math.floor(status / 100)}xx` }, seconds);
  }
}

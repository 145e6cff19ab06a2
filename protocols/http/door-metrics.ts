/** The HTTPS door's counters, rendered with the runtime's in Prometheus text at /metrics. */
import { Histogram } from '../../runtime/histogram.js';
import type { Sample } from '../../runtime/metrics.js';
import type { ListenerKind } from './exchange.js';

export class DoorMetrics {
  readonly connectionsTotal = { http: 0, https: 0 };
  readonly connectionsOpen = { http: 0, https: 0 };
  /** Connections handed to the door's own HTTP/1.1 handling (non-standard first method). */
  ownParserConnections = 0;
  /** Requests refused before routing (unparseable, too large a head...), by status. */
  readonly refused = new Map<number, number>();
  /** Requests answered, by route and status. */
  private readonly requests = new Map<string, Map<number, number>>();
  private readonly latency = new Map<string, Histogram>();
  authFailures = 0;
  authThrottled = 0;
  inFlight = 0;

  opened(l: ListenerKind): void {
    this.connectionsTotal[l]++;
    this.connectionsOpen[l]++;
  }
  closed(l: ListenerKind): void {
    this.connectionsOpen[l]--;
  }
  refuse(status: number): void {
    this.refused.set(status, (this.refused.get(status) ?? 0) + 1);
  }
  /** status 0: the client went away before an answer. */
  answered(route: string, status: number, micros: number): void {
    let by = this.requests.get(route);
    if (by === undefined) this.requests.set(route, (by = new Map()));
    by.set(status, (by.get(status) ?? 0) + 1);
    let h = this.latency.get(route);
    if (h === undefined) this.latency.set(route, (h = new Histogram()));
    h.record(micros);
  }

  samples(): Sample[] {
    const byListener = (o: Record<ListenerKind, number>) => (['http', 'https'] as const).map((l) => ({ labels: { listener: l }, value: o[l] }));
    const req: Sample['values'] = [];
    for (const [route, by] of this.requests) for (const [code, n] of by) req.push({ labels: { route, code }, value: n });
    const lat = (q: number): Sample['values'] => [...this.latency].map(([route, h]) => ({ labels: { route }, value: h.percentile(q) / 1e6 }));
    return [
      { name: 'stoa_http_connections_total', help: 'Connections accepted by the HTTP door.', type: 'counter', values: byListener(this.connectionsTotal) },
      { name: 'stoa_http_connections_open', help: 'Open HTTP door connections.', type: 'gauge', values: byListener(this.connectionsOpen) },
      { name: 'stoa_http_own_parser_connections_total', help: 'Connections served by the door\'s own HTTP/1.1 handling (non-standard methods such as RPC_IN_DATA).', type: 'counter', values: [{ value: this.ownParserConnections }] },
      { name: 'stoa_http_requests_total', help: 'Requests answered, by route and status (code 0: the client left first).', type: 'counter', values: req },
      { name: 'stoa_http_refused_total', help: 'Requests refused before routing (malformed, head too large, slow head), by status.', type: 'counter', values: [...this.refused].map(([code, n]) => ({ labels: { code }, value: n })) },
      { name: 'stoa_http_requests_in_flight', help: 'Requests being answered.', type: 'gauge', values: [{ value: this.inFlight }] },
      { name: 'stoa_http_request_latency_p50_seconds', help: 'Median time to answer, by route (since start).', type: 'gauge', values: lat(0.5) },
      { name: 'stoa_http_request_latency_p99_seconds', help: '99th percentile time to answer, by route (since start).', type: 'gauge', values: lat(0.99) },
      { name: 'stoa_http_auth_failures_total', help: 'Failed HTTP logins.', type: 'counter', values: [{ value: this.authFailures }] },
      { name: 'stoa_http_auth_throttled_total', help: 'Requests refused (429) because their address failed too often.', type: 'counter', values: [{ value: this.authThrottled }] },
    ];
  }
}

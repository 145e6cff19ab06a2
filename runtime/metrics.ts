/**
 * Runtime counters in Prometheus text exposition format (version 0.0.4). The HTTP door serves
 * this at /metrics (with its own access rules); tests and the control socket can read it too.
 */
import type { SystemStats } from './actor-system.js';
import type { DirectoryStore } from '../storage/directory-store.js';
import type { Authenticator } from './auth.js';

export interface Sample {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: { labels?: Record<string, string | number>; value: number }[];
}

function esc(v: string | number): string {
  return String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function renderPrometheus(samples: Sample[]): string {
  const out: string[] = [];
  for (const s of samples) {
    out.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
    for (const v of s.values) {
      const labels = v.labels === undefined ? '' : `{${Object.entries(v.labels).map(([k, l]) => `${k}="${esc(l)}"`).join(',')}}`;
      out.push(`${s.name}${labels} ${Number.isFinite(v.value) ? v.value : 0}`);
    }
  }
  return out.join('\n') + '\n';
}

export function runtimeSamples(stats: SystemStats): Sample[] {
  const per = (f: (w: SystemStats['workers'][number]) => number) => stats.workers.map((w) => ({ labels: { worker: w.index }, value: f(w) }));
  const mem = process.memoryUsage();
  return [
    { name: 'stoa_workers', help: 'Actor worker threads configured.', type: 'gauge', values: [{ value: stats.workers.length }] },
    { name: 'stoa_worker_up', help: '1 when the worker is running.', type: 'gauge', values: per((w) => (w.state === 'up' ? 1 : 0)) },
    { name: 'stoa_worker_restarts_total', help: 'Times the worker was restarted after dying.', type: 'counter', values: per((w) => w.restarts) },
    { name: 'stoa_actor_calls_total', help: 'Actor calls answered.', type: 'counter', values: per((w) => w.callsAnswered) },
    { name: 'stoa_actor_busy_rejects_total', help: 'Messages rejected at an actor queue hard limit.', type: 'counter', values: per((w) => w.busyRejects) },
    { name: 'stoa_actor_passivations_total', help: 'Actors passivated.', type: 'counter', values: per((w) => w.passivations) },
    { name: 'stoa_actors_active', help: 'Active actors.', type: 'gauge', values: per((w) => w.activeActors) },
    { name: 'stoa_actor_queue_depth', help: 'Messages queued in actors.', type: 'gauge', values: per((w) => w.queued) },
    { name: 'stoa_actor_call_latency_p50_seconds', help: 'Median call round trip.', type: 'gauge', values: per((w) => w.p50us / 1e6) },
    { name: 'stoa_actor_call_latency_p99_seconds', help: '99th percentile call round trip.', type: 'gauge', values: per((w) => w.p99us / 1e6) },
    { name: 'stoa_worker_event_loop_utilization', help: 'Share of time the worker event loop was busy.', type: 'gauge', values: per((w) => w.eventLoopUtilization) },
    { name: 'stoa_calls_pending', help: 'Calls awaiting a reply.', type: 'gauge', values: [{ value: stats.pendingCalls }] },
    { name: 'stoa_process_resident_bytes', help: 'Resident memory of the process.', type: 'gauge', values: [{ value: mem.rss }] },
    { name: 'stoa_process_heap_used_bytes', help: 'V8 heap used on the main thread.', type: 'gauge', values: [{ value: mem.heapUsed }] },
  ];
}

/** Directory sizes and the credential cache (scrapes read the directory: counts, not a hot path). */
export function directorySamples(dir: DirectoryStore, auth: Authenticator): Sample[] {
  return [
    { name: 'stoa_directory_domains', help: 'Domains in the directory.', type: 'gauge', values: [{ value: dir.domains().length }] },
    { name: 'stoa_directory_users', help: 'Users in the directory.', type: 'gauge', values: [{ value: dir.users().length }] },
    { name: 'stoa_directory_groups', help: 'Groups in the directory.', type: 'gauge', values: [{ value: dir.groups().length }] },
    { name: 'stoa_auth_cache_hits_total', help: 'Password checks answered from the credential cache.', type: 'counter', values: [{ value: auth.hits }] },
    { name: 'stoa_auth_cache_misses_total', help: 'Password checks that ran scrypt.', type: 'counter', values: [{ value: auth.misses }] },
  ];
}

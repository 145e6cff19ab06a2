/**
 * Routes of the HTTPS door: each protocol declares its paths, methods, listeners, whether a user
 * must authenticate, and its own limits (body size, inactivity, total duration), so a long poll
 * (MAPI NotificationWait, ActiveSync Ping) and a one-shot POST live side by side without one
 * global request timeout. Paths match without regard to letter case, as Exchange's virtual
 * directories do under IIS (clients send /AutoDiscover/AutoDiscover.xml and /autodiscover/...).
 */
import type { Logger } from 'pino';
import type { UserRecord } from '../../storage/directory-store.js';
import type { HttpRequest, HttpResponse, ListenerKind } from './exchange.js';

export interface RouteLimits {
  /** Largest request body; a larger one is answered 413. */
  maxBodyBytes: number;
  /** No byte moving either way for this long: 408 when nothing was answered yet, else the connection closes. */
  idleMs: number;
  /** The whole exchange may last at most this long (0 = bounded by idleMs only). */
  maxDurationMs: number;
}

export interface Route {
  /** Names the route in logs and metrics (stable: dashboards use it). */
  name: string;
  /** Exact paths, lower case. */
  paths?: readonly string[];
  /** Or every path starting with this, lower case. */
  prefix?: string;
  /** Methods served ('*' = any, including non-standard ones); GET implies HEAD. */
  methods: readonly string[] | '*';
  /** Listeners serving the route (default https only: on plain HTTP, GET / HEAD are redirected to HTTPS and others refused). */
  listeners?: readonly ListenerKind[];
  /** 'user': a directory user must authenticate before the handler runs (Basic now; NTLM / Negotiate later). */
  auth: 'none' | 'user';
  limits?: Partial<RouteLimits>;
  handle(ctx: RouteContext): void | Promise<void>;
}

export interface RouteContext {
  req: HttpRequest;
  res: HttpResponse;
  route: Route;
  /** The authenticated user (routes with auth 'user'), else null. */
  user: UserRecord | null;
  limits: RouteLimits;
  log: Logger;
  /** The whole body within limits.maxBodyBytes; null when the door already answered (413) or the client went away. */
  readBody(): Promise<Buffer | null>;
}

export type RouteMatch =
  | { kind: 'route'; route: Route }
  | { kind: 'method-not-allowed'; allow: string[] }
  /** The path is served, but not on this (plain HTTP) listener. */
  | { kind: 'tls-only' }
  | { kind: 'none' };

export class Router {
  private readonly exact = new Map<string, Route[]>();
  private readonly prefixes: Route[] = [];

  constructor(routes: readonly Route[] = []) {
    for (const r of routes) this.add(r);
  }

  add(route: Route): void {
    for (const p of route.paths ?? []) {
      if (p !== p.toLowerCase()) throw new Error(`route ${route.name}: paths are lower case (${p})`);
      const list = this.exact.get(p) ?? [];
      list.push(route);
      this.exact.set(p, list);
    }
    if (route.prefix !== undefined) {
      if (route.prefix !== route.prefix.toLowerCase()) throw new Error(`route ${route.name}: prefixes are lower case`);
      this.prefixes.push(route);
      this.prefixes.sort((a, b) => b.prefix!.length - a.prefix!.length);
    }
  }

  match(path: string, method: string, listener: ListenerKind): RouteMatch {
    const lower = path.toLowerCase();
    let candidates = this.exact.get(lower);
    if (candidates === undefined) {
      const p = this.prefixes.find((r) => lower.startsWith(r.prefix!));
      if (p === undefined) return { kind: 'none' };
      candidates = this.prefixes.filter((r) => r.prefix === p.prefix);
    }
    const here = candidates.filter((r) => (r.listeners ?? DEFAULT_LISTENERS).includes(listener));
    if (here.length === 0) return { kind: 'tls-only' };
    for (const r of here) if (r.methods === '*' || r.methods.includes(method) || (method === 'HEAD' && r.methods.includes('GET'))) return { kind: 'route', route: r };
    const allow = new Set<string>();
    for (const r of here) for (const m of r.methods) allow.add(m);
    if (allow.has('GET')) allow.add('HEAD');
    return { kind: 'method-not-allowed', allow: [...allow] };
  }
}

const DEFAULT_LISTENERS: readonly ListenerKind[] = ['https'];

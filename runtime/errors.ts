/**
 * Errors that cross threads are plain data: `{ code, detail, retryable }`.
 * Each protocol door maps these codes to its own words in one place
 * (IMAP `NO [UNAVAILABLE]`, SMTP `451`, HTTP `503`, ROP `ecServerBusy`, ...).
 */

export const ErrorCode = {
  /** The worker hosting the actor died or is being replaced; the call may be retried. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** No reply within the call's deadline. The operation may or may not have run. */
  TIMEOUT: 'TIMEOUT',
  /** The actor's queue is at its hard limit; retry later. */
  BUSY: 'BUSY',
  /** The runtime is shutting down and accepts no new calls. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** The actor kind is not registered in the workers. */
  NO_SUCH_ACTOR_KIND: 'NO_SUCH_ACTOR_KIND',
  /** The actor kind has no handler for that op. */
  NO_SUCH_OP: 'NO_SUCH_OP',
  /** A handler threw something that is not a domain error: a bug. */
  INTERNAL: 'INTERNAL',
  /** Arguments could not be encoded or decoded. */
  BAD_MESSAGE: 'BAD_MESSAGE',
} as const;

export type RuntimeErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The plain-data shape of every error that crosses a thread. */
export interface ErrorData {
  /** A stable string code: a RuntimeErrorCode, or a domain code chosen by an actor. */
  code: string;
  detail: string;
  /** True when the same call may succeed if simply sent again. */
  retryable: boolean;
}

/** An Error carrying ErrorData, so `await call(...)` can be caught and inspected. */
export class ActorError extends Error implements ErrorData {
  readonly code: string;
  readonly detail: string;
  readonly retryable: boolean;
  constructor(data: ErrorData) {
    super(`${data.code}: ${data.detail}`);
    this.name = 'ActorError';
    this.code = data.code;
    this.detail = data.detail;
    this.retryable = data.retryable;
  }
  toData(): ErrorData {
    return { code: this.code, detail: this.detail, retryable: this.retryable };
  }
}

const RETRYABLE: ReadonlySet<string> = new Set([ErrorCode.UNAVAILABLE, ErrorCode.BUSY, ErrorCode.TIMEOUT]);

export function actorError(code: string, detail: string, retryable = RETRYABLE.has(code)): ActorError {
  return new ActorError({ code, detail, retryable });
}

/** Turns anything thrown by a handler into plain ErrorData (domain errors keep their code). */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof ActorError) return err.toData();
  if (isErrorData(err)) return { code: err.code, detail: err.detail, retryable: err.retryable };
  const detail = err instanceof Error ? err.message : String(err);
  return { code: ErrorCode.INTERNAL, detail, retryable: false };
}

export function isErrorData(v: unknown): v is ErrorData {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.code === 'string' && typeof o.detail === 'string' && typeof o.retryable === 'boolean';
}

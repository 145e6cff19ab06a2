/**
 * What an actor kind looks like to the runtime, and the typed references doors call it through.
 *
 * An actor kind is a module, loaded in every worker, whose default export is an ActorKind.
 * A protocol type names each op's arguments and result, so a call is checked at compile time:
 *
 *   type CounterProtocol = { add: { args: { n: number }; result: number } };   // a `type`, not an
 *   // `interface`: only type aliases satisfy the Protocol index signature
 *   const ref = actorRef<CounterProtocol>('counter', 'alice');
 *   const total = await system.call(ref, 'add', { n: 1 });
 *
 * Arguments and results cross threads as MessagePack (plain data: objects, arrays, strings,
 * numbers, booleans, null, Uint8Array, Date). A Uint8Array as the whole value travels as raw
 * bytes, without MessagePack (the ROP and protocol-bytes fast path; it arrives as a Buffer).
 * A Uint8Array at the top level of the arguments or
 * result, or as the whole value, of 16 KiB or more is MOVED to the other thread by ArrayBuffer
 * transfer: the sender must not use it afterwards (its ArrayBuffer is detached when it owned it
 * whole; otherwise it is copied once first).
 */
import type { Logger } from 'pino';
import type { ActorSettings } from './worker-protocol.js';

export interface OpSpec {
  args: unknown;
  result: unknown;
}

/** An actor kind's protocol: op name → its argument and result types. */
export type Protocol = { [op: string]: OpSpec };

/** A typed reference to one actor. `P` exists only at compile time. */
export interface ActorRef<P extends Protocol> {
  readonly kind: string;
  readonly id: string;
  /** The routing key (kind/id), computed once: doors keep refs, so calls do not rebuild it. */
  readonly key: string;
  /** Phantom field carrying the protocol type; never set. */
  readonly __protocol?: P;
}

export function actorRef<P extends Protocol>(kind: string, id: string): ActorRef<P> {
  return { kind, id, key: actorKey(kind, id) };
}

/** The routing key of an actor: kind and id. The key is what placement hashes. */
export function actorKey(kind: string, id: string): string {
  return `${kind}/${id}`;
}

export function splitActorKey(key: string): { kind: string; id: string } {
  const i = key.indexOf('/');
  return i < 0 ? { kind: key, id: '' } : { kind: key.slice(0, i), id: key.slice(i + 1) };
}

/** What a running actor can do besides answering calls. */
export interface ActorContext {
  readonly kind: string;
  readonly id: string;
  readonly key: string;
  readonly log: Logger;
  /** Index of the worker this actor runs on (for stats and tests). */
  readonly workerIndex: number;
  /** Settings from the configuration (data partitions...). */
  readonly settings: ActorSettings;
  /** Publishes an event to subscribers on the main thread (IDLE, Ping, NotificationWait...). */
  emit(topic: string, data: unknown): void;
}

/**
 * A result whose reply waits for `when` (typically the flush of a commit) while the actor goes
 * on with its next messages: writes to one mailbox then share flushes (group commit) and each
 * acknowledgement still leaves only once its data is on disk. Replies to one actor's writes keep
 * their order, since flushes complete in commit order.
 */
export class ReplyWhen<T> {
  constructor(
    /** The result, or a promise of it (a rejection becomes the error reply). */
    readonly value: T | Promise<T>,
    readonly when: Promise<unknown>,
  ) {}
}

export function replyWhen<T>(value: T | Promise<T>, when: Promise<unknown>): ReplyWhen<T> {
  return new ReplyWhen(value, when);
}

type Result<S extends OpSpec> = S['result'] | ReplyWhen<S['result']>;
export type Handler<S extends OpSpec> = (args: S['args']) => Result<S> | Promise<Result<S>>;

export type Handlers<P extends Protocol> = { [K in keyof P]: Handler<P[K]> };

/** One live actor instance. */
export interface Actor<P extends Protocol> {
  readonly handlers: Handlers<P>;
  /** Called once before the first message (open the LMDB environment here). */
  onActivate?(): void | Promise<void>;
  /** Called once before the instance is dropped (close the environment here). */
  onPassivate?(): void | Promise<void>;
  /**
   * Ids of the sessions that hold state in this actor (open tables, message instances, streams
   * of a MAPI session). While non-empty, the actor is never idle-passivated, and a move waits
   * for them to end up to the drain timeout, after which the doors hear which sessions lost
   * their state.
   */
  sessionsHeld?(): readonly string[];
}

export interface ActorKind<P extends Protocol> {
  /** Ops that only read: they may run concurrently with each other (never with a write). */
  readonly readOnly?: readonly (keyof P & string)[];
  create(ctx: ActorContext): Actor<P>;
}

/** Helper that keeps the protocol type while writing an actor kind module. */
export function defineActorKind<P extends Protocol>(kind: ActorKind<P>): ActorKind<P> {
  return kind;
}

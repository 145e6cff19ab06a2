/** Messages on a worker's port (the control plane; the data plane is the rings). */
import type { TransferMessage } from './channel.js';

export interface WorkerLimits {
  /** Idle time after which an actor without session state is passivated (ms). */
  idleMs: number;
  /** Active actors per worker above which the least recently used idle ones are passivated. */
  maxActiveActors: number;
  /** Queue length per actor that logs a warning. */
  queueSoft: number;
  /** Queue length per actor at which new messages are rejected with BUSY. */
  queueHard: number;
  /** How long a move or shutdown waits for sessions / in-flight work (ms). */
  drainMs: number;
  /** Spin before parking on an empty ring (µs). */
  spinMicros: number;
}

export interface WorkerInit {
  index: number;
  toWorker: SharedArrayBuffer;
  fromWorker: SharedArrayBuffer;
  /** Actor kind name → module URL whose default export is the ActorKind. */
  kinds: Record<string, string>;
  limits: WorkerLimits;
  logLevel: string;
  /** Plain-data settings for actor kinds (data folders, partitions...), from the config. */
  settings: ActorSettings;
}

/** What actor kinds may read of the configuration. */
export interface ActorSettings {
  /** Folders that hold mailbox environments (<partition>/<domain>/<localpart>/). */
  partitions: string[];
  /** Deletion tombstones are kept this long (ms); sync states older than that resync in full. */
  tombstoneMs?: number;
}

export interface WorkerStats {
  index: number;
  activeActors: number;
  sessionActors: number;
  queued: number;
  maxQueue: number;
  processed: number;
  busyRejects: number;
  passivations: number;
  framesIn: number;
  framesOut: number;
  eventLoopUtilization: number;
}

export interface PassivateReply {
  lostSessions: string[];
}

export type MainToWorker = TransferMessage | { t: 'stats'; reqId: number } | { t: 'shutdown' } | { t: 'crash' };

export type WorkerToMain =
  | TransferMessage
  | { t: 'ready' }
  | { t: 'stats'; reqId: number; stats: WorkerStats }
  | { t: 'bye' };

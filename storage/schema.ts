/**
 * The layout of a mailbox's LMDB environment, in one place: the named databases (key spaces),
 * their key and value layouts, and the schema version with its forward migrations.
 *
 * One environment per mailbox, at <partition>/<domain>/<localpart>/. lmdb-js options: no
 * `cache` and no `useWritemap` (either disables child transactions, which each ROP needs).
 */

import type { Database, Key } from 'lmdb';

/** Bump with a migration below whenever a layout changes. Stored in meta under SCHEMA_KEY. */
export const SCHEMA_VERSION = 1;
export const SCHEMA_KEY = 'schema';

/**
 * Named databases. Keys use lmdb-js ordered-binary encoding (arrays sort element-wise);
 * values are msgpack records unless noted. Object ids in keys are GLOBCNT numbers (48 bits fit a
 * JS number exactly); the replica id of local objects is always 1.
 */
export const KEYSPACES = {
  /**
   * Store-wide records: schema version, identity (MailboxGuid, ReplGuid), counters, store
   * properties; ['submit', message GLOBCNT] → SubmissionRecord for messages waiting to be sent.
   */
  meta: 'meta',
  /** folder GLOBCNT → folder record { parent, props (prop bag), counts }. */
  folders: 'folders',
  /** [parent folder GLOBCNT, lower-cased display name] → child GLOBCNT: the hierarchy, in name order, with unique sibling names. */
  hierarchy: 'hierarchy',
  /** message GLOBCNT → message record { folder, flags, props (prop bag), recipients, attachments }. */
  messages: 'messages',
  /** [folder id, associated (0|1), message id] → 1: folder contents (normal and FAI). */
  contents: 'contents',
  /** blob id → raw bytes (bodies, attachment data, original MIME); binary encoding, read without copy. */
  blobs: 'blobs',
  /** change number (GLOBCNT) → { f: folder } or { m: message }: the latest change of each object, in one sequence. */
  changes: 'changes',
  /** [folder id, change number] → tombstone { source key, IMAP UID }. */
  tombstones: 'tombstones',
  /** named property ↔ property id maps (both directions). */
  named: 'named',
  /**
   * [folder, assoc (0|1), index kind, value, message] → 1: per-folder sort indexes kept on write
   * (kind 0: delivery time, 1: last modification time; values in ms).
   */
  sortIndex: 'sortIndex',
  /** [search folder GLOBCNT, message GLOBCNT] → 1: each search folder's matches (search-folders.ts). */
  search: 'search',
  /**
   * Folder permissions (folder-acl.ts): ['f', folder, member id] → { dn, name, rights };
   * ['m', lower-cased legacy DN ('' for Default), folder] → rights; ['seq'] → last member id.
   */
  acl: 'acl',
  /** Server-side rules (rules.ts): [folder, rule id] → prop bag bytes; ['seq'] → last rule id. */
  rules: 'rules',
} as const;
export type Keyspace = keyof typeof KEYSPACES;

/** A migration moves an environment from version `from` to `from + 1`, inside one write transaction. */
export interface Migration {
  from: number;
  describe: string;
  run(db: Record<Keyspace, Database<unknown, Key>>): void;
}

/** Forward migrations, in order. Empty while the first layout is current. */
export const MIGRATIONS: readonly Migration[] = [];

/**
 * The mailbox actor: one per mailbox (id = its address), single writer of the mailbox's LMDB
 * environment, which it opens on activation and closes on passivation. Each op is one message;
 * writes go through MailboxEnv.write (acknowledged after the flush).
 *
 * Properties cross threads as encoded property bags (storage/prop-bag.ts): exact for every
 * type (64-bit integers, FILETIMEs, binaries), and cheap to move.
 */
import { defineActorKind, replyWhen, ReplyWhen, type Actor, type ActorContext, type Handlers } from '../../runtime/actor.js';
import { packWire, unpackWire } from './imap-pack.js';
import { actorError } from '../../runtime/errors.js';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { LOGON_FOLDERS, MailboxStore, type SpecialFolder, type SubmissionRecord } from '../../storage/mailbox-store.js';
import { parseEntryId } from '../../storage/entry-ids.js';
import { choosePartition, locateMailbox, mailboxPath, parseMailboxAddress } from '../../storage/partitions.js';
import { decodePropBag, encodePropBag, type PropMap } from '../../storage/prop-bag.js';
import { guidFromString, guidToString } from '../../storage/guid.js';
import { idsFromNames, namesFromIds, type PropertyName } from '../../storage/named-props.js';
import { provisionEnv } from '../../storage/provision.js';
import { backupEnv } from '../../storage/backup.js';
import { FolderType, Tag } from '../../storage/prop-tags.js';
import { MessageStore, MSGFLAG_READ, MSGFLAG_UNSENT, type ChangesSince, type IndexKey, type MessageIn } from '../../storage/message-store.js';
import { MessageInstances } from './objects/message-instances.js';
import { runRops, type HandlerTable, type RopEnv, type RopRunArgs, type RopRunResult } from './rop/rop-run.js';
import { RopSession, type ServerObject } from './rop/rop-session.js';
import { registerStoreRops } from './rop/store-rops.js';
import { registerFolderRops } from './rop/folder-rops.js';
import { registerTableRops } from './rop/table-rops.js';
import { registerPropRops } from './rop/prop-rops.js';
import { registerStreamRops } from './rop/stream-rops.js';
import { registerMessageRops } from './rop/message-rops.js';
import { notifyLookup, registerNotifyRops, ropNotifications } from './rop/notify-rops.js';
import { registerSaveRops } from './rop/save-rops.js';
import { registerPermRops } from './rop/perm-rops.js';
import { registerRuleRops } from './rop/rule-rops.js';
import { registerSubmitRops, SubmitTag, MSGFLAG_SUBMIT } from './rop/submit-rops.js';
import { registerComposeRops } from './rop/compose-rops.js';
import { messageInToWire, toWireName, wireToMessageIn, type WireAttachment, type WireMessage, type WireName } from './wire-message.js';
import { synthesizeBodies } from '../../protocols/mail/body.js';
import { SLICE_MS, Table, type Origin, type SortKey } from './objects/table.js';
import { fromWireRestriction, type WireRestriction } from '../../storage/restriction.js';
import type { SearchCriteria } from '../../storage/search-folders.js';
import type { PropValue } from '../../storage/prop-types.js';
import {
  extraSubscriptions,
  ContentCache,
  fetchIndexed,
  type FolderIndex,
  FolderIndexes,
  fetchMessage,
  flagChanges,
  imapPublicState,
  imapStateOf,
  imapTags,
  initialFlagProps,
  listMailFolders,
  resolvePath,
  searchFolder,
  syncFolder,
  type FetchWant,
  type ImapFetched,
  type ImapFetchedRef,
  type ImapFolderInfo,
  type ImapMessageState,
  type ImapSelectData,
  type ImapSync,
  type ImapTags,
  type SearchNode,
  type StoreMode,
} from './imap-view.js';

export interface ProvisionArgs {
  ownerName: string;
  legacyDn: string;
  serverShortname: string;
  /** A partition to use instead of the one with most free space. */
  partition?: string;
}

export interface FolderSummary {
  id: number;
  name: string;
  containerClass: string | null;
  parent: number;
  children: number;
  special: SpecialFolder | null;
}

export type MailboxProtocol = {
  /** Creates the mailbox (identity and special folders). ecDuplicateName when it exists. */
  provision: { args: ProvisionArgs; result: { mailboxGuid: string; path: string } };
  exists: { args: null; result: boolean };
  /** What RopLogon needs: identity and the 13 logon folder GLOBCNTs. */
  logonInfo: { args: null; result: { mailboxGuid: string; replGuid: string; folders: number[]; special: Record<SpecialFolder, number> } };
  getStoreProps: { args: { tags?: number[] }; result: Uint8Array };
  getFolderProps: { args: { folder: number; tags?: number[] }; result: Uint8Array };
  setFolderProps: { args: { folder: number; props: Uint8Array }; result: { tag: number; error: string }[] };
  createFolder: { args: { parent: number; name: string; containerClass?: string; openIfExists?: boolean; searchFolder?: boolean }; result: { id: number; existed: boolean } };
  listFolders: { args: { parent: number }; result: FolderSummary[] };
  receiveFolder: { args: { messageClass: string }; result: { folder: number; explicitClass: string } };
  createMessage: { args: { folder: number; assoc?: boolean } & WireMessage; result: { mid: number; uid: number; cn: number } };
  deliver: { args: WireMessage; result: { folder: number; mid: number; uid: number } };
  getMessage: { args: { mid: number; tags?: number[] }; result: { props: Uint8Array; recipients: Uint8Array[]; attachments: { num: number; props: Uint8Array; size: number }[] } };
  getAttachmentData: { args: { mid: number; num: number }; result: Uint8Array | null };
  /** Everything of a message (named properties by name, blobs read in, the original MIME if kept): for conversion and export. */
  getMessageFull: { args: { mid: number }; result: WireMessage };
  /** The original Internet message of a received or imported message (null when it was changed since, or made by MAPI). */
  getOriginalMime: { args: { mid: number }; result: Uint8Array | null };
  /** The quota state alone (cheap: what SMTP checks at RCPT time). */
  quotaState: { args: null; result: string };
  /** The Internet message ids (PidTagInternetMessageId) of a folder's messages (imports skip what is there). */
  folderInternetIds: { args: { folder: number }; result: string[] };
  updateMessage: {
    args: { mid: number; set?: Uint8Array; remove?: number[]; recipients?: Uint8Array[]; attachments?: WireAttachment[]; expectChangeKey?: Uint8Array; force?: boolean };
    result: { cn: number; uid: number; oldUid: number };
  };
  /**
   * Marks messages read or unread. A first read of a message whose sender asked for a read
   * receipt publishes 'readReceipt' (ReadReceipt[]) for the door to send, unless suppressReceipt.
   */
  setRead: { args: { mids: number[]; read: boolean; suppressReceipt?: boolean }; result: { mid: number; changed: boolean }[] };
  deleteMessages: { args: { folder: number; mids: number[]; hard: boolean }; result: { deleted: number[]; missing: number[] } };
  moveCopyMessages: { args: { from: number; to: number; mids: number[]; move: boolean }; result: { from: number; to: number }[] };
  listContents: { args: { folder: number; assoc?: boolean }; result: number[] };
  changesSince: { args: { folder: number; cn: number }; result: ChangesSince };
  moveFolder: { args: { folder: number; parent: number; name?: string }; result: null };
  copyFolder: { args: { folder: number; parent: number; name?: string; recursive: boolean }; result: { id: number } };
  deleteFolderProps: { args: { folder: number; tags: number[] }; result: { tag: number; error: string }[] };
  setStoreProps: { args: { props: Uint8Array }; result: { tag: number; error: string }[] };
  deleteStoreProps: { args: { tags: number[] }; result: { tag: number; error: string }[] };
  /** Soft-deleted messages still recoverable in a folder, and bringing them back. */
  listSoftDeleted: { args: { folder: number }; result: number[] };
  recoverMessages: { args: { folder: number; mids: number[] }; result: { recovered: number[]; missing: number[] } };
  /** Flag-like properties (keywords, follow-up flag): new change key, same IMAP UID. */
  setFlagProps: { args: { mid: number; set?: Uint8Array; remove?: number[] }; result: { cn: number; uid: number } };
  deleteFolder: { args: { folder: number; messages: boolean; folders: boolean; hard: boolean }; result: null };
  emptyFolder: { args: { folder: number; associated: boolean; hard: boolean }; result: null };
  /** Sets the quota from one limit Q: warning at 90 %, no sending at Q, no receiving at 110 % (0 = none). */
  setQuota: { args: { bytes: number }; result: null };
  stats: { args: null; result: { sizeBytes: number; folders: number; messages: number; quota: { warnBytes: number; sendBytes: number; receiveBytes: number }; quotaState: string; path: string } };
  idsFromNames: { args: { names: WireName[]; create: boolean }; result: number[] };
  // Message instances (MS-OXCMSG), held per session until saved or released.
  openMessage: { args: { session: string; mid: number }; result: { instance: number } };
  newMessage: { args: { session: string; folder: number; assoc?: boolean }; result: { instance: number } };
  instanceGetProps: { args: { instance: number; tags?: number[] }; result: Uint8Array };
  instanceSetProps: { args: { instance: number; props: Uint8Array }; result: { tag: number; error: string }[] };
  instanceDeleteProps: { args: { instance: number; tags: number[] }; result: { tag: number; error: string }[] };
  instanceRecipients: { args: { instance: number }; result: { rowid: number; props: Uint8Array }[] };
  instanceModifyRecipients: { args: { instance: number; rows: { rowid: number; props: Uint8Array | null }[] }; result: null };
  instanceRemoveAllRecipients: { args: { instance: number }; result: null };
  /** pending: not part of the message until instanceSaveAttachment (RopCreateAttachment). */
  instanceCreateAttachment: { args: { instance: number; pending?: boolean }; result: { num: number } };
  instanceSaveAttachment: { args: { instance: number; num: number }; result: null };
  instanceSetAttachment: { args: { instance: number; num: number; props?: Uint8Array; data?: Uint8Array }; result: null };
  instanceDeleteAttachment: { args: { instance: number; num: number }; result: null };
  instanceAttachments: { args: { instance: number }; result: { num: number; props: Uint8Array; size: number; embedded: boolean }[] };
  instanceOpenEmbedded: { args: { instance: number; num: number; create: boolean }; result: { instance: number } };
  saveMessage: { args: { instance: number; keepOpen: boolean; force: boolean }; result: { mid: number | null } };
  releaseInstance: { args: { instance: number }; result: null };
  endSession: { args: { session: string }; result: { released: number } };
  /** Submitted messages waiting to be sent (MS-OXOMSG; the door sends them, rop/submit-rops.ts). */
  pendingSubmissions: { args: null; result: { mid: number; due: number; taken: number | null }[] };
  /**
   * Takes a due submission for sending: the message as WireMessage and who submitted it; null when
   * it is gone (aborted, sent) or not due yet. A take older than `retakeAfterMs` may be taken again
   * (the server stopped while sending).
   */
  takeSubmission: { args: { mid: number; retakeAfterMs?: number }; result: { wire: WireMessage; by: SubmissionRecord['by']; folder: number } | null };
  /** A sent submission: to the folder PidTagSentMailEntryId names (Sent Items by default), or deleted (PidTagDeleteAfterSubmit). */
  completeSubmission: { args: { mid: number }; result: { folder: number | null } };
  /** Consecutive ROPs of one logon of a MAPI session (actors/mailbox/rop/rop-run.ts). */
  ropRun: { args: RopRunArgs; result: RopRunResult };
  // Search folders (MS-OXCFOLD): criteria kept current on every write.
  setSearchCriteria: { args: { folder: number } & SearchCriteria; result: { matches: number } };
  getSearchCriteria: { args: { folder: number }; result: { criteria: SearchCriteria | null; state: number } };
  // Tables (MS-OXCTABL), held per session until released.
  openTable: { args: { session: string; folder: number; kind: 'contents' | 'associated' | 'hierarchy' }; result: { table: number; rows: number } };
  tableSetColumns: { args: { table: number; tags: number[] }; result: null };
  tableSort: { args: { table: number; keys: SortKey[]; categories?: number; expanded?: number }; result: null };
  tableExpandRow: { args: { table: number; category: number; maxRows: number }; result: { expandedCount: number; ids: number[]; rows: Uint8Array[] } };
  tableCollapseRow: { args: { table: number; category: number }; result: { collapsedCount: number } };
  tableGetCollapseState: { args: { table: number }; result: [number, boolean][] };
  tableSetCollapseState: { args: { table: number; state: [number, boolean][] }; result: null };
  tableRestrict: { args: { table: number; restriction: WireRestriction | null }; result: null };
  /** ids are table row ids (headers negative); sources the messages or folders behind them (0 for headers). */
  tableQueryRows: { args: { table: number; count: number; forward?: boolean; advance?: boolean }; result: { ids: number[]; sources: number[]; rows: Uint8Array[]; origin: number } };
  tableSeekInstanceKey: { args: { table: number; instanceKey: Uint8Array }; result: boolean };
  tableSeek: { args: { table: number; origin: Origin; count: number }; result: { sought: number; hitLimit: boolean } };
  tableSeekFractional: { args: { table: number; numerator: number; denominator: number }; result: null };
  tablePosition: { args: { table: number }; result: { numerator: number; denominator: number } };
  tableCreateBookmark: { args: { table: number }; result: { bookmark: number } };
  tableSeekBookmark: { args: { table: number; bookmark: number; count: number }; result: { rowNoLongerVisible: boolean; sought: number; hitLimit: boolean } };
  tableFreeBookmark: { args: { table: number; bookmark: number }; result: null };
  tableFindRow: { args: { table: number; restriction: WireRestriction; origin: Origin; backward?: boolean }; result: { id: number; row: Uint8Array } | null };
  tableReset: { args: { table: number }; result: null };
  releaseTable: { args: { table: number }; result: null };
  /** A consistent hot copy of the environment into one file (compacted). */
  backup: { args: { file: string }; result: { file: string; bytes: number } };
  namesFromIds: { args: { ids: number[] }; result: (WireName | null)[] };
} & ImapViewProtocol;

// ---------------------------------------------------------------- IMAP view (protocols/imap/)
/**
 * The IMAP door's ops: one per IMAP command (actors/mailbox/imap-view.ts has the mapping rules).
 * Mailboxes are named by path (display names, "INBOX" first for the Inbox) and resolved here, so
 * SELECT, STATUS, APPEND, COPY are one message each. Ops on the selected folder take `since` (the
 * session's MODSEQ) and answer what changed meanwhile with their result (`sync`), so a command
 * and its untagged updates cost one message.
 */
export type ImapViewProtocol = {
  imapFolders: { args: null; result: { folders: ImapFolderInfo[]; extraSubscribed: string[] } };
  imapStatus: { args: { path: string[] }; result: { id: number; messages: number; unseen: number; uidNext: number; uidValidity: number; size: number } };
  imapSelect: { args: { path: string[] }; result: ImapSelectData };
  imapSync: { args: { folder: number; since: number }; result: ImapSync };
  /** Message data for FETCH, up to `budget` bytes of MIME per call (`done` says how many were served). */
  imapFetch: { args: ImapFetchArgs; result: ImapFetchResult };
  /** imapFetch that also marks the messages read (BODY[] without PEEK, RFC822, RFC822.TEXT). */
  imapFetchSeen: { args: ImapFetchArgs; result: ImapFetchResult };
  imapStore: {
    args: { folder: number; mids: number[]; mode: StoreMode; flags: number; keywords: string[]; unchangedSince?: number; since?: number };
    result: { updated: ImapMessageState[]; modified: number[]; sync?: ImapSync };
  };
  imapSearch: { args: { folder: number; candidates: number[]; program: SearchNode; since?: number }; result: { mids: number[]; highestModseq: number; sync?: ImapSync } };
  imapCopy: {
    args: { from: number; to: string[]; mids: number[]; move: boolean; since?: number };
    result: { uidValidity: number; pairs: [number, number][]; sync?: ImapSync };
  };
  /** Expunges the folder's \\Deleted messages (those among `uids` when given: UID EXPUNGE). */
  imapExpunge: { args: { folder: number; uids?: number[]; since?: number }; result: { expunged: number[]; sync?: ImapSync } };
  /** `message`: the WireMessage as MessagePack (one top-level buffer: moved by transfer, however large its parts). */
  imapAppend: { args: { path: string[]; message: Uint8Array; flags: number; keywords: string[] }; result: { folder: number; uid: number; uidValidity: number } };
  imapCreate: { args: { path: string[] }; result: { id: number } };
  imapDelete: { args: { path: string[] }; result: { folder: number } };
  imapRename: { args: { from: string[]; to: string[] }; result: { folder: number } };
  imapSubscribe: { args: { path: string[]; subscribe: boolean }; result: null };
};

export interface ImapFetchArgs {
  folder: number;
  mids: number[];
  /** The UIDs the session knows the mids by: a mid whose UID changed (content change) is missing. */
  uids: number[];
  want: FetchWant;
  /** Mids whose generated MIME size the door knows (no need to send their MAPI data for 'size'). */
  sizeKnown?: number[];
  /** Stop adding messages once this many MIME / MAPI bytes are in the answer (streaming). */
  budget: number;
  since?: number;
}

export interface ImapFetchResult {
  messages: ImapFetchedRef[];
  /** The messages' bytes (see ImapFetchedRef). */
  data: Uint8Array;
  /** Mids no longer in the folder under the UID asked for. */
  missing: number[];
  /** How many of the asked mids this answer covers (the door asks again for the rest). */
  done: number;
  sync?: ImapSync;
}

export type { WireAttachment, WireMessage, WireName } from './wire-message.js';

// ---- IMAP view helpers (see the IMAP view ops below) ----

const MSGFLAG_UNSENT_BIT = 0x0008;
const FLAG_DELETED = 1 << 3;

/** The tags imap-view's flag computation reads. */
function imapFlagTags(t: ImapTags): number[] {
  const out = [Tag.PidTagFlagStatus, Tag.PidTagLastVerbExecuted, Tag.PidTagMessageDeliveryTime];
  if (t.keywords !== 0) out.push(t.keywords);
  if (t.imapFlags !== 0) out.push(t.imapFlags);
  return out;
}

/** FETCH's message data, within the byte budget. */
function imapFetch({ store, msgs }: { store: MailboxStore; msgs: MessageStore }, a: ImapFetchArgs, sync: (since: number) => ImapSync, indexed?: { ix: FolderIndex; cache: ContentCache }): ImapFetchResult {
  const t = imapTags(store, false);
  store.mustFolder(a.folder);
  const known = new Set(a.sizeKnown ?? []);
  const messages: ImapFetchedRef[] = [];
  const chunks: Buffer[] = [];
  let at = 0;
  const put = (b: Uint8Array): [number, number] => {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    chunks.push(buf);
    at += buf.length;
    return [at - buf.length, buf.length];
  };
  const missing: number[] = [];
  let bytes = 0;
  let done = 0;
  const toWire = (mid: number) => messageInToWire(msgs.content(mid), (ids) => namesFromIds(store.env.db.named, ids));
  for (; done < a.mids.length; done++) {
    if (bytes >= a.budget && messages.length > 0) break;
    const mid = a.mids[done]!;
    let f: ImapFetched | null;
    if (indexed !== undefined) f = fetchIndexed(store, msgs, indexed.ix, indexed.cache, mid, a.uids[done]!, a.want, known.has(mid), toWire);
    else {
      // Inside a write (FETCH that sets \\Seen): the record as the write left it.
      const rec = msgs.message(mid);
      f = rec === undefined || rec.folder !== a.folder || rec.uid !== a.uids[done] ? null : fetchMessage(store, msgs, mid, rec, t, a.want, known.has(mid), toWire);
    }
    if (f === null) {
      missing.push(mid);
      continue;
    }
    const { mime, wire, ...meta } = f;
    const ref: ImapFetchedRef = meta;
    if (mime !== undefined) ref.mime = put(mime);
    if (wire !== undefined) ref.wire = put(packWire(wire));
    bytes += 200 + (ref.mime?.[1] ?? 0) + (ref.wire?.[1] ?? 0);
    messages.push(ref);
  }
  return { messages, missing, done, data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), ...(a.since !== undefined ? { sync: sync(a.since) } : {}) };
}

/** What a read receipt needs of the message that was read (protocols/mail/submission.ts sends it). */
export interface ReadReceipt {
  subject: string;
  internetMessageId: string | null;
  /** Where it goes: the receipt address, else the sent-representing, else the sender. */
  toSmtp: string | null;
  toLegacyDn: string | null;
  toName: string;
  /** The reader (this mailbox's owner). */
  readerName: string;
  submitted: bigint | null;
}

function readReceiptOf(store: MailboxStore, msgs: MessageStore, mid: number): ReadReceipt {
  const p = msgs.props(mid, { blobs: false });
  const s = (tag: number): string | null => {
    const v = p.get(tag);
    return typeof v === 'string' && v !== '' ? v : null;
  };
  const exOf = (typeTag: number, addrTag: number) => (s(typeTag)?.toUpperCase() === 'EX' ? s(addrTag) : null);
  const submitted = p.get(Tag.PidTagClientSubmitTime);
  return {
    subject: s(Tag.PidTagSubject) ?? '',
    internetMessageId: s(Tag.PidTagInternetMessageId),
    toSmtp: s(0x5d05001f) ?? s(Tag.PidTagSentRepresentingSmtpAddress) ?? s(Tag.PidTagSenderSmtpAddress) ?? (s(Tag.PidTagSentRepresentingAddressType)?.toUpperCase() === 'SMTP' ? s(Tag.PidTagSentRepresentingEmailAddress) : null),
    toLegacyDn: exOf(Tag.PidTagSentRepresentingAddressType, Tag.PidTagSentRepresentingEmailAddress) ?? exOf(Tag.PidTagSenderAddressType, Tag.PidTagSenderEmailAddress),
    toName: s(Tag.PidTagSentRepresentingName) ?? s(Tag.PidTagSenderName) ?? '',
    readerName: store.identity()?.ownerName ?? '',
    submitted: typeof submitted === 'bigint' ? submitted : null,
  };
}

/** Names to this mailbox's ids, created as needed (inside the write that stores the values). */
function namesToIds(store: MailboxStore) {
  return (names: PropertyName[]) => {
    try {
      return idsFromNames(store.env.db.named, store.env.db.meta, names, true);
    } catch {
      // The id space is full: the values are dropped rather than the message refused.
      return names.map(() => 0);
    }
  };
}

/** Body forms asked for by tag that the message does not store are made from its native body (MS-OXBBODY). */
function withBodies(props: PropMap, tags: readonly number[] | undefined): PropMap {
  if (tags !== undefined) synthesizeBodies(props, tags);
  return props;
}

function pick(props: PropMap, tags: readonly number[] | undefined): PropMap {
  if (tags === undefined) return props;
  const out: PropMap = new Map();
  for (const t of tags) {
    const v = props.get(t);
    if (v !== undefined) out.set(t, v);
  }
  return out;
}

/** ROP handlers by RopId and input object kind (actors/mailbox/rop/). */
const ROP_HANDLERS: HandlerTable = new Map();
registerStoreRops(ROP_HANDLERS);
registerFolderRops(ROP_HANDLERS);
registerTableRops(ROP_HANDLERS);
registerPropRops(ROP_HANDLERS);
registerStreamRops(ROP_HANDLERS);
registerMessageRops(ROP_HANDLERS);
registerNotifyRops(ROP_HANDLERS);
registerSaveRops(ROP_HANDLERS);
registerPermRops(ROP_HANDLERS);
registerRuleRops(ROP_HANDLERS);
registerSubmitRops(ROP_HANDLERS);
registerComposeRops(ROP_HANDLERS);

export default defineActorKind<MailboxProtocol>({
  readOnly: ['imapFolders', 'imapStatus', 'imapSelect', 'imapSync', 'imapFetch', 'imapSearch', 'exists', 'logonInfo', 'getStoreProps', 'getFolderProps', 'listFolders', 'receiveFolder', 'getMessage', 'getAttachmentData', 'getMessageFull', 'getOriginalMime', 'folderInternetIds', 'quotaState', 'listContents', 'changesSince', 'stats', 'namesFromIds', 'listSoftDeleted'],
  create(ctx: ActorContext) {
    const address = parseMailboxAddress(ctx.id);
    let env: MailboxEnv | null = null;
    let store: MailboxStore | null = null;
    let messages: MessageStore | null = null;
    const instances = new MessageInstances(() => need().msgs);
    /** Open tables: id → session and view. Writes invalidate them all (rows rebuild on next read). */
    const tables = new Map<number, { session: string; table: Table }>();
    /** MAPI sessions' server objects (handles), by the door's session id. */
    const ropSessions = new Map<string, RopSession>();
    // Issue 8 (rop/notify-rops.ts): every event this actor publishes also becomes RopNotify
    // responses for the ROP sessions that want it, published as one 'ropNotify' event per session.
    const publish = ctx.emit.bind(ctx);
    ctx = Object.create(ctx, {
      emit: {
        value: (topic: string, data: unknown) => {
          publish(topic, data);
          if (ropSessions.size === 0 || topic === 'ropNotify') return;
          for (const n of ropNotifications(ropSessions, topic, data, () => notifyLookup(need()), ctx.log)) publish('ropNotify', n);
        },
      },
    }) as ActorContext;
    /** IMAP view: folder listings kept current from the change index (imap-view.ts). */
    const imapIndexes = new FolderIndexes();
    const imapContent = new ContentCache();
    let nextTable = 1;
    const table = (id: number): Table => {
      const t = tables.get(id);
      if (t === undefined) throw actorError('ecNullObject', `no open table ${id}`);
      return t.table;
    };
    /** A table operation: after queued writes committed and the view is built (in slices). */
    const viewing = async <T>(id: number, fn: (t: Table) => T): Promise<T> => {
      await need().env.idle();
      const t = table(id);
      await t.prepare();
      return fn(t);
    };
    const rowBag = (columns: number[], row: (PropValue | undefined)[]) => encodePropBag(columns.flatMap((tag, i) => (row[i] === undefined ? [] : [[tag, row[i]!] as [number, PropValue]])));
    const restrictionOf = (w: WireRestriction | null) => {
      try {
        return w === null ? null : fromWireRestriction(w);
      } catch (err) {
        throw actorError('ecTooComplex', (err as Error).message);
      }
    };
    const bag = (b: Uint8Array) => decodePropBag(Buffer.from(b));

    const open = async (path: string) => {
      env = await MailboxEnv.open(path);
      store = new MailboxStore(env);
      messages = new MessageStore(store);
    };
    const need = (): { env: MailboxEnv; store: MailboxStore; msgs: MessageStore } => {
      if (env === null || store === null || messages === null || store.identity() === undefined) throw actorError('ecNotFound', `no mailbox ${ctx.id}`);
      return { env, store, msgs: messages };
    };
    /**
     * A write: commit, then reply (and tell subscribers) once the flush is done, while the actor
     * already takes its next message (group commit).
     */
    const durably = <T>(fn: (x: { store: MailboxStore; msgs: MessageStore }) => T, event?: (v: T) => [string, unknown] | null): ReplyWhen<T> => {
      const { value, durable } = commit(fn, event);
      return replyWhen(value, durable);
    };
    /** A write's value once committed, and its flush (durably without the reply). */
    const commit = <T>(fn: (x: { store: MailboxStore; msgs: MessageStore }) => T, event?: (v: T) => [string, unknown] | null): { value: Promise<T>; durable: Promise<unknown> } => {
      const x = need();
      const committed = x.env.enqueue(() => {
        x.msgs.searchChanges = [];
        const value = fn(x);
        return { value, search: x.msgs.searchChanges };
      });
      for (const t of tables.values()) t.table.invalidate();
      const durable = committed.then((c) => c.durable);
      // Table notifications: diff each open table once the write is visible, tell its owner after the flush.
      void committed.then(async () => {
        const notes: { session: string; table: number; events: unknown[] }[] = [];
        for (const [id, t] of tables) {
          const events = await t.table.changes();
          if (events.length === 0) continue;
          const cols = t.table.getColumns();
          notes.push({
            session: t.session,
            table: id,
            events: events.map((e) => ('row' in e ? { ...e, row: rowBag(cols, e.row) } : e)),
          });
        }
        void durable.then(() => {
          for (const n of notes) ctx.emit('tableNotify', n);
        }, () => undefined);
      }, () => undefined);
      // Search folders whose contents changed tell their subscribers (Outlook's reminders).
      void durable.then(async () => {
        for (const c of (await committed).value.search) ctx.emit(c.added ? 'searchRowAdded' : 'searchRowRemoved', c);
      }, () => undefined);
      if (event !== undefined) {
        void durable.then(async () => {
          const e = event((await committed).value.value);
          if (e !== null) ctx.emit(e[0], e[1]);
        }, () => undefined);
      }
      return { value: committed.then((c) => c.value.value), durable };
    };
    /** A read: waits until the writes queued before it have committed, then reads. */
    const reading = <T>(fn: (x: { store: MailboxStore; msgs: MessageStore }) => T): T | Promise<T> => {
      const x = need();
      // No write queued: answer in this turn (a promise would miss the main thread's spin window).
      if (x.env.isIdle()) return fn(x);
      return x.env.idle().then(() => fn(need()));
    };

    /** The actor's own handlers, for ROP handlers to run in place (RopEnv.op). */
    let ops: Handlers<MailboxProtocol> | null = null;
    /** What an object holds here goes when a ROP session releases it. */
    const disposeRopObject = (obj: ServerObject) => {
      if (obj.kind === 'table' && obj.table !== 0) tables.delete(obj.table);
      else if (obj.kind === 'message') instances.release(obj.instance);
      else if (obj.kind === 'attachment') instances.dropPendingAttachment(obj.instance, obj.num);
    };
    const actor: Actor<MailboxProtocol> = {
      async onActivate() {
        const path = locateMailbox(ctx.settings.partitions, address);
        if (path === null) return;
        await open(path);
        // Housekeeping on activation: tombstones past the horizon go.
        const horizon = ctx.settings.tombstoneMs ?? 30 * 86_400_000;
        if (store!.identity() !== undefined) {
          await env!.write(() => {
            store!.purgeTombstones(horizon);
            messages!.purgeSoftDeleted(horizon);
          });
        }
      },
      sessionsHeld: () => [...new Set([...instances.sessions(), ...[...tables.values()].map((t) => t.session), ...ropSessions.keys()])],
      async onPassivate() {
        instances.clear();
        ropSessions.clear();
        imapIndexes.clear();
        imapContent.clear();
        tables.clear();
        if (env !== null) await (env as MailboxEnv).close(); // waits for queued writes first
        env = null;
        store = null;
        messages = null;
      },
      handlers: {
        async provision(args) {
          if (env !== null) throw actorError('ecDuplicateName', `mailbox ${ctx.id} already exists`);
          if (args.partition !== undefined && !ctx.settings.partitions.includes(args.partition)) throw actorError('ecInvalidParam', `${args.partition} is not a configured partition`);
          const path = mailboxPath(args.partition ?? choosePartition(ctx.settings.partitions), address);
          await open(path);
          const mailboxGuid = await provisionEnv(env!, { ownerName: args.ownerName, legacyDn: args.legacyDn, serverShortname: args.serverShortname });
          return { mailboxGuid, path };
        },
        exists: () => env !== null && store !== null && (store as MailboxStore).identity() !== undefined,
        async logonInfo() {
          const { env, store } = need();
          await env.idle();
          const id = store.identity()!;
          const special = store.specialFolders();
          return { mailboxGuid: guidToString(id.mailboxGuid), replGuid: guidToString(id.replGuid), folders: LOGON_FOLDERS.map((f) => special[f]), special };
        },
        getStoreProps: ({ tags }) => reading(({ store }) => encodePropBag(pick(store.storeProps(), tags))),
        getFolderProps: ({ folder, tags }) => reading(({ store }) => encodePropBag(pick(store.folderProps(folder), tags))),
        setFolderProps: ({ folder, props }) => durably(({ store }) => store.setFolderProps(folder, decodePropBag(Buffer.from(props)))),
        createFolder: ({ parent, name, containerClass, openIfExists, searchFolder }) =>
          durably(
            ({ store }) => store.createFolder(parent, name, { containerClass, openIfExists, type: searchFolder === true ? FolderType.FOLDER_SEARCH : undefined }),
            (r) => (r.existed ? null : ['objectCreated', { folder: r.id, parent }]),
          ),
        listFolders: ({ parent }) =>
          reading(({ store }) =>
            store.children(parent).map((id): FolderSummary => {
            const rec = store.folder(id)!;
            const p = store.folderProps(id);
            return {
              id,
              name: p.get(Tag.PidTagDisplayName) as string,
              containerClass: (p.get(Tag.PidTagContainerClass) as string | undefined) ?? null,
              parent: rec.parent,
              children: rec.children,
              special: rec.special ?? null,
            };
          }),
          ),
        receiveFolder: ({ messageClass }) => reading(({ store }) => store.receiveFolder(messageClass)),
        createMessage: ({ folder, assoc, ...m }) =>
          durably(({ store, msgs }) => msgs.create(folder, wireToMessageIn(m, namesToIds(store)), { assoc }), (r) => ['objectCreated', { folder, mid: r.mid, uid: r.uid }]),
        deliver: (m) => durably(({ store, msgs }) => msgs.deliver(wireToMessageIn(m, namesToIds(store))), (r) => ['newMail', r]),
        getMessageFull: ({ mid }) => reading(({ store, msgs }) => messageInToWire(msgs.content(mid), (ids) => namesFromIds(store.env.db.named, ids))),
        getOriginalMime: ({ mid }) => reading(({ msgs }) => msgs.originalMime(mid)),
        // Not behind queued writes (a soft check: waiting for the next flush would serialize SMTP's RCPT behind deliveries).
        quotaState: () => need().store.quotaState(),
        folderInternetIds: ({ folder }) =>
          reading(({ store, msgs }) => {
            store.mustFolder(folder);
            const ids: string[] = [];
            for (const mid of msgs.contents(folder)) {
              const v = msgs.props(mid, { blobs: false, ids: false }).get(Tag.PidTagInternetMessageId);
              if (typeof v === 'string') ids.push(v);
            }
            return ids;
          }),
        getMessage: ({ mid, tags }) =>
          reading(({ msgs }) => ({
            props: encodePropBag(pick(withBodies(msgs.props(mid), tags), tags)),
            recipients: msgs.recipients(mid).map((r) => encodePropBag(r)),
            attachments: msgs.attachments(mid).map((a) => ({ num: a.num, props: encodePropBag(a.props), size: a.size })),
          })),
        getAttachmentData: ({ mid, num }) => reading(({ msgs }) => msgs.attachmentData(mid, num)),
        updateMessage: ({ mid, set, remove, recipients, attachments, expectChangeKey, force }) => {
          const change = {
            set: set === undefined ? undefined : decodePropBag(Buffer.from(set)),
            remove,
            recipients: recipients?.map((x) => decodePropBag(Buffer.from(x))),
            attachments: attachments?.map((a) => ({ props: decodePropBag(Buffer.from(a.props)), data: a.data })),
          };
          return durably(({ msgs }) => msgs.update(mid, change, { expectChangeKey, force }), (r) => ['objectModified', { mid, uid: r.uid, oldUid: r.oldUid }]);
        },
        setRead: ({ mids, read, suppressReceipt }) => {
          const c = commit(
            ({ store, msgs }) => {
              const r = msgs.setRead(mids, read, suppressReceipt === true);
              const receipts = r.filter((x) => x.receipt === true).map((x) => readReceiptOf(store, msgs, x.mid));
              return { r: r.map(({ mid, changed }) => ({ mid, changed })), receipts };
            },
            (v) => ['flagsChanged', { mids: v.r.filter((x) => x.changed).map((x) => x.mid), read }],
          );
          void c.durable.then(async () => {
            const v = await c.value;
            if (v.receipts.length > 0) ctx.emit('readReceipt', { receipts: v.receipts });
          }, () => undefined);
          return replyWhen(c.value.then((v) => v.r), c.durable);
        },
        deleteMessages: ({ folder, mids, hard }) => durably(({ msgs }) => msgs.delete(folder, mids, hard), (r) => ['objectDeleted', { folder, mids: r.deleted }]),
        moveCopyMessages: ({ from, to, mids, move }) => durably(({ msgs }) => msgs.moveCopy(from, to, mids, move), (r) => [move ? 'objectMoved' : 'objectCopied', { from, to, pairs: r }]),
        listContents: ({ folder, assoc }) => reading(({ msgs }) => msgs.contents(folder, assoc ?? false)),
        changesSince: ({ folder, cn }) => reading(({ msgs }) => msgs.changesSince(folder, cn)),
        moveFolder: ({ folder, parent, name }) => durably(({ store }) => (store.moveFolder(folder, parent, name), null), () => ['objectMoved', { folder, parent }]),
        copyFolder: ({ folder, parent, name, recursive }) =>
          durably(({ msgs }) => ({ id: msgs.copyFolder(folder, parent, name, recursive) }), (r) => ['objectCopied', { folder, to: r.id }]),
        deleteFolderProps: ({ folder, tags }) => durably(({ store }) => store.deleteFolderProps(folder, tags)),
        setStoreProps: ({ props }) => durably(({ store }) => store.setStoreProps(bag(props))),
        deleteStoreProps: ({ tags }) => durably(({ store }) => store.deleteStoreProps(tags)),
        listSoftDeleted: ({ folder }) => reading(({ msgs }) => msgs.softDeleted(folder)),
        recoverMessages: ({ folder, mids }) => durably(({ msgs }) => msgs.recover(folder, mids), (r) => ['objectCreated', { folder, mids: r.recovered }]),
        setFlagProps: ({ mid, set, remove }) =>
          durably(({ msgs }) => msgs.setFlagProps(mid, set === undefined ? new Map() : bag(set), remove ?? []), (r) => ['flagsChanged', { mids: [mid], uid: r.uid }]),
        deleteFolder: ({ folder, ...opts }) => durably(({ msgs }) => (msgs.deleteFolder(folder, opts), null), () => ['objectDeleted', { folder }]),
        emptyFolder: ({ folder, ...opts }) => durably(({ msgs }) => (msgs.emptyFolder(folder, opts), null), () => ['objectModified', { folder }]),
        setQuota: ({ bytes }) =>
          durably(({ store }) => {
            if (!Number.isSafeInteger(bytes) || bytes < 0) throw actorError('ecInvalidParam', 'a quota is a whole number of bytes');
            store.setQuota({ warnBytes: Math.floor(bytes * 0.9), sendBytes: bytes, receiveBytes: Math.floor(bytes * 1.1) });
            return null;
          }),
        stats: () => reading(({ msgs }) => msgs.stats()),
        idsFromNames: ({ names, create }) => {
          let parsed: PropertyName[];
          try {
            parsed = names.map((n) => ('lid' in n ? { guid: guidFromString(n.guid), lid: n.lid } : { guid: guidFromString(n.guid), name: n.name }));
          } catch (err) {
            throw actorError('ecInvalidParam', (err as Error).message);
          }
          return create ? durably(({ store }) => idsFromNames(store.env.db.named, store.env.db.meta, parsed, true)) : reading(({ store }) => idsFromNames(store.env.db.named, store.env.db.meta, parsed, false));
        },
        openMessage: ({ session, mid }) => reading(() => ({ instance: instances.openStored(session, mid) })),
        newMessage: ({ session, folder, assoc }) => {
          need().store.mustFolder(folder);
          return { instance: instances.create(session, folder, assoc ?? false) };
        },
        instanceGetProps: ({ instance, tags }) => encodePropBag(pick(withBodies(new Map(instances.getProps(instance)), tags), tags)),
        instanceSetProps: ({ instance, props }) => instances.setProps(instance, bag(props)),
        instanceDeleteProps: ({ instance, tags }) => instances.deleteProps(instance, tags),
        instanceRecipients: ({ instance }) => instances.recipients(instance).map((r) => ({ rowid: r.rowid, props: encodePropBag(r.props) })),
        instanceModifyRecipients: ({ instance, rows }) => (instances.modifyRecipients(instance, rows.map((r) => ({ rowid: r.rowid, props: r.props === null ? null : bag(r.props) }))), null),
        instanceRemoveAllRecipients: ({ instance }) => (instances.removeAllRecipients(instance), null),
        instanceCreateAttachment: ({ instance, pending }) => ({ num: instances.createAttachment(instance, pending ?? false) }),
        instanceSaveAttachment: ({ instance, num }) => (instances.saveAttachment(instance, num), null),
        instanceSetAttachment: ({ instance, num, props, data }) => (instances.setAttachment(instance, num, { props: props === undefined ? undefined : bag(props), data }), null),
        instanceDeleteAttachment: ({ instance, num }) => (instances.deleteAttachment(instance, num), null),
        instanceAttachments: ({ instance }) => instances.attachments(instance).map((a) => ({ num: a.num, props: encodePropBag(a.props), size: a.size, embedded: a.embedded })),
        instanceOpenEmbedded: ({ instance, num, create }) => ({ instance: instances.openEmbedded(instance, num, create) }),
        async saveMessage({ instance, keepOpen, force }) {
          // The actor waits for the commit (not the flush): later calls on this instance must
          // not slip into the save.
          const { env } = need();
          const c = await env.enqueue(() => instances.save(instance, { keepOpen, force }));
          const mid = c.value.mid;
          if (mid !== null) void c.durable.then(() => ctx.emit('objectModified', { mid }), () => undefined);
          return replyWhen(c.value, c.durable);
        },
        releaseInstance: ({ instance }) => (instances.release(instance), null),
        endSession: ({ session }) => {
          let released = instances.endSession(session);
          const rs = ropSessions.get(session);
          if (rs !== undefined) {
            released += rs.size;
            ropSessions.delete(session);
          }
          for (const [id, t] of tables) {
            if (t.session === session) {
              tables.delete(id);
              released++;
            }
          }
          return { released };
        },
        pendingSubmissions: () => reading(({ store }) => store.submissions().map(({ mid, rec }) => ({ mid, due: rec.due, taken: rec.taken ?? null }))),
        takeSubmission: ({ mid, retakeAfterMs }) =>
          durably(({ store, msgs }) => {
            const rec = store.submission(mid);
            const now = Date.now();
            if (rec === undefined || rec.due > now) return null;
            if (rec.taken !== undefined && now - rec.taken < (retakeAfterMs ?? 10 * 60_000)) return null;
            const m = msgs.message(mid);
            if (m === undefined) {
              store.removeSubmission(mid);
              return null;
            }
            store.addSubmission(mid, { ...rec, taken: now });
            return { wire: messageInToWire(msgs.content(mid), (ids) => namesFromIds(store.env.db.named, ids)), by: rec.by, folder: m.folder };
          }),
        completeSubmission: ({ mid }) =>
          durably(({ store, msgs }) => {
            store.removeSubmission(mid);
            const rec = msgs.message(mid);
            if (rec === undefined) return { folder: null };
            const props = msgs.props(mid, { blobs: false });
            if (props.get(SubmitTag.PidTagDeleteAfterSubmit) === true) {
              msgs.delete(rec.folder, [mid], true);
              return { folder: null };
            }
            let target = store.specialFolders().sentItems;
            const named = props.get(SubmitTag.PidTagSentMailEntryId);
            if (named instanceof Uint8Array) {
              const parsed = parseEntryId(named);
              if (parsed !== null && parsed.kind === 'folder' && store.folder(parsed.globcnt) !== undefined) target = parsed.globcnt;
            }
            // Sent: read, no longer unsent or submitted.
            msgs.update(mid, { set: new Map([[Tag.PidTagMessageFlags, ((rec.flags | MSGFLAG_READ) & ~(MSGFLAG_SUBMIT | MSGFLAG_UNSENT)) >>> 0]]) }, { force: true });
            if (target !== rec.folder) {
              msgs.moveCopy(rec.folder, target, [mid], true);
              return { folder: target };
            }
            return { folder: target };
          }),
        async ropRun(args) {
          need();
          let session = ropSessions.get(args.session);
          if (session === undefined) {
            // The door has logons here but this actor does not know the session: it was
            // passivated or its worker restarted. The door ends the session context visibly.
            if (args.expectSession) throw actorError('SESSION_LOST', `MAPI session ${args.session} is gone from ${ctx.id}`);
            session = new RopSession(args.session, args.caller, disposeRopObject);
            ropSessions.set(args.session, session);
          }
          const durables: Promise<unknown>[] = [];
          const env: RopEnv = {
            log: ctx.log,
            mailbox: ctx.id,
            read: async (fn) => {
              const x = need();
              if (!x.env.isIdle()) await x.env.idle();
              return fn(need());
            },
            write: async (fn) => {
              const c = commit(fn);
              // A write that failed (its handler saw the error) has nothing to flush: it must not fail the run.
              c.durable.catch(() => undefined);
              durables.push(c.value.then(() => c.durable, () => undefined));
              return c.value;
            },
            op: async (name, a) => {
              const r = await (ops![name] as (x: unknown) => unknown)(a);
              if (r instanceof ReplyWhen) {
                r.when.catch(() => undefined);
                durables.push(Promise.resolve(r.value).then(() => r.when, () => undefined));
                return (await r.value) as never;
              }
              return r as never;
            },
            emit: (topic, data) => ctx.emit(topic, data),
          };
          const result = await runRops(env, session, args, ROP_HANDLERS);
          if (session.size === 0) ropSessions.delete(args.session);
          return durables.length === 0 ? result : replyWhen(result, Promise.all(durables));
        },
        async setSearchCriteria({ folder, restriction, scope, recursive }) {
          // Evaluated in 5 ms slices while this mailbox's other messages wait (its state cannot
          // change underneath) and the other mailboxes on the worker go on; then stored at once.
          const { env, msgs } = need();
          await env.idle();
          const c = { restriction, scope, recursive };
          const matches = await msgs.searches.evaluateSliced(folder, c, SLICE_MS);
          // The search is complete once stored (matches are kept current from then on): SearchCompleted.
          return durably(({ msgs: m }) => ({ matches: m.searches.setCriteria(folder, c, matches) }), () => ['searchCompleted', { folder }]);
        },
        getSearchCriteria: ({ folder }) => reading(({ msgs }) => ({ criteria: msgs.searches.criteria(folder) ?? null, state: msgs.searches.state(folder) })),
        openTable: ({ session, folder, kind }) =>
          reading(({ store, msgs }) => {
            store.mustFolder(folder);
            const t =
              kind === 'hierarchy'
                ? new Table({ ids: () => store.children(folder), row: (id) => (store.folder(id) === undefined ? undefined : store.folderProps(id)) })
                : new Table({
                    // A search folder's contents are its matches, each with its real parent folder.
                    ids: () => (kind === 'contents' && msgs.searches.criteria(folder) !== undefined ? msgs.searches.results(folder) : msgs.contents(folder, kind === 'associated')),
                    page: kind === 'contents' && msgs.searches.criteria(folder) !== undefined ? undefined : (after, limit) => msgs.contentsPage(folder, kind === 'associated', after, limit),
                    indexPage:
                      kind === 'contents' && msgs.searches.criteria(folder) !== undefined
                        ? undefined
                        : (tag, after, limit) => msgs.indexPage(folder, kind === 'associated', tag, (after as IndexKey | null) ?? null, limit),
                    row: (id) => (msgs.message(id) === undefined ? undefined : msgs.props(id, { blobs: false })),
                    rowLite: (id) => (msgs.message(id) === undefined ? undefined : msgs.props(id, { blobs: false, ids: false })),
                  });
            const id = nextTable++;
            tables.set(id, { session, table: t });
            // The row count comes from the folder's counters: opening a view builds nothing yet.
            const f = store.folder(folder)!;
            const count = kind === 'hierarchy' ? f.children : kind === 'associated' ? f.assoc : msgs.searches.criteria(folder) !== undefined ? msgs.searches.results(folder).length : f.content;
            return { table: id, rows: count };
          }),
        tableSetColumns: ({ table: id, tags }) => (table(id).setColumns(tags), null),
        tableSort: ({ table: id, keys, categories, expanded }) => (table(id).sort(keys, categories ?? 0, expanded ?? categories ?? 0), null),
        tableExpandRow: ({ table: id, category, maxRows }) =>
          viewing(id, (t) => {
            const r = t.expandRow(category, maxRows);
            return { expandedCount: r.expandedCount, ids: r.ids, rows: r.rows.map((row) => rowBag(t.getColumns(), row)) };
          }),
        tableCollapseRow: ({ table: id, category }) => viewing(id, (t) => t.collapseRow(category)),
        tableGetCollapseState: ({ table: id }) => table(id).getCollapseState(),
        tableSetCollapseState: ({ table: id, state }) => (table(id).setCollapseState(state), null),
        tableRestrict: ({ table: id, restriction }) => (table(id).restrict(restrictionOf(restriction)), null),
        tableQueryRows: ({ table: id, count, forward, advance }) =>
          viewing(id, (t) => {
            const r = t.queryRows(count, forward ?? true, advance ?? true);
            const cols = t.getColumns();
            return { ids: r.ids, sources: r.ids.map((x) => (x < 0 ? 0 : t.sourceId(x))), rows: r.rows.map((row) => rowBag(cols, row)), origin: r.origin };
          }),
        tableSeek: ({ table: id, origin, count }) => viewing(id, (t) => t.seek(origin, count)),
        tableSeekInstanceKey: ({ table: id, instanceKey }) => viewing(id, (t) => t.seekInstanceKey(instanceKey)),
        tableSeekFractional: ({ table: id, numerator, denominator }) => viewing(id, (t) => (t.seekFractional(numerator, denominator), null)),
        tablePosition: ({ table: id }) => viewing(id, (t) => t.position()),
        tableCreateBookmark: ({ table: id }) => viewing(id, (t) => ({ bookmark: t.createBookmark() })),
        tableSeekBookmark: ({ table: id, bookmark, count }) => viewing(id, (t) => t.seekBookmark(bookmark, count)),
        tableFreeBookmark: ({ table: id, bookmark }) => (table(id).freeBookmark(bookmark), null),
        tableFindRow: ({ table: id, restriction, origin, backward }) =>
          viewing(id, (t) => {
            const hit = t.findRow(restrictionOf(restriction)!, origin, backward ?? false);
            return hit === null ? null : { id: hit.id, row: rowBag(t.getColumns(), hit.row) };
          }),
        tableReset: ({ table: id }) => (table(id).reset(), null),
        releaseTable: ({ table: id }) => (tables.delete(id), null),
        async backup({ file }) {
          const { env } = need();
          await env.idle();
          return backupEnv(env, file);
        },
        namesFromIds: ({ ids }) =>
          reading(({ store }) => namesFromIds(store.env.db.named, ids).map((n): WireName | null => (n === null ? null : toWireName(n)))),

        // ------------------------------------------------------------ IMAP view (protocols/imap/)
        imapFolders: () =>
          reading(({ store }) => {
            const t = imapTags(store, false);
            return { folders: listMailFolders(store, t), extraSubscribed: extraSubscriptions(store, t) };
          }),
        imapStatus: ({ path }) =>
          reading(({ store }) => {
            const id = resolvePath(store, path);
            const rec = store.mustFolder(id);
            return { id, messages: rec.content, unseen: rec.unread, uidNext: rec.uidNext, uidValidity: rec.uidValidity, size: rec.size };
          }),
        imapSelect: ({ path }) => reading(({ store, msgs }) => imapIndexes.get(store, msgs, resolvePath(store, path), imapTags(store, false)).selectData(false)),
        imapSync: ({ folder, since }) => reading(({ store, msgs }) => imapIndexes.get(store, msgs, folder, imapTags(store, false)).syncData(store, since)),
        imapFetch: (args) =>
          reading((x) => {
            const ix = imapIndexes.get(x.store, x.msgs, args.folder, imapTags(x.store, false));
            return imapFetch(x, args, (since) => ix.syncData(x.store, since), { ix, cache: imapContent });
          }),
        imapFetchSeen: (args) =>
          durably(
            (x) => {
              const mids = args.mids.filter((mid, i) => {
                const rec = x.msgs.message(mid);
                return rec !== undefined && rec.folder === args.folder && rec.uid === args.uids[i];
              });
              x.msgs.setRead(mids, true);
              return imapFetch(x, args, (since) => syncFolder(x.store, x.msgs, args.folder, since, imapTags(x.store, false)));
            },
            (r) => ['flagsChanged', { folder: args.folder, mids: r.messages.map((m) => m.mid) }],
          ),
        imapStore: ({ folder, mids, mode, flags, keywords, unchangedSince, since }) =>
          durably(
            ({ store, msgs }) => {
              const t = imapTags(store, keywords.length > 0 || mode !== 'remove' || flags !== 0);
              const updated: ImapMessageState[] = [];
              const modified: number[] = [];
              const now = Date.now();
              for (const mid of mids) {
                let rec = msgs.message(mid);
                if (rec === undefined || rec.folder !== folder) continue;
                let s = imapStateOf(msgs, mid, rec, t, imapFlagTags(t));
                // CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3), ready for when it is announced.
                if (unchangedSince !== undefined && s.modseq > unchangedSince) {
                  modified.push(mid);
                  continue;
                }
                const ch = flagChanges(rec, s.picked, t, mode, flags, keywords, now);
                if (ch.read !== null) msgs.setRead([mid], ch.read);
                if (ch.messageFlags !== null) ch.set.set(Tag.PidTagMessageFlags, (msgs.message(mid)!.flags & ~MSGFLAG_UNSENT_BIT) | (ch.messageFlags & MSGFLAG_UNSENT_BIT));
                if (ch.set.size > 0 || ch.remove.length > 0) msgs.setFlagProps(mid, ch.set, ch.remove, now);
                rec = msgs.message(mid)!;
                s = imapStateOf(msgs, mid, rec, t, imapFlagTags(t));
                updated.push(imapPublicState(s));
              }
              return { updated, modified, ...(since !== undefined ? { sync: syncFolder(store, msgs, folder, since, t) } : {}) };
            },
            (r) => (r.updated.length === 0 ? null : ['flagsChanged', { folder, mids: r.updated.map((u) => u.mid) }]),
          ),
        imapSearch: ({ folder, candidates, program, since }) =>
          reading(({ store, msgs }) => {
            const t = imapTags(store, false);
            store.mustFolder(folder);
            const ix = imapIndexes.get(store, msgs, folder, t);
            const r = searchFolder(store, msgs, ix, imapContent, candidates, program);
            return { ...r, ...(since !== undefined ? { sync: ix.syncData(store, since) } : {}) };
          }),
        imapCopy: ({ from, to, mids, move, since }) =>
          durably(
            ({ store, msgs }) => {
              const dest = resolvePath(store, to);
              const srcUids = new Map<number, number>();
              const present = mids.filter((mid) => {
                const rec = msgs.message(mid);
                if (rec === undefined || rec.folder !== from) return false;
                srcUids.set(mid, rec.uid);
                return true;
              });
              const pairs = msgs.moveCopy(from, dest, present, move).map((p): [number, number] => [srcUids.get(p.from)!, msgs.message(p.to)!.uid]);
              const t = imapTags(store, false);
              return { uidValidity: store.mustFolder(dest).uidValidity, pairs, dest, ...(since !== undefined ? { sync: syncFolder(store, msgs, from, since, t) } : {}) };
            },
            (r) => [move ? 'objectMoved' : 'objectCopied', { from, to: r.dest }],
          ),
        imapExpunge: ({ folder, uids, since }) =>
          durably(
            ({ store, msgs }) => {
              const t = imapTags(store, false);
              const only = uids === undefined ? null : new Set(uids);
              const gone: number[] = [];
              const expunged: number[] = [];
              if (t.imapFlags !== 0) {
                for (const d of imapIndexes.peek(folder).deleted(store, msgs, t)) {
                  if (only !== null && !only.has(d.uid)) continue;
                  const rec = msgs.message(d.mid);
                  // The record decides (the index may be behind a write in this same batch).
                  if (rec === undefined || rec.folder !== folder || rec.uid !== d.uid) continue;
                  if ((imapStateOf(msgs, d.mid, rec, t, imapFlagTags(t)).flags & FLAG_DELETED) === 0) continue;
                  gone.push(d.mid);
                  expunged.push(d.uid);
                }
              }
              // Soft: recoverable like Outlook's deletes, until the tombstone horizon.
              if (gone.length > 0) msgs.delete(folder, gone, false);
              return { expunged, mids: gone, ...(since !== undefined ? { sync: syncFolder(store, msgs, folder, since, t) } : {}) };
            },
            (r) => (r.mids.length === 0 ? null : ['objectDeleted', { folder, mids: r.mids }]),
          ),
        imapAppend: ({ path, message: packed, flags, keywords }) => {
          let message: WireMessage;
          try {
            message = unpackWire(packed);
          } catch (err) {
            throw actorError('ecInvalidParam', `unreadable message: ${(err as Error).message}`);
          }
          return durably(
            ({ store, msgs }) => {
              const folder = resolvePath(store, path);
              if (store.quotaState() === 'receive-prohibited') throw actorError('ecQuotaExceeded', 'the mailbox is over its quota');
              const t = imapTags(store, true);
              const m = wireToMessageIn(message, namesToIds(store));
              initialFlagProps(m.props, t, flags, keywords);
              const made = msgs.create(folder, m);
              return { folder, uid: made.uid, uidValidity: store.mustFolder(folder).uidValidity, mid: made.mid };
            },
            (r) => ['objectCreated', { folder: r.folder, mid: r.mid, uid: r.uid }],
          );
        },
        imapCreate: ({ path }) =>
          durably(
            ({ store }) => {
              const special = store.specialFolders();
              let parent = special.ipmSubtree;
              let made = -1;
              path.forEach((name, i) => {
                if (i === 0 && name.toUpperCase() === 'INBOX') {
                  if (path.length === 1) throw actorError('ecDuplicateName', 'INBOX exists');
                  parent = special.inbox;
                  return;
                }
                const existing = store.childByName(parent, name);
                if (existing !== undefined) {
                  if (i === path.length - 1) throw actorError('ecDuplicateName', `${path.join('/')} exists`);
                  parent = existing;
                  return;
                }
                made = parent = store.createFolder(parent, name, { containerClass: 'IPF.Note' }).id;
              });
              return { id: made };
            },
            (r) => ['objectCreated', { folder: r.id }],
          ),
        imapDelete: ({ path }) =>
          durably(
            ({ store, msgs }) => {
              const id = resolvePath(store, path);
              const rec = store.mustFolder(id);
              if (rec.special !== undefined) throw actorError('ecAccessDenied', 'special folders cannot be deleted');
              if (rec.children > 0) throw actorError('ecHasFolders', 'the mailbox has subfolders');
              msgs.deleteFolder(id, { messages: true, folders: false, hard: false });
              return { folder: id };
            },
            (r) => ['objectDeleted', r],
          ),
        imapRename: ({ from, to }) =>
          durably(
            ({ store, msgs }) => {
              const id = resolvePath(store, from);
              const special = store.specialFolders();
              // The new parent: created as needed (RFC 3501 §6.3.5).
              let parent = special.ipmSubtree;
              to.slice(0, -1).forEach((name, i) => {
                if (i === 0 && name.toUpperCase() === 'INBOX') return void (parent = special.inbox);
                parent = store.childByName(parent, name) ?? store.createFolder(parent, name, { containerClass: 'IPF.Note' }).id;
              });
              const name = to[to.length - 1]!;
              if (id === special.inbox) {
                // Renaming INBOX moves its messages to a new folder; INBOX stays, empty (§6.3.5).
                const made = store.createFolder(parent, name, { containerClass: 'IPF.Note' }).id;
                msgs.moveCopy(id, made, msgs.contents(id), true);
                return { folder: made };
              }
              if (store.isWithin(parent, id)) throw actorError('ecInvalidParam', 'a mailbox cannot move into itself');
              store.moveFolder(id, parent, name);
              return { folder: id };
            },
            (r) => ['objectMoved', r],
          ),
        imapSubscribe: ({ path, subscribe }) =>
          durably(({ store }) => {
            const t = imapTags(store, true);
            const props = store.storeProps();
            let id: number | null = null;
            try {
              id = resolvePath(store, path);
            } catch {
              id = null;
            }
            const name = path.join('/');
            const unsub = ((props.get(t.unsubscribed) as bigint[] | undefined) ?? []).filter((x) => Number(x) !== id);
            let extra = ((props.get(t.extraSubscribed) as string[] | undefined) ?? []).filter((x) => x !== name);
            if (id !== null && !subscribe) unsub.push(BigInt(id));
            if (id === null && subscribe) extra = [...extra, name];
            const set: PropMap = new Map();
            const remove: number[] = [];
            if (unsub.length > 0) set.set(t.unsubscribed, unsub);
            else remove.push(t.unsubscribed);
            if (extra.length > 0) set.set(t.extraSubscribed, extra);
            else remove.push(t.extraSubscribed);
            if (set.size > 0) store.setStoreProps(set);
            if (remove.length > 0) store.deleteStoreProps(remove);
            return null;
          }),
      },
    };
    ops = actor.handlers;
    return actor;
  },
});

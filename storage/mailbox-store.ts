/**
 * The mailbox's object model on its LMDB environment (MS-OXCSTOR, MS-OXCFOLD, MS-OXOSFLD): store
 * identity and properties, the folder hierarchy with its special folders, folder properties
 * (stored and computed), the change-number sequence and the receive-folder table.
 *
 * Methods that write run inside a write transaction the caller opened (MailboxEnv.write or one
 * op of MailboxEnv.turn), so an op's changes commit or roll back together. Errors are ActorErrors
 * with MAPI error names as codes (they cross threads as plain data).
 */
import { actorError } from '../runtime/errors.js';
import type { MailboxEnv } from './mailbox-env.js';
import { allocGlobcnt, makeEid, REPLID_LOCAL } from './ids.js';
import { folderEntryId, gid, pclWithChange, storeEntryId } from './entry-ids.js';
import { decodePropBag, encodePropBag, type PropMap } from './prop-bag.js';
import { dateToFiletime, type PropValue } from './prop-types.js';
import { COMPUTED_OBJECT_TAGS, FolderType, StoreSupport, Tag } from './prop-tags.js';

export interface Identity {
  mailboxGuid: Uint8Array;
  replGuid: Uint8Array;
  ownerName: string;
  legacyDn: string;
  serverShortname: string;
}

/**
 * The special folders of MS-OXOSFLD this store provisions, by a stable internal name. The first
 * 13 are RopLogon's folder ids for a private mailbox, in the order MS-OXCSTOR 2.2.1.1.3 gives.
 */
export const SPECIAL_FOLDERS = [
  'root',
  'deferredAction',
  'spoolerQueue',
  'ipmSubtree',
  'inbox',
  'outbox',
  'sentItems',
  'deletedItems',
  'commonViews',
  'schedule',
  'finder',
  'views',
  'shortcuts',
  'drafts',
  'calendar',
  'contacts',
  'tasks',
  'notes',
  'journal',
  'junk',
  'syncIssues',
  'conflicts',
  'localFailures',
  'serverFailures',
  'conversationActions',
  'quickSteps',
  'rssFeeds',
  'reminders',
] as const;
export type SpecialFolder = (typeof SPECIAL_FOLDERS)[number];

/** RopLogon's 13 folder ids for a private mailbox, in order (MS-OXCSTOR 2.2.1.1.3). */
export const LOGON_FOLDERS: readonly SpecialFolder[] = SPECIAL_FOLDERS.slice(0, 13);

interface SpecialSpec {
  name: SpecialFolder;
  parent: SpecialFolder | null;
  displayName: string;
  containerClass?: string;
  type?: number;
}

/** Hierarchy, names and classes (MS-OXOSFLD 2.2.1; entries not settled there follow Outlook's own layout). */
const SPECIAL_LAYOUT: readonly SpecialSpec[] = [
  { name: 'root', parent: null, displayName: '', type: FolderType.FOLDER_ROOT },
  { name: 'deferredAction', parent: 'root', displayName: 'Deferred Action' },
  { name: 'spoolerQueue', parent: 'root', displayName: 'Spooler Queue' },
  { name: 'ipmSubtree', parent: 'root', displayName: 'Top of Information Store' },
  { name: 'commonViews', parent: 'root', displayName: 'Common Views' },
  { name: 'schedule', parent: 'root', displayName: 'Schedule' },
  { name: 'finder', parent: 'root', displayName: 'Finder' },
  { name: 'views', parent: 'root', displayName: 'Views' },
  { name: 'shortcuts', parent: 'root', displayName: 'Shortcuts' },
  { name: 'reminders', parent: 'root', displayName: 'Reminders', containerClass: 'Outlook.Reminder', type: FolderType.FOLDER_SEARCH },
  { name: 'inbox', parent: 'ipmSubtree', displayName: 'Inbox', containerClass: 'IPF.Note' },
  { name: 'outbox', parent: 'ipmSubtree', displayName: 'Outbox', containerClass: 'IPF.Note' },
  { name: 'sentItems', parent: 'ipmSubtree', displayName: 'Sent Items', containerClass: 'IPF.Note' },
  { name: 'deletedItems', parent: 'ipmSubtree', displayName: 'Deleted Items', containerClass: 'IPF.Note' },
  { name: 'drafts', parent: 'ipmSubtree', displayName: 'Drafts', containerClass: 'IPF.Note' },
  { name: 'calendar', parent: 'ipmSubtree', displayName: 'Calendar', containerClass: 'IPF.Appointment' },
  { name: 'contacts', parent: 'ipmSubtree', displayName: 'Contacts', containerClass: 'IPF.Contact' },
  { name: 'tasks', parent: 'ipmSubtree', displayName: 'Tasks', containerClass: 'IPF.Task' },
  { name: 'notes', parent: 'ipmSubtree', displayName: 'Notes', containerClass: 'IPF.StickyNote' },
  { name: 'journal', parent: 'ipmSubtree', displayName: 'Journal', containerClass: 'IPF.Journal' },
  { name: 'junk', parent: 'ipmSubtree', displayName: 'Junk Email', containerClass: 'IPF.Note' },
  { name: 'syncIssues', parent: 'ipmSubtree', displayName: 'Sync Issues', containerClass: 'IPF.Note' },
  { name: 'conflicts', parent: 'syncIssues', displayName: 'Conflicts', containerClass: 'IPF.Note' },
  { name: 'localFailures', parent: 'syncIssues', displayName: 'Local Failures', containerClass: 'IPF.Note' },
  { name: 'serverFailures', parent: 'syncIssues', displayName: 'Server Failures', containerClass: 'IPF.Note' },
  { name: 'conversationActions', parent: 'ipmSubtree', displayName: 'Conversation Action Settings', containerClass: 'IPF.Configuration' },
  { name: 'quickSteps', parent: 'ipmSubtree', displayName: 'Quick Step Settings', containerClass: 'IPF.Configuration' },
  { name: 'rssFeeds', parent: 'ipmSubtree', displayName: 'RSS Feeds', containerClass: 'IPF.Note.OutlookHomepage' },
];

/** A folder as stored. Times are milliseconds since 1970 (converted to FILETIME on read). */
/** A message waiting to be sent (MailboxStore.addSubmission). */
export interface SubmissionRecord {
  /** When it may be sent (ms since 1970; later than now for a deferred delivery). */
  due: number;
  /** Who submitted it (the owner, or a delegate sending on the owner's behalf). */
  by: { userId: string; legacyDn: string; displayName: string; address: string };
  submitted: number;
  /** Set when the door took it for sending (RopAbortSubmit is too late from then on). */
  taken?: number;
}

export interface FolderRecord {
  parent: number;
  type: number;
  special?: SpecialFolder;
  /** Properties clients set (display name, container class, and any other), as a prop bag. */
  props: Uint8Array;
  created: number;
  modified: number;
  cn: number;
  pcl: Uint8Array;
  content: number;
  unread: number;
  assoc: number;
  children: number;
  size: number;
  /** IMAP view: next UID and UIDVALIDITY. */
  uidNext: number;
  uidValidity: number;
  /** Soft-deleted: out of sight until its tombstone is purged. */
  deleted?: boolean;
  deletedAt?: number;
}

const IDENTITY_KEY = 'identity';
const SPECIAL_KEY = 'special';
const RECEIVE_KEY = 'receive';
const STORE_PROPS_KEY = 'storeProps';

/** Properties computed from the record; a client cannot set them (MS-OXCPRPT read-only properties). */
const COMPUTED_FOLDER_TAGS: ReadonlySet<number> = new Set([
  ...COMPUTED_OBJECT_TAGS,
  Tag.PidTagFolderId,
  Tag.PidTagFolderType,
  Tag.PidTagContentCount,
  Tag.PidTagContentUnreadCount,
  Tag.PidTagAssociatedContentCount,
  Tag.PidTagSubfolders,
  Tag.PidTagFolderChildCount,
]);

export class MailboxStore {
  constructor(readonly env: MailboxEnv) {}

  private get meta() {
    return this.env.db.meta;
  }

  identity(): Identity | undefined {
    // Written once at provisioning and never changed (a restore reopens the environment): read it once.
    if (this.identityMemo === undefined) this.identityMemo = this.meta.get(IDENTITY_KEY) as Identity | undefined;
    return this.identityMemo;
  }

  private identityMemo: Identity | undefined;

  mustIdentity(): Identity {
    const id = this.identity();
    if (id === undefined) throw actorError('ecNotInitialized', 'the mailbox is not provisioned');
    return id;
  }

  // ------------------------------------------------------------------ provisioning

  /** Creates the store identity and every special folder. Runs once; later calls are refused. */
  provision(identity: Identity, now = Date.now()): void {
    if (this.identity() !== undefined) throw actorError('ecDuplicateName', 'the mailbox is already provisioned');
    if (identity.mailboxGuid.byteLength !== 16 || identity.replGuid.byteLength !== 16) throw actorError('ecInvalidParam', 'MailboxGuid and ReplGuid are 16 bytes');
    this.meta.putSync(IDENTITY_KEY, { ...identity, mailboxGuid: Buffer.from(identity.mailboxGuid), replGuid: Buffer.from(identity.replGuid) });
    this.meta.putSync(['replid', REPLID_LOCAL], Buffer.from(identity.replGuid));
    const ids = {} as Record<SpecialFolder, number>;
    for (const spec of SPECIAL_LAYOUT) {
      const props: PropMap = new Map<number, PropValue>([[Tag.PidTagDisplayName, spec.displayName]]);
      if (spec.containerClass !== undefined) props.set(Tag.PidTagContainerClass, spec.containerClass);
      ids[spec.name] = this.insertFolder(spec.parent === null ? 0 : ids[spec.parent], spec.type ?? FolderType.FOLDER_GENERIC, props, now, spec.name);
    }
    this.meta.putSync(SPECIAL_KEY, ids);
    // Receive folders (MS-OXCSTOR 3.2.5.2): '' , IPM and REPORT.IPM → Inbox; IPC → Root.
    this.meta.putSync(RECEIVE_KEY, { '': ids.inbox, ipm: ids.inbox, 'report.ipm': ids.inbox, ipc: ids.root });
    this.meta.putSync(STORE_PROPS_KEY, encodePropBag(new Map()));
    // The well-known folder pointers Outlook looks for on Root and Inbox (MS-OXOSFLD 2.2.3-2.2.6);
    // without them it creates duplicates.
    const eid = (s: SpecialFolder) => this.folderEntryId(ids[s]);
    const pointers: PropMap = new Map<number, PropValue>([
      [Tag.PidTagIpmAppointmentEntryId, eid('calendar')],
      [Tag.PidTagIpmContactEntryId, eid('contacts')],
      [Tag.PidTagIpmJournalEntryId, eid('journal')],
      [Tag.PidTagIpmNoteEntryId, eid('notes')],
      [Tag.PidTagIpmTaskEntryId, eid('tasks')],
      [Tag.PidTagIpmDraftsEntryId, eid('drafts')],
      [Tag.PidTagRemindersOnlineEntryId, eid('reminders')],
      [Tag.PidTagAdditionalRenEntryIds, [eid('conflicts'), eid('syncIssues'), eid('localFailures'), eid('serverFailures'), eid('junk')]],
      [Tag.PidTagAdditionalRenEntryIdsEx, additionalRenEntryIdsEx([[RSF_PID_RSS_SUBSCRIPTION, eid('rssFeeds')], [RSF_PID_CONV_ACTIONS, eid('conversationActions')]])],
      [Tag.PidTagFreeBusyEntryIds, [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)]],
    ]);
    for (const f of ['root', 'inbox'] as const) this.writeFolderProps(ids[f], pointers, now);
  }

  private insertFolder(parent: number, type: number, props: PropMap, now: number, special?: SpecialFolder): number {
    const name = props.get(Tag.PidTagDisplayName);
    if (typeof name !== 'string') throw actorError('ecInvalidParam', 'a folder needs a display name');
    const gc = allocGlobcnt(this.meta);
    const cn = allocGlobcnt(this.meta);
    const rec: FolderRecord = {
      parent,
      type,
      special,
      props: encodePropBag(props),
      created: now,
      modified: now,
      cn,
      pcl: pclWithChange(undefined, gid(this.mustIdentity().replGuid, cn)),
      content: 0,
      unread: 0,
      assoc: 0,
      children: 0,
      size: 0,
      uidNext: 1,
      uidValidity: Math.max(1, Math.floor(now / 1000) % 0x100000000),
    };
    if (special === undefined) delete rec.special;
    this.env.db.folders.putSync(gc, rec);
    this.env.db.changes.putSync(cn, { f: gc });
    if (parent !== 0) {
      this.env.db.hierarchy.putSync([parent, name.toLowerCase()], gc);
      const p = this.mustFolder(parent);
      p.children++;
      this.env.db.folders.putSync(parent, p);
    }
    return gc;
  }

  // ------------------------------------------------------------------ folders

  folder(gc: number): FolderRecord | undefined {
    const f = this.env.db.folders.get(gc) as FolderRecord | undefined;
    return f === undefined || f.deleted === true ? undefined : f;
  }

  mustFolder(gc: number): FolderRecord {
    const f = this.folder(gc);
    if (f === undefined) throw actorError('ecNotFound', `no folder ${gc}`);
    return f;
  }

  specialFolders(): Record<SpecialFolder, number> {
    const s = this.meta.get(SPECIAL_KEY) as Record<SpecialFolder, number> | undefined;
    if (s === undefined) throw actorError('ecNotInitialized', 'the mailbox is not provisioned');
    return s;
  }

  /** Child folder ids of a folder, by display name order (case-insensitive). */
  children(parent: number): number[] {
    return [...this.env.db.hierarchy.getRange({ start: [parent], end: [parent + 1] })].map((e) => e.value as number);
  }

  /** The child with this display name (case-insensitive), if any. */
  childByName(parent: number, name: string): number | undefined {
    return this.env.db.hierarchy.get([parent, name.toLowerCase()]) as number | undefined;
  }

  /**
   * Creates a folder (MS-OXCFOLD RopCreateFolder semantics): ecDuplicateName when a sibling has
   * the name, unless `openIfExists`, which returns the existing folder.
   */
  createFolder(parent: number, displayName: string, opts: { containerClass?: string; comment?: string; type?: number; openIfExists?: boolean } = {}, now = Date.now()): { id: number; existed: boolean } {
    this.mustFolder(parent);
    if (displayName.length === 0 || displayName.length > 256) throw actorError('ecInvalidParam', 'a folder name has 1 to 256 characters');
    const existing = this.childByName(parent, displayName);
    if (existing !== undefined) {
      if (opts.openIfExists === true) return { id: existing, existed: true };
      throw actorError('ecDuplicateName', `a folder named "${displayName}" already exists there`);
    }
    const props: PropMap = new Map<number, PropValue>([[Tag.PidTagDisplayName, displayName]]);
    if (opts.containerClass !== undefined) props.set(Tag.PidTagContainerClass, opts.containerClass);
    if (opts.comment !== undefined) props.set(Tag.PidTagComment, opts.comment);
    const id = this.insertFolder(parent, opts.type ?? FolderType.FOLDER_GENERIC, props, now);
    this.touchFolder(parent, now);
    return { id, existed: false };
  }

  /** A new change on a folder: new CN, change key and PCL; modification time. */
  private touchFolder(gc: number, now: number, rec = this.mustFolder(gc)): FolderRecord {
    const cn = allocGlobcnt(this.meta);
    this.env.db.changes.removeSync(rec.cn);
    rec.cn = cn;
    rec.pcl = pclWithChange(rec.pcl, gid(this.mustIdentity().replGuid, cn));
    rec.modified = now;
    this.env.db.changes.putSync(cn, { f: gc });
    this.env.db.folders.putSync(gc, rec);
    return rec;
  }

  /**
   * Sets properties on a folder; computed ones are refused per property (MS-OXCPRPT: ecAccessDenied
   * problems) and the rest applied. Returns the problems. Renames keep sibling names unique.
   */
  setFolderProps(gc: number, props: PropMap, now = Date.now()): { tag: number; error: string }[] {
    const problems: { tag: number; error: string }[] = [];
    const ok: PropMap = new Map();
    for (const [tag, v] of props) {
      if (COMPUTED_FOLDER_TAGS.has(tag)) problems.push({ tag, error: 'ecAccessDenied' });
      else ok.set(tag, v);
    }
    if (ok.size > 0) this.writeFolderProps(gc, ok, now);
    return problems;
  }

  private writeFolderProps(gc: number, props: PropMap, now: number): void {
    const rec = this.mustFolder(gc);
    const current = decodePropBag(Buffer.from(rec.props));
    const newName = props.get(Tag.PidTagDisplayName);
    if (newName !== undefined) {
      if (typeof newName !== 'string' || newName.length === 0) throw actorError('ecInvalidParam', 'a folder name is a non-empty string');
      const oldName = current.get(Tag.PidTagDisplayName) as string;
      if (rec.parent !== 0 && newName.toLowerCase() !== oldName.toLowerCase()) {
        if (this.childByName(rec.parent, newName) !== undefined) throw actorError('ecDuplicateName', `a folder named "${newName}" already exists there`);
        this.env.db.hierarchy.removeSync([rec.parent, oldName.toLowerCase()]);
        this.env.db.hierarchy.putSync([rec.parent, newName.toLowerCase()], gc);
      }
    }
    for (const [tag, v] of props) current.set(tag, v);
    rec.props = encodePropBag(current);
    this.touchFolder(gc, now, rec);
  }

  /** Deletes properties from a folder; computed ones come back as problems (ecAccessDenied). */
  deleteFolderProps(gc: number, tags: readonly number[], now = Date.now()): { tag: number; error: string }[] {
    const rec = this.mustFolder(gc);
    const problems: { tag: number; error: string }[] = [];
    const current = decodePropBag(Buffer.from(rec.props));
    for (const t of tags) {
      if (COMPUTED_FOLDER_TAGS.has(t) || t === Tag.PidTagDisplayName) problems.push({ tag: t, error: 'ecAccessDenied' });
      else current.delete(t);
    }
    rec.props = encodePropBag(current);
    this.touchFolder(gc, now, rec);
    return problems;
  }

  /** Deletes store properties a client set; computed ones come back as problems. */
  deleteStoreProps(tags: readonly number[]): { tag: number; error: string }[] {
    const stored = decodePropBag(Buffer.from(this.meta.get(STORE_PROPS_KEY) as Uint8Array));
    const computed = new Set(this.storeProps().keys());
    const problems: { tag: number; error: string }[] = [];
    for (const t of tags) {
      if (stored.has(t)) stored.delete(t);
      else if (computed.has(t)) problems.push({ tag: t, error: 'ecAccessDenied' });
    }
    this.meta.putSync(STORE_PROPS_KEY, encodePropBag(stored));
    return problems;
  }

  /** Sets store properties a client may set (not the computed ones). */
  setStoreProps(props: PropMap): { tag: number; error: string }[] {
    const computed = new Set(this.storeProps().keys());
    const stored = decodePropBag(Buffer.from(this.meta.get(STORE_PROPS_KEY) as Uint8Array));
    const problems: { tag: number; error: string }[] = [];
    for (const [t, v] of props) {
      if (computed.has(t) && !stored.has(t)) problems.push({ tag: t, error: 'ecAccessDenied' });
      else stored.set(t, v);
    }
    this.meta.putSync(STORE_PROPS_KEY, encodePropBag(stored));
    return problems;
  }

  /** All properties of a folder: the stored ones plus the computed ones (MS-OXCFOLD 2.2.2). */
  folderProps(gc: number): PropMap {
    const rec = this.mustFolder(gc);
    const id = this.mustIdentity();
    const out = decodePropBag(Buffer.from(rec.props));
    const eid = this.folderEntryId(gc);
    out.set(Tag.PidTagEntryId, eid);
    out.set(Tag.PidTagRecordKey, eid);
    out.set(Tag.PidTagParentEntryId, rec.parent === 0 ? eid : this.folderEntryId(rec.parent));
    out.set(Tag.PidTagSourceKey, gid(id.replGuid, gc));
    out.set(Tag.PidTagParentSourceKey, rec.parent === 0 ? new Uint8Array(0) : gid(id.replGuid, rec.parent));
    out.set(Tag.PidTagChangeKey, gid(id.replGuid, rec.cn));
    out.set(Tag.PidTagPredecessorChangeList, Buffer.from(rec.pcl));
    out.set(Tag.PidTagChangeNumber, makeEid(REPLID_LOCAL, rec.cn));
    out.set(Tag.PidTagFolderId, makeEid(REPLID_LOCAL, gc));
    out.set(Tag.PidTagFolderType, rec.type);
    out.set(Tag.PidTagContentCount, rec.content);
    out.set(Tag.PidTagContentUnreadCount, rec.unread);
    out.set(Tag.PidTagAssociatedContentCount, rec.assoc);
    out.set(Tag.PidTagSubfolders, rec.children > 0);
    out.set(Tag.PidTagFolderChildCount, rec.children);
    out.set(Tag.PidTagMessageSizeExtended, BigInt(rec.size));
    out.set(Tag.PidTagCreationTime, dateToFiletime(new Date(rec.created)));
    out.set(Tag.PidTagLastModificationTime, dateToFiletime(new Date(rec.modified)));
    return out;
  }

  folderEntryId(gc: number): Buffer {
    const id = this.mustIdentity();
    return folderEntryId(id.mailboxGuid, id.replGuid, gc);
  }

  /** True when `ancestor` is `gc` or one of its ancestors. */
  isWithin(gc: number, ancestor: number): boolean {
    for (let f = gc; f !== 0; f = this.mustFolder(f).parent) if (f === ancestor) return true;
    return false;
  }

  private unlink(gc: number, rec: FolderRecord): void {
    const name = (decodePropBag(Buffer.from(rec.props)).get(Tag.PidTagDisplayName) as string).toLowerCase();
    this.env.db.hierarchy.removeSync([rec.parent, name]);
    const p = this.mustFolder(rec.parent);
    p.children--;
    this.env.db.folders.putSync(rec.parent, p);
  }

  /**
   * Moves a folder under a new parent, optionally renamed (RopMoveFolder). Special folders stay
   * where they are (ecAccessDenied); a folder cannot move into its own subtree (ecInvalidParam).
   */
  moveFolder(gc: number, newParent: number, newName?: string, now = Date.now()): void {
    const rec = this.mustFolder(gc);
    this.mustFolder(newParent);
    if (rec.special !== undefined) throw actorError('ecAccessDenied', 'special folders cannot be moved');
    if (this.isWithin(newParent, gc)) throw actorError('ecInvalidParam', 'a folder cannot move into itself or its subfolders');
    const props = decodePropBag(Buffer.from(rec.props));
    const name = newName ?? (props.get(Tag.PidTagDisplayName) as string);
    if (name.length === 0 || name.length > 256) throw actorError('ecInvalidParam', 'a folder name has 1 to 256 characters');
    const clash = this.childByName(newParent, name);
    if (clash !== undefined && clash !== gc) throw actorError('ecDuplicateName', `a folder named "${name}" already exists there`);
    const oldParent = rec.parent;
    this.unlink(gc, rec);
    props.set(Tag.PidTagDisplayName, name);
    rec.props = encodePropBag(props);
    rec.parent = newParent;
    this.env.db.hierarchy.putSync([newParent, name.toLowerCase()], gc);
    const np = this.mustFolder(newParent);
    np.children++;
    this.env.db.folders.putSync(newParent, np);
    this.touchFolder(gc, now, rec);
    this.touchFolder(oldParent, now);
    this.touchFolder(newParent, now);
  }

  /**
   * Deletes a folder (RopDeleteFolder). By default only an empty folder; `messages` and
   * `folders` allow deleting contents (MS-OXCFOLD DEL_MESSAGES, DEL_FOLDERS). Soft-deleted
   * folders are kept out of sight; hard-deleted ones are purged. Special folders cannot be
   * deleted. Message deletion is delegated (`deleteMessages`) so the message store keeps its
   * counts and tombstones. A folder tombstone is left for hierarchy sync.
   */
  deleteFolder(
    gc: number,
    opts: { messages: boolean; folders: boolean; hard: boolean },
    deleteMessages: (folder: number, hard: boolean) => void,
    now = Date.now(),
  ): void {
    const rec = this.mustFolder(gc);
    if (rec.special !== undefined || rec.parent === 0) throw actorError('ecAccessDenied', 'special folders cannot be deleted');
    if (rec.children > 0 && !opts.folders) throw actorError('ecHasFolders', 'the folder has subfolders');
    if (rec.content + rec.assoc > 0 && !opts.messages) throw actorError('ecHasMessages', 'the folder has messages');
    for (const child of this.children(gc)) this.deleteFolder(child, opts, deleteMessages, now);
    if (rec.content + rec.assoc > 0) deleteMessages(gc, opts.hard);
    const after = this.mustFolder(gc);
    this.unlink(gc, after);
    const cn = allocGlobcnt(this.meta);
    this.env.db.changes.removeSync(after.cn);
    this.env.db.tombstones.putSync([after.parent, cn], { folder: gc, sourceKey: gid(this.mustIdentity().replGuid, gc), at: now });
    if (opts.hard) this.env.db.folders.removeSync(gc);
    else this.env.db.folders.putSync(gc, { ...after, deleted: true, deletedAt: now });
    this.touchFolder(after.parent, now);
  }

  // ------------------------------------------------------------------ store

  /** Store object properties (MS-OXCSTOR 2.2.2.1): stored ones plus those computed from the special folders. */
  storeProps(): PropMap {
    const id = this.mustIdentity();
    const s = this.specialFolders();
    const out = decodePropBag(Buffer.from(this.meta.get(STORE_PROPS_KEY) as Uint8Array));
    const storeEid = storeEntryId({ serverShortname: id.serverShortname, mailboxDn: id.legacyDn });
    out.set(Tag.PidTagStoreEntryId, storeEid);
    out.set(Tag.PidTagEntryId, storeEid);
    out.set(Tag.PidTagStoreRecordKey, Buffer.from(id.mailboxGuid));
    out.set(Tag.PidTagRecordKey, Buffer.from(id.mailboxGuid));
    out.set(Tag.PidTagDisplayName, `Mailbox - ${id.ownerName}`);
    out.set(Tag.PidTagMailboxOwnerName, id.ownerName);
    out.set(Tag.PidTagIpmSubtreeEntryId, this.folderEntryId(s.ipmSubtree));
    out.set(Tag.PidTagIpmOutboxEntryId, this.folderEntryId(s.outbox));
    out.set(Tag.PidTagIpmSentMailEntryId, this.folderEntryId(s.sentItems));
    out.set(Tag.PidTagIpmWastebasketEntryId, this.folderEntryId(s.deletedItems));
    out.set(Tag.PidTagViewsEntryId, this.folderEntryId(s.views));
    out.set(Tag.PidTagCommonViewsEntryId, this.folderEntryId(s.commonViews));
    out.set(Tag.PidTagFinderEntryId, this.folderEntryId(s.finder));
    const S = StoreSupport;
    out.set(
      Tag.PidTagStoreSupportMask,
      S.ENTRYID_UNIQUE | S.MODIFY_OK | S.CREATE_OK | S.ATTACH_OK | S.OLE_OK | S.NOTIFY_OK | S.MV_PROPS_OK | S.CATEGORIZE_OK | S.RTF_OK | S.RESTRICTION_OK | S.SORT_OK | S.HTML_OK | S.ANSI_OK | S.UNICODE_OK,
    );
    out.set(Tag.PidTagMessageSizeExtended, BigInt(this.size()));
    return out;
  }

  /**
   * Drops tombstones older than `horizonMs` and remembers, per folder, the newest change number
   * dropped: a client whose sync state is older than that must resync in full (tombstonesGoneAfter).
   */
  purgeTombstones(horizonMs: number, now = Date.now()): number {
    const cutoff = now - horizonMs;
    let purged = 0;
    for (const { key, value } of this.env.db.tombstones.getRange()) {
      const at = (value as { at?: number }).at ?? 0;
      if (at > cutoff) continue;
      const [folder, cn] = key as [number, number];
      this.env.db.tombstones.removeSync(key);
      const gone = (value as { folder?: number }).folder;
      if (gone !== undefined) {
        const f = this.env.db.folders.get(gone) as { deleted?: boolean } | undefined;
        if (f?.deleted === true) this.env.db.folders.removeSync(gone);
      }
      const h = (this.meta.get(['horizon', folder]) as number | undefined) ?? 0;
      if (cn > h) this.meta.putSync(['horizon', folder], cn);
      purged++;
    }
    return purged;
  }

  /** The newest change number whose tombstone was purged in a folder (0: none). */
  tombstoneHorizon(folder: number): number {
    return (this.meta.get(['horizon', folder]) as number | undefined) ?? 0;
  }

  /** Quota levels in bytes (0 = none): warn, prohibit send, prohibit receive. */
  quota(): { warnBytes: number; sendBytes: number; receiveBytes: number } {
    return (this.meta.get('quota') as { warnBytes: number; sendBytes: number; receiveBytes: number } | undefined) ?? { warnBytes: 0, sendBytes: 0, receiveBytes: 0 };
  }

  setQuota(q: { warnBytes: number; sendBytes: number; receiveBytes: number }): void {
    for (const v of Object.values(q)) if (!Number.isSafeInteger(v) || v < 0) throw actorError('ecInvalidParam', 'quota levels are whole numbers of bytes');
    this.meta.putSync('quota', q);
  }

  /** The mailbox size in bytes (every folder's messages). */
  size(): number {
    if (this.sizeMemo !== null && this.sizeMemo.seq === this.env.writeSeq) return this.sizeMemo.size;
    let size = 0;
    for (const { value } of this.env.db.folders.getRange()) if ((value as FolderRecord).deleted !== true) size += (value as FolderRecord).size;
    this.sizeMemo = { seq: this.env.writeSeq, size };
    return size;
  }

  /** The last size() and the write it was computed after (quota checks read it on every delivery). */
  private sizeMemo: { seq: number; size: number } | null = null;

  /** Where the mailbox stands against its quota levels. */
  quotaState(): 'ok' | 'warning' | 'send-prohibited' | 'receive-prohibited' {
    const q = this.quota();
    if (q.receiveBytes === 0 && q.sendBytes === 0 && q.warnBytes === 0) return 'ok';
    const size = this.size();
    if (q.receiveBytes > 0 && size >= q.receiveBytes) return 'receive-prohibited';
    if (q.sendBytes > 0 && size >= q.sendBytes) return 'send-prohibited';
    if (q.warnBytes > 0 && size >= q.warnBytes) return 'warning';
    return 'ok';
  }

  /** RopLogon's folder id list (MS-OXCSTOR 2.2.1.1.3) as 64-bit ids. */
  logonFolderIds(): bigint[] {
    const s = this.specialFolders();
    return LOGON_FOLDERS.map((f) => makeEid(REPLID_LOCAL, s[f]));
  }

  /**
   * The receive folder for a message class (MS-OXCSTOR 3.2.5.2): the longest configured class that
   * is a prefix of it at a '.' boundary, compared case-insensitively; '' matches everything.
   */
  receiveFolder(messageClass: string): { folder: number; explicitClass: string } {
    const table = this.meta.get(RECEIVE_KEY) as Record<string, number>;
    let cls = messageClass.toLowerCase();
    for (;;) {
      const hit = table[cls];
      if (hit !== undefined && this.folder(hit) !== undefined) return { folder: hit, explicitClass: cls };
      if (cls === '') break;
      const dot = cls.lastIndexOf('.');
      cls = dot < 0 ? '' : cls.slice(0, dot);
    }
    return { folder: this.specialFolders().inbox, explicitClass: '' };
  }

  /** The receive-folder table (RopGetReceiveFolderTable): every configured class, with its folder's last modification time. */
  receiveFolderTable(): { messageClass: string; folder: number; modified: bigint }[] {
    const table = this.meta.get(RECEIVE_KEY) as Record<string, number>;
    const out: { messageClass: string; folder: number; modified: bigint }[] = [];
    for (const [messageClass, folder] of Object.entries(table)) {
      if (this.folder(folder) === undefined) continue;
      const t = this.folderProps(folder).get(Tag.PidTagLastModificationTime);
      out.push({ messageClass, folder, modified: typeof t === 'bigint' ? t : 0n });
    }
    return out.sort((a, b) => (a.messageClass < b.messageClass ? -1 : a.messageClass > b.messageClass ? 1 : 0));
  }

  // ------------------------------------------------------------------ submissions (MS-OXOMSG)

  /**
   * A submitted message waiting to be sent (RopSubmitMessage): kept in the store with the
   * message, so a restart or a deferred delivery time never loses it; removed once sent.
   */
  addSubmission(mid: number, rec: SubmissionRecord): void {
    this.meta.putSync(['submit', mid], rec);
  }

  submission(mid: number): SubmissionRecord | undefined {
    return this.meta.get(['submit', mid]) as SubmissionRecord | undefined;
  }

  removeSubmission(mid: number): boolean {
    if (this.meta.get(['submit', mid]) === undefined) return false;
    this.meta.removeSync(['submit', mid]);
    return true;
  }

  /** Every waiting submission, oldest due first. */
  submissions(): { mid: number; rec: SubmissionRecord }[] {
    const out: { mid: number; rec: SubmissionRecord }[] = [];
    for (const { key, value } of this.meta.getRange({ start: ['submit'], end: ['submit', Number.MAX_SAFE_INTEGER] })) {
      const k = key as [string, number];
      if (k[0] !== 'submit' || typeof k[1] !== 'number') continue;
      out.push({ mid: k[1], rec: value as SubmissionRecord });
    }
    return out.sort((a, b) => a.rec.due - b.rec.due);
  }

  /** Sets (or with folder null, removes) a receive-folder entry (RopSetReceiveFolder). */
  setReceiveFolder(messageClass: string, folder: number | null): void {
    if (messageClass.length > 255 || /[^\x20-\x7e]/.test(messageClass)) throw actorError('ecInvalidParam', 'a message class is printable ASCII of at most 255 characters');
    const table = { ...(this.meta.get(RECEIVE_KEY) as Record<string, number>) };
    const key = messageClass.toLowerCase();
    if (folder === null) {
      if (key === '') throw actorError('ecError', 'the default receive folder cannot be removed');
      delete table[key];
    } else {
      this.mustFolder(folder);
      table[key] = folder;
    }
    this.meta.putSync(RECEIVE_KEY, table);
  }
}

// PidTagAdditionalRenEntryIdsEx PersistData blocks (MS-OXOSFLD 2.2.5).
const RSF_PID_RSS_SUBSCRIPTION = 0x8001;
const RSF_PID_CONV_ACTIONS = 0x8006;
const RSF_ELID_ENTRYID = 0x0001;
const PERSIST_SENTINEL = 0x0000;

/** PersistData blocks, each { PersistID, DataElementsSize, [ElementID, ElementDataSize, EntryID] }, then the sentinel. */
export function additionalRenEntryIdsEx(blocks: readonly [number, Uint8Array][]): Buffer {
  const parts: Buffer[] = [];
  for (const [pid, entryId] of blocks) {
    const element = Buffer.alloc(4 + entryId.byteLength);
    element.writeUInt16LE(RSF_ELID_ENTRYID, 0);
    element.writeUInt16LE(entryId.byteLength, 2);
    element.set(entryId, 4);
    const head = Buffer.alloc(4);
    head.writeUInt16LE(pid, 0);
    head.writeUInt16LE(element.length, 2);
    parts.push(head, element);
  }
  const sentinel = Buffer.alloc(4);
  sentinel.writeUInt16LE(PERSIST_SENTINEL, 0);
  parts.push(sentinel);
  return Buffer.concat(parts);
}

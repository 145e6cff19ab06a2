/**
 * LIST and LSUB (RFC 3501 §6.3.8-9) with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154),
 * CHILDREN (RFC 3348) and LIST-STATUS (RFC 5819). One actor message lists every mail folder;
 * patterns are matched here.
 *
 *   list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
 *   list-select-opts = "(" [list-select-option *(SP list-select-option)] ")"
 *   mbox-or-pat = list-mailbox / "(" list-mailbox *(SP list-mailbox) ")"
 *   list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
 */
import type { ImapFolderInfo } from '../../../actors/mailbox/imap-view.js';
import type { Reader } from '../parser/reader.js';
import { compilePattern, DELIMITER, joinReference } from '../parser/list-pattern.js';
import { bad, errorCompletion, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { imapName } from './mailbox-name.js';
import { readStatusItems, writeStatus, type StatusItem } from './status-items.js';
import { decodeMutf7 } from '../mutf7.js';

const SPECIAL_USE: Partial<Record<string, string>> = { sentItems: '\\Sent', drafts: '\\Drafts', deletedItems: '\\Trash', junk: '\\Junk' };

function specialUse(f: ImapFolderInfo): string | null {
  if (f.special !== null) return SPECIAL_USE[f.special] ?? null;
  // No special folder for archives in MS-OXOSFLD: Outlook's own "Archive" folder at the top is the one.
  if (f.path.length === 1 && f.path[0]!.toLowerCase() === 'archive') return '\\Archive';
  return null;
}

interface ListArgs {
  reference: string;
  patterns: string[];
  subscribedOnly: boolean;
  specialOnly: boolean;
  returnSubscribed: boolean;
  returnSpecial: boolean;
  status: StatusItem[] | null;
}

function readWords(r: Reader): string[] | null {
  if (!r.expect(0x28, '"("')) return null;
  const out: string[] = [];
  if (r.take(0x29)) return out;
  for (;;) {
    const a = r.atom();
    if (a === null) return null;
    out.push(a.toUpperCase());
    if (a.toUpperCase() === 'STATUS') return out;
    if (r.take(0x29)) return out;
    if (!r.sp()) return null;
  }
}

function readList(r: Reader, lsub: boolean): ListArgs | null {
  const a: ListArgs = { reference: '', patterns: [], subscribedOnly: lsub, specialOnly: false, returnSubscribed: false, returnSpecial: true, status: null };
  if (!r.sp()) return null;
  if (!lsub && r.peek() === 0x28) {
    const opts = readWords(r);
    if (opts === null || !r.sp()) return null;
    for (const o of opts) {
      if (o === 'SUBSCRIBED') a.subscribedOnly = a.returnSubscribed = true;
      else if (o === 'SPECIAL-USE') a.specialOnly = true;
      else if (o !== 'REMOTE' && o !== 'RECURSIVEMATCH') return r.fail(`unknown LIST selection option ${o.slice(0, 20)}`);
    }
  }
  const ref = r.astring();
  if (ref === null || !r.sp()) return null;
  a.reference = ref;
  if (!lsub && r.take(0x28)) {
    for (;;) {
      const p = r.listMailbox();
      if (p === null) return null;
      a.patterns.push(p);
      if (r.take(0x29)) break;
      if (!r.sp()) return null;
    }
  } else {
    const p = r.listMailbox();
    if (p === null) return null;
    a.patterns.push(p);
  }
  if (!lsub && r.take(0x20)) {
    if (!r.peekWord('RETURN')) return r.fail('expected RETURN');
    r.pos += 6;
    if (!r.sp() || !r.expect(0x28, '"("')) return null;
    while (!r.take(0x29)) {
      if (r.buf[r.pos - 1] !== 0x28 && !r.sp()) return null;
      const o = r.atom();
      if (o === null) return null;
      const up = o.toUpperCase();
      if (up === 'SUBSCRIBED') a.returnSubscribed = true;
      else if (up === 'SPECIAL-USE') a.returnSpecial = true;
      else if (up === 'CHILDREN') continue;
      else if (up === 'STATUS') {
        if (!r.sp()) return null;
        a.status = readStatusItems(r);
        if (a.status === null) return null;
      } else return r.fail(`unknown LIST return option ${o.slice(0, 20)}`);
    }
  }
  return r.end() ? a : null;
}

export async function handleList(ctx: CommandContext, r: Reader, lsub: boolean): Promise<Completion> {
  const verb = lsub ? 'LSUB' : 'LIST';
  const a = readList(r, lsub);
  if (a === null) return bad(r.error ?? `${verb} needs a reference and a pattern`);
  const w = ctx.out;
  // LIST "" "": the hierarchy delimiter and the root (§6.3.8).
  if (a.patterns.length === 1 && a.patterns[0] === '') {
    w.raw(`* ${verb} (\\Noselect) "${DELIMITER}" ""\r\n`);
    return ok(`${verb} completed`);
  }
  const st = ctx.state;
  if (st.kind !== 'authenticated' && st.kind !== 'selected') return bad('log in first');
  let listing;
  try {
    listing = await st.mailbox.call('imapFolders', null);
  } catch (e) {
    return errorCompletion(e, 'list mailboxes');
  }
  const matchers = a.patterns.map((p) => compilePattern(joinReference(a.reference, p)));
  const matches = (name: string) => matchers.some((m) => m(name));
  for (const f of listing.folders) {
    const name = imapName(f.path);
    if (!matches(name)) continue;
    if (a.subscribedOnly && !f.subscribed) continue;
    const use = specialUse(f);
    if (a.specialOnly && use === null) continue;
    const attrs = [f.hasChildren ? '\\HasChildren' : '\\HasNoChildren'];
    if (use !== null && a.returnSpecial && !lsub) attrs.push(use);
    if (a.returnSubscribed && f.subscribed) attrs.push('\\Subscribed');
    w.raw(`* ${verb} (${attrs.join(' ')}) "${DELIMITER}" `).str(name).raw('\r\n');
    if (a.status !== null) writeStatus(w, name, a.status, { ...f, recent: 0 });
  }
  if (a.subscribedOnly && !a.specialOnly) {
    for (const n of listing.extraSubscribed) {
      const name = imapName(n.split(DELIMITER));
      if (decodeMutf7(name) === null || !matches(name)) continue;
      w.raw(`* ${verb} (${lsub ? '\\Noselect' : '\\Subscribed \\NonExistent'}) "${DELIMITER}" `).str(name).raw('\r\n');
    }
  }
  return ok(`${verb} completed`);
}

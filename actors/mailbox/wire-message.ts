/**
 * Messages as they cross threads to and from the mailbox actor: property bags (exact for every
 * type), with named properties carried by name (property set GUID and LID or string) because
 * their ids belong to one mailbox. In a WireNamed bag the property with id 0x8000 + i is the
 * i-th name's value; the actor maps the names to its own ids in the write that stores them.
 */
import { decodePropBag, encodePropBag, type PropMap } from '../../storage/prop-bag.js';
import { guidFromString, guidToString } from '../../storage/guid.js';
import { FIRST_NAMED_ID, LAST_NAMED_ID, type PropertyName } from '../../storage/named-props.js';
import { propId, propTag, propTypeOf, type PropValue } from '../../storage/prop-types.js';
import type { AttachmentIn, MessageIn } from '../../storage/message-store.js';
import type { MapiAttachment, MapiMessage, NamedProp } from '../../protocols/mail/mapi-message.js';

/** A named property as it crosses threads: GUID text and a LID or a name. */
export type WireName = { guid: string; lid: number } | { guid: string; name: string };

export interface WireNamed {
  names: WireName[];
  /** Values keyed by (0x8000 + index into names) with their types. */
  props: Uint8Array;
}

/** A message as it crosses threads: property bags for exactness. */
export interface WireMessage {
  props: Uint8Array;
  named?: WireNamed;
  recipients?: Uint8Array[];
  attachments?: WireAttachment[];
  /** The original Internet message (kept with the message, see MessageIn.mime). */
  mime?: Uint8Array;
}

export interface WireAttachment {
  props: Uint8Array;
  named?: WireNamed;
  data?: Uint8Array;
  embedded?: WireMessage;
}

export function toWireName(n: PropertyName): WireName {
  return 'lid' in n ? { guid: guidToString(n.guid), lid: n.lid } : { guid: guidToString(n.guid), name: n.name };
}

export function fromWireName(n: WireName): PropertyName {
  return 'lid' in n ? { guid: guidFromString(n.guid), lid: n.lid } : { guid: guidFromString(n.guid), name: n.name };
}

function namedToWire(named: readonly NamedProp[]): WireNamed | undefined {
  if (named.length === 0) return undefined;
  const max = LAST_NAMED_ID - FIRST_NAMED_ID + 1;
  const list = named.slice(0, max);
  const bag: [number, PropValue][] = list.map((n, i) => [propTag(FIRST_NAMED_ID + i, n.type), n.value]);
  return { names: list.map((n) => toWireName(n.name)), props: encodePropBag(bag) };
}

function namedFromWire(w: WireNamed | undefined): NamedProp[] {
  if (w === undefined) return [];
  const out: NamedProp[] = [];
  for (const [tag, value] of decodePropBag(Buffer.from(w.props))) {
    const name = w.names[propId(tag) - FIRST_NAMED_ID];
    if (name !== undefined) out.push({ name: fromWireName(name), type: propTypeOf(tag), value });
  }
  return out;
}

// ---- a door's side: conversion results to and from the wire ----

export function mapiToWire(m: MapiMessage, mime?: Uint8Array): WireMessage {
  const w: WireMessage = {
    props: encodePropBag(m.props),
    recipients: m.recipients.map((r) => encodePropBag(r)),
    attachments: m.attachments.map(attachmentToWire),
  };
  const named = namedToWire(m.named);
  if (named !== undefined) w.named = named;
  if (mime !== undefined) w.mime = mime;
  return w;
}

function attachmentToWire(a: MapiAttachment): WireAttachment {
  const w: WireAttachment = { props: encodePropBag(a.props) };
  const named = namedToWire(a.named);
  if (named !== undefined) w.named = named;
  if (a.data !== undefined) w.data = a.data;
  if (a.embedded !== undefined) w.embedded = mapiToWire(a.embedded);
  return w;
}

export function wireToMapi(w: WireMessage): MapiMessage {
  return {
    props: decodePropBag(Buffer.from(w.props)),
    named: namedFromWire(w.named),
    recipients: (w.recipients ?? []).map((r) => decodePropBag(Buffer.from(r))),
    attachments: (w.attachments ?? []).map(
      (a): MapiAttachment => ({
        props: decodePropBag(Buffer.from(a.props)),
        named: namedFromWire(a.named),
        ...(a.data !== undefined ? { data: a.data } : {}),
        ...(a.embedded !== undefined ? { embedded: wireToMapi(a.embedded) } : {}),
      }),
    ),
  };
}

// ---- the actor's side: names to this mailbox's ids and back ----

/** Maps names to ids of this mailbox (creating them); 0 means the name could not be mapped. */
export type NamesToIds = (names: PropertyName[]) => number[];
export type IdsToNames = (ids: number[]) => (PropertyName | null)[];

function mergeNamed(props: PropMap, w: WireNamed | undefined, toIds: NamesToIds): void {
  if (w === undefined) return;
  const ids = toIds(w.names.map(fromWireName));
  for (const [tag, value] of decodePropBag(Buffer.from(w.props))) {
    const id = ids[propId(tag) - FIRST_NAMED_ID];
    if (id !== undefined && id !== 0) props.set(propTag(id, propTypeOf(tag)), value);
  }
}

export function wireToMessageIn(w: WireMessage, toIds: NamesToIds): MessageIn {
  const props = decodePropBag(Buffer.from(w.props));
  mergeNamed(props, w.named, toIds);
  const m: MessageIn = {
    props,
    recipients: (w.recipients ?? []).map((r) => decodePropBag(Buffer.from(r))),
    attachments: (w.attachments ?? []).map((a): AttachmentIn => {
      const ap = decodePropBag(Buffer.from(a.props));
      mergeNamed(ap, a.named, toIds);
      return { props: ap, ...(a.data !== undefined ? { data: a.data } : {}), ...(a.embedded !== undefined ? { embedded: wireToMessageIn(a.embedded, toIds) } : {}) };
    }),
  };
  if (w.mime !== undefined) m.mime = w.mime;
  return m;
}

function splitNamed(props: PropMap, toNames: IdsToNames): { plain: PropMap; named: WireNamed | undefined } {
  const plain: PropMap = new Map();
  const namedTags: number[] = [];
  for (const [tag, v] of props) {
    if (propId(tag) >= FIRST_NAMED_ID) namedTags.push(tag);
    else plain.set(tag, v);
  }
  if (namedTags.length === 0) return { plain, named: undefined };
  const names = toNames(namedTags.map(propId));
  const list: NamedProp[] = [];
  namedTags.forEach((tag, i) => {
    const n = names[i];
    if (n !== null && n !== undefined) list.push({ name: n, type: propTypeOf(tag), value: props.get(tag)! });
  });
  return { plain, named: namedToWire(list) };
}

export function messageInToWire(m: MessageIn, toNames: IdsToNames): WireMessage {
  const { plain, named } = splitNamed(m.props, toNames);
  const w: WireMessage = {
    props: encodePropBag(plain),
    recipients: (m.recipients ?? []).map((r) => encodePropBag(r)),
    attachments: (m.attachments ?? []).map((a): WireAttachment => {
      const s = splitNamed(a.props, toNames);
      const wa: WireAttachment = { props: encodePropBag(s.plain) };
      if (s.named !== undefined) wa.named = s.named;
      if (a.data !== undefined) wa.data = a.data;
      if (a.embedded !== undefined) wa.embedded = messageInToWire(a.embedded, toNames);
      return wa;
    }),
  };
  if (named !== undefined) w.named = named;
  if (m.mime !== undefined) w.mime = m.mime;
  return w;
}

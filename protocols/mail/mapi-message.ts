/**
 * A message as the conversion code sees it (MIME, TNEF, RTF, later iCalendar and vCard): plain
 * data, no store ids. Properties with ids below 0x8000 are keyed by tag; named properties travel
 * as (property set GUID, LID or name) with their type and are mapped to per-mailbox ids by the
 * mailbox actor, never here.
 */
import type { PropertyName } from '../../storage/named-props.js';
import type { PropValue } from '../../storage/prop-types.js';

/** A named property value: the name, its property type (PropType), and the value. */
export interface NamedProp {
  name: PropertyName;
  type: number;
  value: PropValue;
}

/** Properties of one object: tagged (id < 0x8000) and named. */
export interface MapiObject {
  props: Map<number, PropValue>;
  named: NamedProp[];
}

export interface MapiAttachment extends MapiObject {
  /** PidTagAttachDataBinary (afByValue). */
  data?: Uint8Array;
  /** The message of an afEmbeddedMessage attachment. */
  embedded?: MapiMessage;
}

export interface MapiMessage extends MapiObject {
  /** Recipient rows (PidTagRecipientType, PidTagDisplayName, PidTagEmailAddress, ...). */
  recipients: Map<number, PropValue>[];
  attachments: MapiAttachment[];
}

export function emptyMessage(): MapiMessage {
  return { props: new Map(), named: [], recipients: [], attachments: [] };
}

/**
 * The bytes IMAP serves for a message: its original MIME when the store kept it, else the stable
 * MIME made from its MAPI data (protocols/mail/mapi-to-mime.ts), with EX addresses resolved
 * through the directory. A UID names fixed content (RFC 3501 §2.3.1.1), so the generated form
 * leaves out what flag changes touch (the Keywords header: categories are IMAP keywords here),
 * and generated messages and their sizes are remembered by (mailbox, MID, UID): a content change
 * gives a new UID, so an entry never goes stale.
 */
import type { DirectoryStore } from '../../storage/directory-store.js';
import { wireToMapi, type WireMessage } from '../../actors/mailbox/wire-message.js';
import { guidToString } from '../../storage/guid.js';
import { PS_PUBLIC_STRINGS } from '../../storage/named-props.js';
import { mapiToMime } from '../mail/mapi-to-mime.js';

const PUBLIC_STRINGS = guidToString(PS_PUBLIC_STRINGS);

/** A byte-bounded LRU of generated messages. */
class ByteLru {
  private readonly map = new Map<string, Buffer>();
  private bytes = 0;
  constructor(private readonly max: number) {}
  get(k: string): Buffer | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: Buffer): void {
    if (v.length > this.max / 4) return;
    const old = this.map.get(k);
    if (old !== undefined) {
      this.bytes -= old.length;
      this.map.delete(k);
    }
    this.map.set(k, v);
    this.bytes += v.length;
    while (this.bytes > this.max) {
      const first = this.map.keys().next().value!;
      this.bytes -= this.map.get(first)!.length;
      this.map.delete(first);
    }
  }
}

export class MessageSource {
  private readonly generated: ByteLru;
  private readonly sizes = new Map<string, number>();

  constructor(
    private readonly dir: DirectoryStore,
    private readonly hostname: string,
    cacheBytes: number,
    private readonly sizeEntries: number,
  ) {
    this.generated = new ByteLru(cacheBytes);
  }

  private key(mailbox: string, mid: number, uid: number): string {
    return `${mailbox}\u0000${mid}\u0000${uid}`;
  }

  /** The generated MIME's size, if known. */
  knownSize(mailbox: string, mid: number, uid: number): number | undefined {
    return this.sizes.get(this.key(mailbox, mid, uid));
  }

  /** A cached generated message, if any. */
  cached(mailbox: string, mid: number, uid: number): Buffer | undefined {
    return this.generated.get(this.key(mailbox, mid, uid));
  }

  /** The MIME of a message with no original, from its MAPI data. */
  generate(mailbox: string, mid: number, uid: number, wire: WireMessage): Buffer {
    const k = this.key(mailbox, mid, uid);
    const hit = this.generated.get(k);
    if (hit !== undefined) return hit;
    const msg = wireToMapi(wire);
    msg.named = msg.named.filter((n) => !('name' in n.name && n.name.name === 'Keywords' && guidToString(n.name.guid) === PUBLIC_STRINGS));
    const bytes = mapiToMime(msg, {
      hostname: this.hostname,
      includeBcc: true,
      resolveEx: (dn) => {
        const u = this.dir.userByLegacyDn(dn);
        return u === undefined ? null : { address: u.address, name: u.displayName };
      },
    });
    this.generated.set(k, bytes);
    if (!this.sizes.has(k)) {
      if (this.sizes.size >= this.sizeEntries) this.sizes.delete(this.sizes.keys().next().value!);
      this.sizes.set(k, bytes.length);
    }
    return bytes;
  }
}

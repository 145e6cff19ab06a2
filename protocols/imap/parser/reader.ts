/**
 * Reads the arguments of one received command (receiver.ts hands it over whole, literals
 * inline). Pure; bad input never throws: the first error is recorded (`error`) and every later
 * read returns null. RFC 3501 §9:
 *
 *   atom        = 1*ATOM-CHAR        ATOM-CHAR = <CHAR except atom-specials>
 *   atom-specials = "(" / ")" / "{" / SP / CTL / "%" / "*" / DQUOTE / "\" / "]"
 *   astring     = 1*ASTRING-CHAR / string        ASTRING-CHAR = ATOM-CHAR / "]"
 *   string      = quoted / literal
 *   quoted      = DQUOTE *QUOTED-CHAR DQUOTE     (8-bit UTF-8 accepted, as clients send it)
 *   literal     = "{" number ["+"] "}" CRLF *CHAR8
 *   nstring     = string / "NIL"
 *   list-mailbox = 1*list-char / string          list-char = ATOM-CHAR / "%" / "*" / "]"
 */

const SP = 0x20;

function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x5d;
}

export class Reader {
  pos: number;
  error: string | null = null;

  constructor(
    readonly buf: Buffer,
    pos = 0,
  ) {
    this.pos = pos;
  }

  fail(why: string): null {
    this.error ??= why;
    return null;
  }

  get ok(): boolean {
    return this.error === null;
  }

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  peek(): number {
    return this.pos < this.buf.length ? this.buf[this.pos]! : -1;
  }

  /** One SP. */
  sp(): boolean {
    if (this.error !== null) return false;
    if (this.peek() !== SP) {
      this.fail(this.atEnd() ? 'missing argument' : 'expected a space');
      return false;
    }
    this.pos++;
    return true;
  }

  /** True and consumes when the next byte is `c`. */
  take(c: number): boolean {
    if (this.error === null && this.peek() === c) {
      this.pos++;
      return true;
    }
    return false;
  }

  expect(c: number, what: string): boolean {
    if (this.take(c)) return true;
    this.fail(`expected ${what}`);
    return false;
  }

  /** The end of the command (no trailing arguments). */
  end(): boolean {
    if (this.error !== null) return false;
    if (!this.atEnd()) {
      this.fail('unexpected extra arguments');
      return false;
    }
    return true;
  }

  atom(): string | null {
    if (this.error !== null) return null;
    const s = this.pos;
    while (this.pos < this.buf.length && isAtomChar(this.buf[this.pos]!)) this.pos++;
    if (this.pos === s) return this.fail('expected an atom');
    return this.buf.toString('latin1', s, this.pos);
  }

  /** Characters allowed by `ok` (for tags, flags, sequence sets, section specs). */
  run(okChar: (c: number) => boolean, what: string): string | null {
    if (this.error !== null) return null;
    const s = this.pos;
    while (this.pos < this.buf.length && okChar(this.buf[this.pos]!)) this.pos++;
    if (this.pos === s) return this.fail(`expected ${what}`);
    return this.buf.toString('latin1', s, this.pos);
  }

  number(): number | null {
    const s = this.run((c) => c >= 0x30 && c <= 0x39, 'a number');
    if (s === null) return null;
    if (s.length > 10 || Number(s) > 0xffffffff) return this.fail('number out of range');
    return Number(s);
  }

  nzNumber(): number | null {
    const n = this.number();
    if (n === 0) return this.fail('expected a non-zero number');
    return n;
  }

  /** 64-bit unsigned (mod-sequence values). */
  number64(): number | null {
    const s = this.run((c) => c >= 0x30 && c <= 0x39, 'a number');
    if (s === null) return null;
    const n = Number(s);
    if (!Number.isSafeInteger(n)) return this.fail('number out of range');
    return n;
  }

  /** A string as bytes: quoted or literal. */
  stringBytes(): Buffer | null {
    if (this.error !== null) return null;
    const c = this.peek();
    if (c === 0x22) return this.quoted();
    if (c === 0x7b) return this.literal();
    return this.fail('expected a string');
  }

  private quoted(): Buffer | null {
    this.pos++;
    const parts: number[] = [];
    let s = this.pos;
    let escaped = false;
    const b = this.buf;
    for (;;) {
      if (this.pos >= b.length) return this.fail('unterminated quoted string');
      const ch = b[this.pos]!;
      if (ch === 0x0d || ch === 0x0a || ch === 0) return this.fail('line break in a quoted string');
      if (ch === 0x5c) {
        const n = b[this.pos + 1];
        if (n !== 0x22 && n !== 0x5c) return this.fail('bad escape in a quoted string');
        escaped = true;
        this.pos += 2;
        continue;
      }
      if (ch === 0x22) break;
      this.pos++;
    }
    const end = this.pos;
    this.pos++;
    if (!escaped) return b.subarray(s, end);
    for (let i = s; i < end; i++) {
      if (b[i] === 0x5c) i++;
      parts.push(b[i]!);
    }
    s = 0;
    return Buffer.from(parts);
  }

  private literal(): Buffer | null {
    const b = this.buf;
    const close = b.indexOf(0x7d, this.pos);
    if (close < 0) return this.fail('bad literal');
    const spec = b.toString('latin1', this.pos + 1, close);
    const m = /^(\d{1,10})\+?$/.exec(spec);
    if (m === null) return this.fail('bad literal');
    const size = Number(m[1]);
    let at = close + 1;
    if (b[at] === 0x0d) at++;
    if (b[at] !== 0x0a) return this.fail('a literal is followed by CRLF');
    at++;
    if (at + size > b.length) return this.fail('literal shorter than announced');
    this.pos = at + size;
    return b.subarray(at, at + size);
  }

  string(): string | null {
    const b = this.stringBytes();
    return b === null ? null : b.toString('utf8');
  }

  astringBytes(): Buffer | null {
    if (this.error !== null) return null;
    const c = this.peek();
    if (c === 0x22 || c === 0x7b) return this.stringBytes();
    const s = this.pos;
    while (this.pos < this.buf.length && (isAtomChar(this.buf[this.pos]!) || this.buf[this.pos] === 0x5d)) this.pos++;
    if (this.pos === s) return this.fail('expected a string or atom');
    return this.buf.subarray(s, this.pos);
  }

  astring(): string | null {
    const b = this.astringBytes();
    return b === null ? null : b.toString('utf8');
  }

  /** nstring: a string or NIL (null value, no error). */
  nstring(): { value: string | null } | null {
    if (this.error !== null) return null;
    if (this.peekWord('NIL')) {
      this.pos += 3;
      return { value: null };
    }
    const s = this.string();
    return s === null ? null : { value: s };
  }

  /** list-mailbox (LIST patterns may carry % and *). */
  listMailbox(): string | null {
    if (this.error !== null) return null;
    const c = this.peek();
    if (c === 0x22 || c === 0x7b) return this.string();
    const s = this.pos;
    while (this.pos < this.buf.length) {
      const ch = this.buf[this.pos]!;
      if (!(isAtomChar(ch) || ch === 0x25 || ch === 0x2a || ch === 0x5d)) break;
      this.pos++;
    }
    if (this.pos === s) return this.fail('expected a mailbox pattern');
    return this.buf.toString('latin1', s, this.pos);
  }

  /** True when the next bytes are `word` (case-insensitive) followed by a delimiter. */
  peekWord(word: string): boolean {
    const b = this.buf;
    if (this.pos + word.length > b.length) return false;
    for (let i = 0; i < word.length; i++) {
      let c = b[this.pos + i]!;
      if (c >= 0x61 && c <= 0x7a) c -= 0x20;
      if (c !== word.charCodeAt(i)) return false;
    }
    const after = b[this.pos + word.length];
    return after === undefined || after === SP || after === 0x29 || after === 0x28 || after === 0x5b || after === 0x5d;
  }

  /** A flag: "\" atom or atom (keyword). */
  flag(): string | null {
    if (this.error !== null) return null;
    if (this.take(0x5c)) {
      if (this.take(0x2a)) return '\\*';
      const a = this.atom();
      return a === null ? null : `\\${a}`;
    }
    return this.atom();
  }

  /** "(" [flag *(SP flag)] ")" or, when `bare` is allowed, flags without parentheses (STORE). */
  flagList(bare = false): string[] | null {
    if (this.error !== null) return null;
    const out: string[] = [];
    const paren = this.take(0x28);
    if (!paren && !bare) return this.fail('expected a flag list');
    if (paren && this.take(0x29)) return out;
    for (;;) {
      const f = this.flag();
      if (f === null) return null;
      out.push(f);
      if (paren && this.take(0x29)) return out;
      if (!paren && this.peek() !== SP) return out;
      if (!this.sp()) return null;
    }
  }
}

import test from 'ava';
import { evaluate, mapRow, Fuzzy, RelOp, BitmaskOp, RestrictionContext, SUB_RECIPIENTS, type Restriction } from '../../storage/restriction.js';
import { PropType, propTag, type PropValue } from '../../storage/prop-types.js';
import { Tag } from '../../storage/prop-tags.js';

const KEYWORDS = propTag(0x8001, PropType.PtypMultipleString);
const KEYWORD = propTag(0x8001, PropType.PtypString);
const BIN = propTag(0x6700, PropType.PtypBinary);
const SIZE64 = Tag.PidTagMessageSizeExtended;
const SMTP = propTag(0x39fe, PropType.PtypString);

const row = mapRow(
  new Map<number, PropValue>([
    [Tag.PidTagSubject, 'Re: Café meeting notes'],
    [Tag.PidTagMessageFlags, 0x11],
    [Tag.PidTagMessageClass, 'IPM.Note'],
    [KEYWORDS, ['Red Category', 'Project X']],
    [BIN, new Uint8Array([1, 2, 3, 4])],
    [SIZE64, 5000n],
    [Tag.PidTagContentCount, 3],
    [Tag.PidTagContentUnreadCount, 3],
  ]),
  { recipients: [new Map<number, PropValue>([[SMTP, 'bob@example.test']]), new Map<number, PropValue>([[SMTP, 'carol@example.test']])] },
);

const yes = (r: Restriction) => evaluate(r, row);

test('content: full, substring, prefix; case, non-space and loose folding; binaries; per value of multi-valued properties', (t) => {
  const c = (fuzzy: number, value: PropValue, tag = Tag.PidTagSubject): Restriction => ({ type: 'content', fuzzy, tag, value });
  t.true(yes(c(Fuzzy.FL_SUBSTRING, 'meeting')));
  t.false(yes(c(Fuzzy.FL_SUBSTRING, 'MEETING')), 'case counts without FL_IGNORECASE');
  t.true(yes(c(Fuzzy.FL_SUBSTRING | Fuzzy.FL_IGNORECASE, 'MEETING')));
  t.false(yes(c(Fuzzy.FL_SUBSTRING | Fuzzy.FL_IGNORECASE, 'cafe')), 'diacritics count without FL_IGNORENONSPACE');
  t.true(yes(c(Fuzzy.FL_SUBSTRING | Fuzzy.FL_IGNORENONSPACE, 'Cafe')));
  t.true(yes(c(Fuzzy.FL_SUBSTRING | Fuzzy.FL_LOOSE, 'CAFE MEETING')));
  t.true(yes(c(Fuzzy.FL_PREFIX, 'Re:')));
  t.false(yes(c(Fuzzy.FL_PREFIX, 'meeting')));
  t.true(yes(c(Fuzzy.FL_FULLSTRING, 'Re: Café meeting notes')));
  t.false(yes(c(Fuzzy.FL_FULLSTRING, 'Re: Café meeting')));
  t.true(yes(c(Fuzzy.FL_PREFIX, new Uint8Array([1, 2]), BIN)));
  t.true(yes(c(Fuzzy.FL_SUBSTRING, new Uint8Array([3, 4]), BIN)));
  t.true(yes(c(Fuzzy.FL_FULLSTRING, 'Project X', KEYWORDS)), 'one of the values matches');
  t.true(yes(c(Fuzzy.FL_FULLSTRING | Fuzzy.FL_IGNORECASE, 'red category', KEYWORD)), 'a single-valued tag reads the multi-valued column per value');
  t.false(yes(c(Fuzzy.FL_FULLSTRING, 'Blue', KEYWORDS)));
  t.false(yes(c(Fuzzy.FL_SUBSTRING, 'x', propTag(0x6666, PropType.PtypString))), 'a missing property never matches');
});

test('property and compare-properties relations on numbers, 64-bit values, strings and binaries', (t) => {
  const p = (relop: (typeof RelOp)[keyof typeof RelOp], tag: number, value: PropValue): Restriction => ({ type: 'property', relop, tag, value });
  t.true(yes(p(RelOp.EQ, Tag.PidTagMessageClass, 'ipm.note')), 'text compares without case');
  t.true(yes(p(RelOp.GT, SIZE64, 4999n)));
  t.false(yes(p(RelOp.LT, SIZE64, 5000n)));
  t.true(yes(p(RelOp.LE, SIZE64, 5000n)));
  t.true(yes(p(RelOp.NE, Tag.PidTagMessageFlags, 0)));
  t.true(yes(p(RelOp.GE, BIN, new Uint8Array([1, 2, 3]))));
  t.true(yes(p(RelOp.RE, Tag.PidTagSubject, '^re:.*notes$')));
  t.false(yes(p(RelOp.EQ, Tag.PidTagMessageClass, 5)), 'values of different kinds never compare');
  t.false(yes(p(RelOp.NE, propTag(0x6666, PropType.PtypInteger32), 1)), 'missing: false, even for NE');
  t.true(yes({ type: 'compareProps', relop: RelOp.EQ, tag1: Tag.PidTagContentCount, tag2: Tag.PidTagContentUnreadCount }));
  t.false(yes({ type: 'compareProps', relop: RelOp.LT, tag1: Tag.PidTagContentCount, tag2: Tag.PidTagContentUnreadCount }));
});

test('bitmask, size, exist, not, and, or, comment', (t) => {
  t.true(yes({ type: 'bitmask', op: BitmaskOp.NEZ, tag: Tag.PidTagMessageFlags, mask: 0x10 }));
  t.true(yes({ type: 'bitmask', op: BitmaskOp.EQZ, tag: Tag.PidTagMessageFlags, mask: 0x08 }));
  t.false(yes({ type: 'bitmask', op: BitmaskOp.EQZ, tag: Tag.PidTagMessageFlags, mask: 0x01 }));
  t.true(yes({ type: 'size', relop: RelOp.EQ, tag: BIN, size: 4 }));
  t.true(yes({ type: 'size', relop: RelOp.GT, tag: Tag.PidTagSubject, size: 10 }));
  t.true(yes({ type: 'exist', tag: KEYWORDS }));
  t.false(yes({ type: 'exist', tag: propTag(0x6666, PropType.PtypString) }));
  const unread: Restriction = { type: 'bitmask', op: BitmaskOp.EQZ, tag: Tag.PidTagMessageFlags, mask: 0x01 };
  t.true(yes({ type: 'not', child: unread }));
  t.true(yes({ type: 'and', children: [{ type: 'exist', tag: BIN }, { type: 'not', child: unread }] }));
  t.true(yes({ type: 'or', children: [unread, { type: 'exist', tag: BIN }] }));
  t.true(yes({ type: 'and', children: [] }), 'an empty AND is true');
  t.false(yes({ type: 'or', children: [] }), 'an empty OR is false');
  t.true(yes({ type: 'comment', props: [[Tag.PidTagDisplayName, 'rule 1']], child: null }));
  t.false(yes({ type: 'comment', props: [], child: unread }));
});

test('sub-object restrictions look into recipients; count restrictions stop after N matching rows', (t) => {
  const toCarol: Restriction = { type: 'sub', subobject: SUB_RECIPIENTS, child: { type: 'content', fuzzy: Fuzzy.FL_PREFIX | Fuzzy.FL_IGNORECASE, tag: SMTP, value: 'CAROL@' } };
  t.true(yes(toCarol));
  t.false(yes({ type: 'sub', subobject: SUB_RECIPIENTS, child: { type: 'exist', tag: Tag.PidTagSubject } }));
  const two: Restriction = { type: 'count', count: 2, child: { type: 'exist', tag: Tag.PidTagSubject } };
  const ctx = new RestrictionContext();
  t.deepEqual([1, 2, 3].map(() => evaluate(two, row, ctx)), [true, true, false]);
});

import test from 'ava';
import { startImap, RawClient, ALICE, PASSWORD, sampleMessage } from './harness.js';
import { mapiToWire } from '../../../actors/mailbox/wire-message.js';
import { emptyMessage } from '../../../protocols/mail/mapi-message.js';
import { Tag, RecipientType } from '../../../storage/prop-tags.js';
import { dateToFiletime, type PropValue } from '../../../storage/prop-types.js';
import { webmail, thunderbird } from '../../fixtures/mail/messages.js';

/**
 * The commands real clients send, as they send them (from their sources and logs): every one
 * must complete OK. One stack for the file; each flow on its own connection.
 */
const FLOWS: Record<string, string[]> = {
  thunderbird: [
    'ID ("name" "Thunderbird" "version" "115.3.1")',
    'CAPABILITY',
    'NAMESPACE',
    'LIST (SPECIAL-USE) "" "*"',
    'LSUB "" "*"',
    'LIST "" "%"',
    'SELECT "INBOX"',
    'UID FETCH 1:* (FLAGS)',
    'UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])',
    'UID FETCH 2 (UID RFC822.SIZE BODY.PEEK[]<0.32768>)',
    'UID STORE 1 +FLAGS (\\Seen)',
    'STATUS "Sent Items" (UIDNEXT MESSAGES UNSEEN RECENT)',
    'UID COPY 1 "Drafts"',
    'NOOP',
    'CHECK',
    'UNSELECT',
  ],
  appleMail: [
    'ID NIL',
    'LIST "" ""',
    'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN SPECIAL-USE)',
    'EXAMINE INBOX',
    'UID FETCH 1:* (FLAGS UID)',
    'UID FETCH 1:3 (BODY.PEEK[HEADER] BODYSTRUCTURE RFC822.SIZE INTERNALDATE)',
    'UID FETCH 3 (BODY.PEEK[1.MIME] BODY.PEEK[1]<0.10240>)',
    'UID FETCH 3 (BODY.PEEK[2.1] BODY.PEEK[2.HEADER] BODY.PEEK[2]<0.100>)',
    'UID SEARCH UNDELETED',
    'CLOSE',
  ],
  k9: [
    'CAPABILITY',
    'LIST "" "*"',
    'SELECT INBOX',
    'UID SEARCH 1:* NOT DELETED',
    'UID FETCH 1,2,3 (UID INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (date subject from content-type to cc reply-to message-id references in-reply-to X-K9mail-Identity Chat-Version)])',
    'UID FETCH 3 (UID BODYSTRUCTURE)',
    'UID FETCH 3 (UID BODY.PEEK[1.1]<0.4096>)',
    'UID STORE 2 +FLAGS.SILENT (\\Flagged)',
    'IDLE',
  ],
  mutt: [
    'CAPABILITY',
    'LIST "" ""',
    'SELECT "INBOX"',
    'FETCH 1:3 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM SENDER SUBJECT TO CC MESSAGE-ID REFERENCES CONTENT-TYPE CONTENT-DESCRIPTION IN-REPLY-TO REPLY-TO LINES LIST-POST LIST-SUBSCRIBE LIST-UNSUBSCRIBE X-LABEL X-ORIGINAL-TO)])',
    'UID FETCH 1 BODY.PEEK[]',
    'UID STORE 1 +FLAGS.SILENT (\\Seen)',
    'UID STORE 2 -FLAGS.SILENT (\\Seen)',
    'STATUS "Drafts" (MESSAGES)',
    'SEARCH OR SUBJECT "message" FROM "sender" NOT DELETED',
    'UID SEARCH SINCE 1-Jan-2000 LARGER 10 UNKEYWORD $Junk',
  ],
  mbsync: [
    'CAPABILITY',
    'LIST "" "*"',
    'SELECT "INBOX"',
    'UID FETCH 1:1000000000 (UID FLAGS)',
    'UID FETCH 1 (UID FLAGS BODY.PEEK[])',
    'APPEND "Drafts" (\\Seen) " 3-Mar-2020 12:00:00 +0000" {59+}\r\nFrom: a@example.org\r\nSubject: mbsync\r\nX-TUID: abc\r\n\r\nbody\r\n',
    'UID STORE 1 +FLAGS.SILENT (\\Deleted)',
    'UID EXPUNGE 1',
    'CLOSE',
  ],
  offlineimap: [
    'CAPABILITY',
    'LIST "" "*"',
    'EXAMINE "INBOX"',
    'FETCH 1:2 (FLAGS UID INTERNALDATE)',
    'SELECT "Drafts"',
    'UID SEARCH HEADER X-TUID "abc"',
    'SEARCH CHARSET UTF-8 TEXT "mbsync"',
    'LOGOUT',
  ],
};

test('the commands of Thunderbird, Apple Mail, K-9, mutt, mbsync and offlineimap all complete OK', async (t) => {
  const { port, stack } = await startImap(t);
  const alice = stack.dir.userByAddress(ALICE)!;
  await stack.delivery.deliver(Buffer.from(sampleMessage(1)), [alice]);
  await stack.delivery.deliver(thunderbird, [alice]);
  await stack.delivery.deliver(webmail, [alice]);
  for (const [client, commands] of Object.entries(FLOWS)) {
    const { client: c } = await RawClient.open(port);
    t.regex(await c.cmd(`LOGIN ${ALICE} "${PASSWORD}"`), /OK/);
    for (const cmd of commands) {
      if (cmd === 'IDLE') {
        c.write('i1 IDLE\r\n');
        await c.readUntil((b) => b.includes('+ idling'));
        c.write('DONE\r\n');
        t.regex(await c.until('i1'), /i1 OK/, `${client}: IDLE`);
        continue;
      }
      const r = await c.cmd(cmd);
      t.regex(r, /t\d+ OK[^\r\n]*\r\n$/, `${client}: ${cmd.slice(0, 80)}\n${r.slice(-300)}`);
    }
    c.close();
  }
});

test('a message made in Outlook (no original MIME) is served as stable MIME: BODYSTRUCTURE, ENVELOPE, sizes and sections agree', async (t) => {
  const { port, stack } = await startImap(t);
  const ref = stack.mailbox(ALICE);
  const info = await stack.sys.call(ref, 'logonInfo', null);
  const m = emptyMessage();
  m.props.set(Tag.PidTagMessageClass, 'IPM.Note');
  m.props.set(Tag.PidTagSubject, 'Made in Outlook: Grüße');
  m.props.set(Tag.PidTagBody, 'Hallo,\r\nplain text body.\r\n');
  m.props.set(Tag.PidTagHtml, Buffer.from('<html><body><p>Hallo, <b>HTML</b> body.</p></body></html>'));
  m.props.set(Tag.PidTagClientSubmitTime, dateToFiletime(new Date('2020-03-03T12:00:00Z')));
  m.props.set(Tag.PidTagMessageDeliveryTime, dateToFiletime(new Date('2020-03-03T12:00:01Z')));
  m.props.set(Tag.PidTagSenderName, 'Bob');
  m.props.set(Tag.PidTagSenderAddressType, 'SMTP');
  m.props.set(Tag.PidTagSenderEmailAddress, 'bob@example.test');
  m.props.set(Tag.PidTagSentRepresentingName, 'Bob');
  m.props.set(Tag.PidTagSentRepresentingAddressType, 'SMTP');
  m.props.set(Tag.PidTagSentRepresentingEmailAddress, 'bob@example.test');
  m.recipients.push(new Map<number, PropValue>([[Tag.PidTagRecipientType, RecipientType.To], [Tag.PidTagDisplayName, 'Alice'], [Tag.PidTagAddressType, 'SMTP'], [Tag.PidTagEmailAddress, 'alice@example.test']]));
  m.attachments.push({ props: new Map<number, PropValue>([[Tag.PidTagAttachMethod, 1], [Tag.PidTagAttachLongFilename, 'notes.txt'], [Tag.PidTagAttachMimeTag, 'text/plain']]), named: [], data: Buffer.from('attachment text\r\n') });
  await stack.sys.call(ref, 'createMessage', { folder: info.special.inbox, ...mapiToWire(m) });
  const { client: c } = await RawClient.open(port);
  await c.cmd(`LOGIN ${ALICE} "${PASSWORD}"`);
  await c.cmd('SELECT INBOX');
  const a = await c.cmd('UID FETCH 1 (RFC822.SIZE BODYSTRUCTURE ENVELOPE BODY.PEEK[])');
  const b = await c.cmd('UID FETCH 1 (RFC822.SIZE BODYSTRUCTURE ENVELOPE BODY.PEEK[])');
  t.is(a.replace(/t\d+ OK.*/, ''), b.replace(/t\d+ OK.*/, ''), 'the same bytes every time');
  const size = Number(/RFC822\.SIZE (\d+)/.exec(a)![1]);
  const lit = /BODY\[\] \{(\d+)\}\r\n/.exec(a)!;
  t.is(size, Number(lit[1]));
  t.regex(a, /BODYSTRUCTURE \(\(\("text" "plain" \("charset" "utf-8"\)[^)]*\)\("text" "html"/i);
  t.regex(a, /"notes\.txt"/);
  t.regex(a, /ENVELOPE \("Tue, 3 Mar 2020 12:00:00 \+0000" "Made in Outlook: =\?UTF-8\?Q\?Gr=C3=BC=C3=9Fe\?="/);
  t.regex(a, /\(\("Bob" NIL "bob" "example\.test"\)\)/);
  const body = a.slice(lit.index + lit[0].length, lit.index + lit[0].length + size);
  t.notRegex(body, /^Keywords:/m, 'categories are IMAP keywords, not part of the content');
  const text = await c.cmd('UID FETCH 1 (BODY.PEEK[1.1] BODY.PEEK[2.MIME])');
  t.regex(text, /plain text body/);
  t.regex(text, /notes\.txt/);
  c.close();
});

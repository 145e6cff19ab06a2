import test from 'ava';
import { execFile } from 'node:child_process';
import { startImap, ALICE, PASSWORD, sampleMessage } from './harness.js';

/** Python's imaplib through a whole session; the script prints one JSON object of what it saw. */
const SCRIPT = String.raw`
import imaplib, json, sys, ssl, time, socket
port, user, pw, tls = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == '1'
out = {}
if tls:
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    M = imaplib.IMAP4_SSL('127.0.0.1', port, ssl_context=ctx)
else:
    M = imaplib.IMAP4('127.0.0.1', port)
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    M.starttls(ssl_context=ctx)
out['login'] = M.login(user, pw)[0]
typ, lines = M.list()
out['list'] = [l.decode() for l in lines]
typ, data = M.select('INBOX')
out['exists'] = int(data[0])
typ, data = M.fetch('1:*', '(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['subjects'] = [d[1].decode().strip() for d in data if isinstance(d, tuple)]
typ, data = M.fetch('1', '(RFC822)')
out['rfc822'] = data[0][1].decode()
typ, data = M.search(None, 'UNSEEN')
out['unseen'] = data[0].decode()
typ, data = M.search('UTF-8', 'SUBJECT', '"message 2"')
out['search'] = data[0].decode()
typ, data = M.store('2', '+FLAGS', r'(\Flagged $Label1)')
out['store'] = data[0].decode()
typ, data = M.create('Work/Projects')
out['create'] = typ
typ, data = M.copy('1:2', 'Work/Projects')
out['copy'] = typ
typ, data = M.uid('MOVE', '3', 'Work/Projects')
out['move'] = typ
msg = b'From: a@example.org\r\nSubject: appended\r\n\r\nbody\r\n'
typ, data = M.append('INBOX', r'(\Seen)', imaplib.Time2Internaldate(time.time()), msg)
out['append'] = data[0].decode()
typ, data = M.store('1', '+FLAGS', r'(\Deleted)')
typ, data = M.expunge()
out['expunge'] = [d.decode() for d in data if d]
typ, data = M.status('Work/Projects', '(MESSAGES UIDNEXT UNSEEN)')
out['status'] = data[0].decode()
# IDLE by hand (imaplib of 3.11 has no idle()): a delivery must wake it.
tag = M._new_tag().decode()
M.send(('%s IDLE\r\n' % tag).encode())
out['idle_start'] = M.readline().decode().strip()
print('READY-FOR-DELIVERY', flush=True)
M.sock.settimeout(10)
out['idle_push'] = M.readline().decode().strip()
M.send(b'DONE\r\n')
while True:
    l = M.readline().decode()
    if l.startswith(tag):
        out['idle_end'] = l.strip(); break
M.close()
out['logout'] = M.logout()[0]
print(json.dumps(out), flush=True)
`;

function runPython(port: number, tls: boolean, onReady: () => Promise<void>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = execFile('python3', ['-c', SCRIPT, String(port), ALICE, PASSWORD, tls ? '1' : '0'], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err !== null) return reject(new Error(`${err.message}\n${stderr}`));
      const last = stdout.trim().split('\n').pop()!;
      resolve(JSON.parse(last) as Record<string, unknown>);
    });
    let buf = '';
    p.stdout!.on('data', (d: string) => {
      buf += d;
      if (buf.includes('READY-FOR-DELIVERY')) {
        buf = '';
        void onReady();
      }
    });
  });
}

for (const tls of [false, true]) {
  test(`imaplib: a full session (${tls ? 'implicit TLS' : 'STARTTLS'})`, async (t) => {
    const { port, tlsPort, stack } = await startImap(t, { allowPlaintextAuth: false });
    const alice = stack.dir.userByAddress(ALICE)!;
    for (let i = 1; i <= 3; i++) await stack.delivery.deliver(Buffer.from(sampleMessage(i)), [alice]);
    const out = await runPython(tls ? tlsPort : port, tls, async () => {
      await new Promise((r) => setTimeout(r, 100));
      await stack.delivery.deliver(Buffer.from(sampleMessage(7)), [alice]);
    });
    t.is(out.login, 'OK');
    t.true((out.list as string[]).some((l) => l.includes('\\Sent') && l.includes('"Sent Items"')));
    t.is(out.exists, 3);
    t.deepEqual(out.subjects, ['Subject: message 1', 'Subject: message 2', 'Subject: message 3']);
    t.true((out.rfc822 as string).includes('Hello number 1.'));
    t.is(out.unseen, '2 3', 'RFC822 set \\Seen on 1');
    t.is(out.search, '2');
    t.regex(out.store as string, /^2 \(UID 2 FLAGS \(\\Flagged \\Recent \$Label1\)\)$/);
    t.is(out.create, 'OK');
    t.is(out.copy, 'OK');
    t.is(out.move, 'OK');
    t.regex(out.append as string, /^\[APPENDUID \d+ 4\]/);
    t.deepEqual(out.expunge, ['3', '1'], 'imaplib keeps the MOVE\'s EXPUNGE too');
    t.regex(out.status as string, /MESSAGES 3 UIDNEXT 4 UNSEEN 2/);
    t.is(out.idle_start, '+ idling');
    t.regex(out.idle_push as string, /^\* \d+ EXISTS$/);
    t.regex(out.idle_end as string, /OK IDLE terminated/);
    t.is(out.logout, 'BYE');
  });
}

/**
 * Mail through the real server process with real clients: Python's smtplib delivers over SMTP
 * and submits over Submission (STARTTLS + AUTH), Python's poplib reads over POP3 with STLS and
 * over implicit TLS, and imaplib reads, searches and flags over STARTTLS and 993.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { runCli, startedServer, testEnv } from './server-process.js';

const env = testEnv({ STOA_AUTH_SCRYPT_N: '1024', STOA_SERVER_HOSTNAME: 'mail.example.test' });

function python(script: string): Promise<string> {
  return new Promise((resolve, reject) => execFile('python3', ['-c', script], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))));
}

test('smtplib delivers and submits, poplib reads the same bytes back (STLS and implicit TLS)', async (t) => {
  const { data: dataPath, base } = await startedServer(t, env);
  const data = { path: dataPath };
  for (const u of ['alice', 'bob']) t.is((await runCli(['--data', data.path, 'user', 'add', `${u}@mail.example.test`, '--password', `${u} password`], env)).code, 0);
  const out = await python(`
import smtplib, poplib, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
msg = b'From: Carol <carol@example.org>\\r\\nTo: alice@mail.example.test\\r\\nSubject: hello pop\\r\\nMessage-ID: <flow-1@example.org>\\r\\n\\r\\nline one\\r\\n.dot line\\r\\n'
s = smtplib.SMTP('127.0.0.1', ${base + 25}); s.ehlo('client.example.org')
print('smtp', s.sendmail('carol@example.org', ['alice@mail.example.test'], msg)); s.quit()
sub = smtplib.SMTP('127.0.0.1', ${base + 587}); sub.ehlo(); sub.starttls(context=ctx); sub.ehlo(); sub.login('bob@mail.example.test', 'bob password')
print('submission', sub.sendmail('bob@mail.example.test', ['alice@mail.example.test'], b'From: bob@mail.example.test\\r\\nTo: alice@mail.example.test\\r\\nSubject: from bob\\r\\n\\r\\nhi\\r\\n')); sub.quit()
p = poplib.POP3('127.0.0.1', ${base + 110}); p.stls(ctx); p.user('alice@mail.example.test'); p.pass_('alice password')
count, size = p.stat(); print('stat', count)
listed = [int(x.split()[1]) for x in p.list()[1]]
for i in range(1, count + 1):
    resp, lines, octets = p.retr(i)
    body = b'\\r\\n'.join(lines) + b'\\r\\n'
    print('retr', i, octets == listed[i-1], b'Subject: hello pop' in body or b'Subject: from bob' in body, b'\\r\\n.dot line\\r\\n' in body if i == 1 else True)
uidl1 = p.uidl()[1]; p.quit()
q = poplib.POP3_SSL('127.0.0.1', ${base + 995}, context=ctx); q.user('alice@mail.example.test'); q.pass_('alice password')
print('uidl stable', q.uidl()[1] == uidl1); q.dele(1); q.quit()
r = poplib.POP3_SSL('127.0.0.1', ${base + 995}, context=ctx); r.user('alice@mail.example.test'); r.pass_('alice password'); print('after dele', r.stat()[0]); r.quit()
import imaplib
m = imaplib.IMAP4('127.0.0.1', ${base + 143}); m.starttls(ctx); m.login('alice@mail.example.test', 'alice password')
typ, data = m.select('INBOX'); print('imap exists', data[0].decode())
typ, data = m.uid('search', None, 'SUBJECT', '"from bob"'); uid = data[0].split()[0]
typ, data = m.uid('fetch', uid, '(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])'); print('imap fetch', b'Subject: from bob' in data[0][1])
m.uid('store', uid, '+FLAGS', '(\\Flagged)'); typ, data = m.uid('fetch', uid, '(FLAGS)'); print('imap flags', b'\\Flagged' in data[0])
m.logout()
s2 = imaplib.IMAP4_SSL('127.0.0.1', ${base + 993}, ssl_context=ctx); s2.login('bob@mail.example.test', 'bob password'); print('imaps list', b'INBOX' in b' '.join(s2.list()[1])); s2.logout()
plain = poplib.POP3('127.0.0.1', ${base + 110})
try:
    plain.user('alice@mail.example.test'); print('plaintext accepted')
except poplib.error_proto as e:
    print('plaintext refused', e)
`);
  t.regex(out, /^smtp \{\}$/m);
  t.regex(out, /^submission \{\}$/m);
  t.regex(out, /^stat 2$/m);
  t.regex(out, /^retr 1 True True True$/m);
  t.regex(out, /^retr 2 True True True$/m);
  t.regex(out, /^uidl stable True$/m);
  t.regex(out, /^after dele 1$/m);
  t.regex(out, /^plaintext refused b'-ERR \[AUTH\]/m);
  t.regex(out, /^imap exists 1$/m, 'one message left in the Inbox after the POP3 DELE');
  t.regex(out, /^imap fetch True$/m);
  t.regex(out, /^imap flags True$/m);
  t.regex(out, /^imaps list True$/m);
});

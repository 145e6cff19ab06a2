import test from 'ava';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { runCli, startedServer, testEnv } from './server-process.js';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { MailboxStore } from '../../storage/mailbox-store.js';
import { guidToString } from '../../storage/guid.js';

const env = testEnv({ STOA_AUTH_SCRYPT_N: '1024', STOA_SERVER_HOSTNAME: 'mail.example.test', STOA_HTTP_EXTERNAL_URL: 'https://mail.example.test' });

function post(port: number, path: string, auth: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, method: 'POST', rejectUnauthorized: false, auth, headers: { 'content-type': 'text/xml', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const request = (who: string) =>
  `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${who}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;

test('the real server: AutoDiscover names the mailbox by its own MailboxGuid and legacy DN; grants from the CLI open another mailbox', async (t) => {
  const { data: dataPath, base, server: s } = await startedServer(t, env);
  const data = { path: dataPath };
  const cli = async (...args: string[]) => {
    const r = await runCli(['--data', data.path, ...args], env);
    t.is(r.code, 0, r.stderr);
    return r.stdout === '' ? null : (JSON.parse(r.stdout) as unknown);
  };
  await cli('user', 'add', 'alice@mail.example.test', '--name', 'Alice', '--password', 'alice password');
  await cli('user', 'add', 'bob@mail.example.test', '--name', 'Bob', '--password', 'bob password');
  const port = base + 443;
  const mapi = { 'X-MapiHttpCapability': '1' };

  const own = await post(port, '/autodiscover/autodiscover.xml', 'alice@mail.example.test:alice password', request('alice@mail.example.test'), mapi);
  t.is(own.status, 200, own.body);
  const guid = /emsmdb\/\?MailboxId=([0-9a-f-]{36})@mail\.example\.test<\/InternalUrl>/.exec(own.body)?.[1];
  t.truthy(guid, own.body);
  t.regex(own.body, /<ExternalUrl>https:\/\/mail\.example\.test\/mapi\/nspi\/\?MailboxId=/, 'external URL from config');
  const dn = /<LegacyDN>([^<]+)<\/LegacyDN>/.exec(own.body)?.[1] ?? '';

  const denied = await post(port, '/autodiscover/autodiscover.xml', 'alice@mail.example.test:alice password', request('bob@mail.example.test'), mapi);
  t.regex(denied.body, /<ErrorCode>500<\/ErrorCode>/);
  t.like(await cli('mailbox', 'grant', 'bob@mail.example.test', 'alice@mail.example.test'), { mailbox: 'bob@mail.example.test', user: 'alice@mail.example.test', rights: ['full-access'] });
  t.deepEqual(((await cli('mailbox', 'grants', 'bob@mail.example.test')) as { user: string }[]).map((g) => g.user), ['alice@mail.example.test']);
  const granted = await post(port, '/autodiscover/autodiscover.xml', 'alice@mail.example.test:alice password', request('bob@mail.example.test'), mapi);
  t.regex(granted.body, /<AutoDiscoverSMTPAddress>bob@mail\.example\.test<\/AutoDiscoverSMTPAddress>/);
  await cli('mailbox', 'revoke', 'bob@mail.example.test', 'alice@mail.example.test');
  t.regex((await post(port, '/autodiscover/autodiscover.xml', 'alice@mail.example.test:alice password', request('bob@mail.example.test'), mapi)).body, /<ErrorCode>500<\/ErrorCode>/);
  const bad = await runCli(['--data', data.path, 'mailbox', 'grant', 'bob@mail.example.test'], env);
  t.is(bad.code, 2);

  // A non-standard method on the real listener reaches the router (RPC over HTTP is not served
  // yet), on a connection of its own as RPC over HTTP's channels are.
  const rpc = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/rpc/rpcproxy.dll?mail:6001', method: 'RPC_IN_DATA', agent: false, rejectUnauthorized: false, headers: { 'content-length': '0' } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
  t.is(rpc, 503);

  t.is((await runCli(['--data', data.path, 'shutdown'], env)).code, 0);
  t.is(await s.exited, 0);
  // The GUID in the URLs is the mailbox's own; the legacy DN the one the mailbox knows its owner by.
  const mbx = await MailboxEnv.open(join(data.path, 'mailboxes', 'mail.example.test', 'alice'));
  const id = new MailboxStore(mbx).identity()!;
  t.is(guidToString(id.mailboxGuid), guid ?? "(none)");
  t.is(id.legacyDn, dn);
  await mbx.close();
});

/**
 * MAPI over HTTP through the real server process, driven by the spec-following test client
 * (test/fixtures/mapi-client/): AutoDiscover → NSPI Bind, GetSpecialTable, QueryRows,
 * ResolveNames, DNToMId, GetProps → Connect → RopLogon → store properties → GetReceiveFolder →
 * Disconnect; wrong passwords; another user's mailbox with and without a grant; an expired
 * session; transport errors; RopBufferTooSmall; compression and obfuscation both ways.
 */
import test from 'ava';
import { runCli, startedServer, testEnv } from './server-process.js';
import { autodiscover } from './autodiscover-client.js';
import { MapiClient } from '../fixtures/mapi-client/client.js';
import { rowSetToMaps, ResolveMid, stat, CP_WINUNICODE } from '../fixtures/mapi-client/nspi.js';
import { RopId, Ec } from '../../protocols/mapi/rops/ids.js';
import { Tag } from '../../storage/prop-tags.js';

const env = testEnv({ STOA_AUTH_SCRYPT_N: '1024', STOA_SERVER_HOSTNAME: 'mail.example.test', STOA_MAPI_CONTEXT_IDLE_SECONDS: '6', STOA_MAPI_NOTIFICATION_WAIT_SECONDS: '5' });

const PidTagDisplayNameW = 0x3001001f;
const PidTagSmtpAddressW = 0x39fe001f;
const PidTagEmailAddressW = 0x3003001f;
const PidTagEntryId = 0x0fff0102;
const PidTagUserEntryId = 0x66190102;

async function server(t: Parameters<typeof startedServer>[0]) {
  const s = await startedServer(t, env);
  for (const [u, name] of [['alice', 'Alice Archer'], ['bob', 'Bob Baker'], ['bobby', 'Bobby Tables']]) {
    const r = await runCli(['--data', s.data, 'user', 'add', `${u}@mail.example.test`, '--name', name!, '--password', `${u} password`], env);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const baseUrl = `https://127.0.0.1:${s.base + 443}`;
  const client = (user: string, password = `${user} password`) => new MapiClient({ baseUrl, user: `${user}@mail.example.test`, password });
  return { ...s, baseUrl, client };
}

test('Outlook-style start: AutoDiscover, address book, Connect, Logon, store properties, receive folder, Disconnect', async (t) => {
  const s = await server(t);
  const ad = await autodiscover(s.base + 443, 'alice@mail.example.test:alice password', 'alice@mail.example.test');
  const dn = /<LegacyDN>([^<]+)<\/LegacyDN>/.exec(ad)?.[1] ?? '';
  t.regex(dn, /^\/o=/);
  t.regex(ad, /\/mapi\/emsmdb\/\?MailboxId=/);
  const c = s.client('alice');
  t.teardown(() => c.close());

  // Address book.
  const bind = await c.nspi.bind({ flags: 0, state: stat() });
  t.is(bind.ok.ok && bind.ok.errorCode, 0);
  const special = await c.nspi.getSpecialTable({ flags: 0, state: stat() });
  t.true(special.ok.ok && (special.ok.rows?.length ?? 0) >= 1, 'the hierarchy has the GAL');
  const rows = await c.nspi.queryRows({ flags: 0, state: stat({ codePage: CP_WINUNICODE }), explicitTable: [], rowCount: 50, columns: [PidTagDisplayNameW, PidTagSmtpAddressW, PidTagEmailAddressW] });
  t.true(rows.ok.ok);
  const listed = rows.ok.ok ? rowSetToMaps(rows.ok.rowSet!).map((m) => m.get(PidTagSmtpAddressW)) : [];
  for (const u of ['alice', 'bob', 'bobby']) t.true(listed.includes(`${u}@mail.example.test`), `GAL lists ${u}`);
  const resolved = await c.nspi.resolveNames({ reserved: 0, state: stat({ codePage: CP_WINUNICODE }), propertyTags: [PidTagDisplayNameW, PidTagEmailAddressW], names: ['Alice', 'Bo', 'nobody-here'] });
  t.true(resolved.ok.ok);
  if (resolved.ok.ok) {
    const [alice, bob, nobody] = resolved.ok.minimalIds!;
    t.true(alice! > ResolveMid.Resolved, 'Alice resolves to one entry');
    t.is(bob, ResolveMid.Ambiguous, '"Bo" is Bob Baker and Bobby Tables');
    t.is(nobody, ResolveMid.Unresolved);
    t.is(rowSetToMaps(resolved.ok.rowSet!)[0]!.get(PidTagEmailAddressW), dn);
  }
  const mids = await c.nspi.dNToMId({ reserved: 0, names: [dn] });
  t.true(mids.ok.ok && (mids.ok.minimalIds?.[0] ?? 0) > 2);
  const props = await c.nspi.getProps({ flags: 0, state: stat({ codePage: CP_WINUNICODE, currentRec: mids.ok.ok ? mids.ok.minimalIds![0]! : 0 }), propertyTags: [PidTagDisplayNameW, PidTagSmtpAddressW] });
  t.true(props.ok.ok);
  if (props.ok.ok) t.deepEqual(props.ok.propertyValues?.map((v) => v.value), ['Alice Archer', 'alice@mail.example.test']);

  // Mailbox.
  const conn = await c.connect(dn);
  t.true(conn.ok.ok);
  if (conn.ok.ok) t.is(conn.ok.displayName, 'Alice Archer');
  const logon = await c.logon(dn);
  t.is(logon.returnValue, 0);
  t.is(logon.folderIds.length, 13);
  t.not(logon.handle, 0xffffffff);
  const tags = [Tag.PidTagDisplayName, Tag.PidTagIpmSubtreeEntryId, Tag.PidTagStoreSupportMask, Tag.PidTagMailboxOwnerEntryId, PidTagUserEntryId, Tag.PidTagMessageSizeExtended, 0x12340003];
  const ex = await c.execute(
    [
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 0, propertySizeLimit: 0, wantUnicode: 1, propertyTags: tags },
      { ropId: RopId.GetReceiveFolder, logonId: 0, inputHandleIndex: 0, messageClass: 'IPM.Note' },
      { ropId: RopId.LongTermIdFromId, logonId: 0, inputHandleIndex: 0, objectId: logon.folders.inbox! },
      { ropId: RopId.SetReceiveFolder, logonId: 0, inputHandleIndex: 0, folderId: logon.folderIds[3]!, messageClass: 'IPM' },
      { ropId: RopId.GetStoreState, logonId: 0, inputHandleIndex: 0 },
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: logon.folders.inbox!, openModeFlags: 0 },
    ] as never,
    [logon.handle, 0xffffffff],
  );
  const [gp, rf, lt, srf, gss, of] = ex.responses;
  t.is(gp!.returnValue, 0);
  const cells = (gp!.ok as { rowData: { cells: unknown[] } }).rowData.cells;
  t.is(cells[0], 'Mailbox - Alice Archer');
  t.true(cells[1] instanceof Uint8Array && cells[1].byteLength === 46, 'IPM subtree folder entry id');
  t.deepEqual(cells[6], { error: Ec.ecNotFound });
  t.is(rf!.returnValue, 0);
  t.is((rf!.ok as { folderId: bigint }).folderId, logon.folders.inbox!);
  t.is(lt!.returnValue, 0);
  t.deepEqual(Buffer.from((lt!.ok as { longTermId: { databaseGuid: Uint8Array } }).longTermId.databaseGuid), Buffer.from(logon.replGuid!));
  t.is(srf!.returnValue, Ec.ecAccessDenied, 'the IPM class keeps its receive folder');
  t.is(gss!.returnValue, 0);
  t.is(of!.returnValue, 0, 'RopOpenFolder on the inbox');
  const back = await c.execute([{ ropId: RopId.IdFromLongTermId, logonId: 0, inputHandleIndex: 0, longTermId: (lt!.ok as { longTermId: unknown }).longTermId }] as never, [logon.handle]);
  t.is((back.responses[0]!.ok as { objectId: bigint }).objectId, logon.folders.inbox!);

  // Release the logon: its handle is gone.
  const rel = await c.execute([{ ropId: RopId.Release, logonId: 0, inputHandleIndex: 0 }, { ropId: RopId.GetStoreState, logonId: 0, inputHandleIndex: 0 }] as never, [logon.handle]);
  t.is(rel.responses[0]!.returnValue, Ec.ecNullObject);

  t.is((await c.ping()).headerResponseCode, 0);
  t.true((await c.disconnect()).ok.ok);
  const after = await c.executeRaw(new Uint8Array(0));
  t.is(after.http.headerResponseCode, 10, 'a disconnected session context is gone');
  t.true((await c.nspi.unbind({ reserved: 0 })).ok.ok);
});

test('wrong passwords, other mailboxes, transport errors, expiry', async (t) => {
  const s = await server(t);
  const ad = await autodiscover(s.base + 443, 'bob@mail.example.test:bob password', 'bob@mail.example.test');
  const bobDn = /<LegacyDN>([^<]+)<\/LegacyDN>/.exec(ad)?.[1] ?? '';
  const bad = s.client('alice', 'wrong');
  const denied = await bad.call('emsmdb', 'Connect', new Uint8Array(0));
  t.is(denied.http.status, 401);
  bad.close();

  const c = s.client('alice');
  t.teardown(() => c.close());
  const aliceDn = (/<LegacyDN>([^<]+)<\/LegacyDN>/.exec(await autodiscover(s.base + 443, 'alice@mail.example.test:alice password', 'alice@mail.example.test')) ?? [])[1]!;
  const wrongDn = await c.call('emsmdb', 'Connect', new Uint8Array(0));
  t.is(wrongDn.http.headerResponseCode, 12, 'an empty Connect body is invalid');
  await c.connect(aliceDn);

  // Bob's mailbox: refused without a grant, opened (without owner rights) with one.
  t.is((await c.logon(bobDn)).returnValue, Ec.ecLoginPerm);
  t.is((await runCli(['--data', s.data, 'mailbox', 'grant', 'bob@mail.example.test', 'alice@mail.example.test'], env)).code, 0);
  const other = await c.logon(bobDn, { logonId: 1 });
  t.is(other.returnValue, 0);
  t.is(((other.response.ok as { responseFlags: number }).responseFlags & 0x02), 0, 'no owner right on a delegated mailbox');
  const own = await c.logon(aliceDn, { logonId: 0 });
  t.is(own.returnValue, 0);
  t.not(own.mailboxGuid && Buffer.from(own.mailboxGuid).toString('hex'), other.mailboxGuid && Buffer.from(other.mailboxGuid).toString('hex'));
  // A handle of one logon used under the other logon id is no object there.
  const cross = await c.execute([{ ropId: RopId.GetStoreState, logonId: 1, inputHandleIndex: 0 }] as never, [own.handle]);
  t.is(cross.responses[0]!.returnValue, Ec.ecNullObject);
  // Setting properties on a delegated logon is refused.
  const setp = await c.execute([{ ropId: RopId.SetProperties, logonId: 1, inputHandleIndex: 0, propertyValues: [{ tag: 0x3001001f, value: 'x' }] }] as never, [other.handle]);
  t.is(setp.responses[0]!.returnValue, Ec.ecAccessDenied);

  // Transport errors.
  const noType = await c.http.request({ endpoint: 'emsmdb', requestType: null, body: new Uint8Array(8) });
  t.is(noType.headerResponseCode, 7);
  const unknown = await c.http.request({ endpoint: 'emsmdb', requestType: 'Frobnicate', body: new Uint8Array(8) });
  t.is(unknown.headerResponseCode, 5);
  const garbage = await c.executeRaw(new Uint8Array([1, 2, 3]));
  t.is(garbage.http.headerResponseCode, 12);
  const noCookie = await c.http.request({ endpoint: 'emsmdb', requestType: 'Execute', body: new Uint8Array(24), noCookies: true });
  t.is(noCookie.headerResponseCode, 13);
  const reserved = await c.executeRaw(Buffer.from([0, 0, 4, 0, 4 + 4, 0, 4 + 4, 0, 7, 0, 0x0a, 0, 0xff, 0xff, 0xff, 0xff]));
  t.is(reserved.http.headerResponseCode, 0);
  t.is(reserved.response?.ok === true ? reserved.response.errorCode : -1, Ec.ecRpcFormat, 'a reserved RopId fails the Execute');

  // NotificationWait with nothing to tell ends after its wait; an Execute meanwhile still runs.
  const started = Date.now();
  const wait = c.notificationWait();
  const during = await c.execute([{ ropId: RopId.GetStoreState, logonId: 0, inputHandleIndex: 0 }] as never, [own.handle]);
  t.is(during.responses[0]!.returnValue, 0);
  const w = await wait;
  t.true(w.ok.ok && w.ok.eventPending === 0);
  t.true(Date.now() - started >= 4500, 'NotificationWait waited');
  t.true(w.http.metaTags.some((m) => m.tag === 'PROCESSING'));

  // Idle past the context lifetime: context not found, so the client reconnects.
  await new Promise((r) => setTimeout(r, 7000));
  const expired = await c.executeRaw(new Uint8Array(0));
  t.is(expired.http.headerResponseCode, 10);
});

test('RopBufferTooSmall within MaxRopOut, and compressed, obfuscated buffers both ways', async (t) => {
  const s = await server(t);
  const dn = (/<LegacyDN>([^<]+)<\/LegacyDN>/.exec(await autodiscover(s.base + 443, 'alice@mail.example.test:alice password', 'alice@mail.example.test')) ?? [])[1]!;
  const c = s.client('alice');
  t.teardown(() => c.close());
  await c.connect(dn);
  const logon = await c.logon(dn, { compress: true, xor: true });
  t.is(logon.returnValue, 0);
  t.true(logon.execute.buffers.every((b: { header: { flags: number } }) => (b.header.flags & 0x02) !== 0), 'the answer is obfuscated like the request');
  const many = Array.from({ length: 120 }, () => ({ ropId: RopId.GetPropertiesAll, logonId: 0, inputHandleIndex: 0, propertySizeLimit: 0, wantUnicode: 1 }));
  const ex = await c.execute(many as never, [logon.handle], { maxRopOut: 0x8008 });
  const last = ex.responses[ex.responses.length - 1]!;
  t.is(last.ropId, RopId.BufferTooSmall);
  t.true(ex.responses.length > 2 && ex.responses.length < 121);
  for (const r of ex.responses.slice(0, -1)) t.is(r.returnValue, 0);
  const rest = (last.ok as { requestBuffers: Uint8Array }).requestBuffers;
  t.is(rest.byteLength % 7, 0, 'the unprocessed requests come back whole');
  t.is(rest.byteLength / 7, 120 - (ex.responses.length - 1));
  const big = await c.execute(many.slice(0, 30) as never, [logon.handle], { maxRopOut: 0x40000, compress: true });
  t.is(big.responses.length, 30);
  t.true(big.buffers.some((b: { header: { flags: number } }) => (b.header.flags & 0x01) !== 0), 'a large answer is compressed');
});

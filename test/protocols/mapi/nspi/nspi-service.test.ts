/**
 * The address book service end to end over a real DirectoryStore, its bodies built and read by
 * the test client's own codecs (test/fixtures/mapi-client/nspi.ts, written separately from
 * MS-OXCMAPIHTTP), so both sides of each layout are checked against an independent reading.
 */
import test from 'ava';
import { DirectoryStore, type UserRecord } from '../../../../storage/directory-store.js';
import { NspiService, nspiErrorResponse, type NspiCaller, type NspiSession } from '../../../../protocols/mapi/nspi/nspi-service.js';
import { AbTag, NspiError } from '../../../../protocols/mapi/nspi/nspi-constants.js';
import { InvalidRequestBody } from '../../../../protocols/mapi/http/response-codes.js';
import * as C from '../../../fixtures/mapi-client/nspi.js';
import { openDirectory } from './directory-fixture.js';
import { hex, toHex } from '../hex.js';

const W = (tag: number) => ((tag & 0xffff0000) | 0x1f) >>> 0;
const A = (tag: number) => ((tag & 0xffff0000) | 0x1e) >>> 0;
const DISPLAY_W = W(AbTag.PidTagDisplayName);
const DISPLAY_A = A(AbTag.PidTagDisplayName);
const SMTP_W = W(AbTag.PidTagSmtpAddress);

interface World {
  svc: NspiService;
  directory: DirectoryStore;
  session: NspiSession;
  caller: NspiCaller;
  users: Record<string, UserRecord>;
  call<K extends keyof typeof C.NSPI_CODECS>(type: K, req: Parameters<(typeof C.NSPI_CODECS)[K]['encodeRequest']>[0]): Extract<ReturnType<(typeof C.NSPI_CODECS)[K]['decodeResponse']>, { ok: true }>;
}

async function world(t: { teardown(fn: () => unknown): void }): Promise<World> {
  const dir = openDirectory(t);
  await dir.addDomain('example.test');
  await dir.addDomain('other.test');
  const users: Record<string, UserRecord> = {};
  users.alice = await dir.addUser({ address: 'alice@example.test', displayName: 'Alice Anders' });
  users.albert = await dir.addUser({ address: 'albert@example.test', displayName: 'Albert Brown' });
  users.bob = await dir.addUser({ address: 'bob@example.test', displayName: 'Bob Carter' });
  users.carol = await dir.addUser({ address: 'carol@other.test', displayName: 'Carol Dürr' });
  users.dave = await dir.addUser({ address: 'dave@example.test', displayName: 'Dave Disabled' });
  await dir.addAlias('bob@example.test', 'robert@example.test');
  await dir.setEnabled('dave@example.test', false);
  await dir.addGroup('team@example.test', 'Team');
  await dir.setGroupMember('team@example.test', 'alice@example.test', true);
  await dir.setGroupMember('team@example.test', 'bob@example.test', true);
  const svc = new NspiService({ directory: dir, baseUrl: 'https://mail.example.test:8443', hostname: 'mail.example.test' });
  const caller = { userId: users.alice.id, address: users.alice.address };
  const bound = svc.bind(C.Bind.encodeRequest({ flags: 0, state: C.stat() }), caller);
  if (bound.session === null) throw new Error('bind failed');
  const session = bound.session;
  const call = ((type: keyof typeof C.NSPI_CODECS, req: unknown) => {
    const codec = C.NSPI_CODECS[type] as unknown as { encodeRequest(q: unknown): Uint8Array; decodeResponse(b: Uint8Array): { ok: boolean } };
    const out = codec.decodeResponse(svc.handle(type, codec.encodeRequest(req), session, caller));
    if (!out.ok) throw new Error(`${type}: StatusCode not 0`);
    return out;
  }) as World['call'];
  return { svc, directory: dir, session, caller, users, call };
}

function maps(rs: C.AbRowSet | undefined) {
  if (rs === undefined) throw new Error('no rows');
  return C.rowSetToMaps(rs);
}

test('Bind answers the server GUID and makes a session; a Unicode code page is refused without one', async (t) => {
  const w = await world(t);
  const ok = C.Bind.decodeResponse(w.svc.bind(C.Bind.encodeRequest({ flags: 0, state: C.stat() }), w.caller).body);
  t.true(ok.ok);
  if (!ok.ok) return;
  t.is(ok.errorCode, NspiError.Success);
  t.is(ok.serverGuid.byteLength, 16);
  const bad = w.svc.bind(C.Bind.encodeRequest({ flags: 0, state: C.stat({ codePage: 1200 }) }), w.caller);
  t.is(bad.session, null);
  const r = C.Bind.decodeResponse(bad.body);
  t.true(r.ok && r.errorCode === NspiError.InvalidCodepage);
  t.throws(() => w.svc.bind(hex('00000000'), w.caller), { instanceOf: InvalidRequestBody });
});

test('the address book flow: GetSpecialTable, QueryRows, ResolveNames, DNToMId, GetProps, SeekEntries, GetMatches, CompareMIds, UpdateStat', async (t) => {
  const w = await world(t);

  // GetSpecialTable: the GAL, then one container per domain.
  const hier = w.call('GetSpecialTable', { flags: 0x4, state: C.stat() });
  t.is(hier.errorCode, 0);
  const rows = (hier.rows ?? []).map(C.valueListToMap);
  t.deepEqual(
    rows.map((r) => r.get(DISPLAY_W)),
    ['Global Address List', 'example.test', 'other.test'],
  );
  t.is(rows[0].get(AbTag.PidTagAddressBookContainerId), 0);
  const otherContainer = rows[2].get(AbTag.PidTagAddressBookContainerId) as number;
  t.true(otherContainer >= 0x10);

  // QueryRows: the whole GAL in display name order; disabled users are left out; groups are DLs.
  const cols = [DISPLAY_W, SMTP_W, AbTag.PidTagDisplayType, AbTag.PidTagObjectType, AbTag.PidTagEntryId, W(AbTag.PidTagEmailAddress), AbTag.PidTagInstanceKey];
  const all = w.call('QueryRows', { flags: 0, state: C.stat(), explicitTable: [], rowCount: 50, columns: cols });
  t.is(all.errorCode, 0);
  const gal = maps(all.rowSet);
  t.deepEqual(
    gal.map((r) => r.get(DISPLAY_W)),
    ['Albert Brown', 'Alice Anders', 'Bob Carter', 'Carol Dürr', 'Team'],
  );
  t.deepEqual(
    gal.map((r) => r.get(AbTag.PidTagDisplayType)),
    [0, 0, 0, 0, 1],
  );
  t.deepEqual(
    gal.map((r) => r.get(AbTag.PidTagObjectType)),
    [6, 6, 6, 6, 8],
  );
  t.is(all.state?.currentRec, 2, 'at the end: MID_END_OF_TABLE');
  t.is(all.state?.numPos, 5);
  t.is(all.state?.totalRecs, 5);
  const mid = (i: number) => new DataView((gal[i].get(AbTag.PidTagInstanceKey) as Uint8Array).buffer).getUint32(0, true);
  const [albertMid, aliceMid, bobMid, carolMid, teamMid] = [0, 1, 2, 3, 4].map(mid);
  // The permanent entry id (MS-OXNSPI 2.2.9.3): IDType 0, R1-R3 0, the NSPI provider GUID,
  // R4 = 1, DisplayType, the legacy DN in ASCII with its null.
  t.is(toHex(gal[1].get(AbTag.PidTagEntryId) as Uint8Array), toHex(hex(`00000000 dca740c8c042101ab4b908002b2fe182 01000000 00000000 ${Buffer.from(w.users.alice.legacyDn + '\0', 'latin1').toString('hex')}`)));
  t.is(gal[1].get(W(AbTag.PidTagEmailAddress)), w.users.alice.legacyDn);

  // Paging: two rows, then the next two from the STAT the server answered.
  const p1 = w.call('QueryRows', { flags: 0, state: C.stat(), explicitTable: [], rowCount: 2, columns: [DISPLAY_W] });
  t.is(p1.state?.currentRec, bobMid);
  t.is(p1.state?.numPos, 2);
  const p2 = w.call('QueryRows', { flags: 0, state: p1.state, explicitTable: [], rowCount: 2, columns: [DISPLAY_W] });
  t.deepEqual(
    maps(p2.rowSet).map((r) => r.get(DISPLAY_W)),
    ['Bob Carter', 'Carol Dürr'],
  );
  // A domain container holds that domain's objects.
  const other = w.call('QueryRows', { flags: 0, state: C.stat({ containerId: otherContainer }), explicitTable: [], rowCount: 50, columns: [DISPLAY_W] });
  t.deepEqual(
    maps(other.rowSet).map((r) => r.get(DISPLAY_W)),
    ['Carol Dürr'],
  );
  // An explicit table answers those MIds in that order.
  const explicit = w.call('QueryRows', { flags: 0, state: C.stat(), explicitTable: [teamMid, albertMid], rowCount: 0, columns: [SMTP_W] });
  t.deepEqual(
    maps(explicit.rowSet).map((r) => r.get(SMTP_W)),
    ['team@example.test', 'albert@example.test'],
  );

  // ResolveNames: unique (address, alias), ambiguous (a prefix of two names), unresolved.
  const resolved = w.call('ResolveNames', { reserved: 0, state: C.stat(), propertyTags: [DISPLAY_W, SMTP_W], names: ['alice@example.test', 'al', 'nobody-here', 'robert', ''] });
  t.deepEqual(resolved.minimalIds, [aliceMid, 1, 0, bobMid, 0]);
  t.deepEqual(
    maps(resolved.rowSet).map((r) => r.get(SMTP_W)),
    ['alice@example.test', 'bob@example.test'],
  );

  // DNToMId.
  const dn = w.call('DNToMId', { reserved: 0, names: [w.users.bob.legacyDn.toUpperCase(), '/o=nowhere/cn=x'] });
  t.deepEqual(dn.minimalIds, [bobMid, 0]);

  // GetProps: Unicode and 8-bit forms; a property the object lacks comes back as PT_ERROR.
  const props = w.call('GetProps', { flags: 0, state: C.stat({ currentRec: carolMid }), propertyTags: [DISPLAY_W, DISPLAY_A, W(AbTag.PidTagTitle), AbTag.PidTagAddressBookProxyAddresses] });
  t.is(props.errorCode, NspiError.ErrorsReturned);
  const pv = C.valueListToMap(props.propertyValues ?? []);
  t.is(pv.get(DISPLAY_W), 'Carol Dürr');
  t.is(pv.get(DISPLAY_A), 'Carol D\u00fcrr', 'Windows-1252: ü is one byte 0xFC');
  t.is(pv.get(((AbTag.PidTagTitle & 0xffff0000) | 0x0a) >>> 0), NspiError.NotFound);
  t.deepEqual(pv.get(AbTag.PidTagAddressBookProxyAddresses), ['SMTP:carol@other.test']);
  // Without tags: every property the object has, strings 8-bit for a non-Unicode code page.
  const allProps = w.call('GetProps', { flags: 0, state: C.stat({ currentRec: bobMid }) });
  t.is(allProps.errorCode, 0);
  const ap = C.valueListToMap(allProps.propertyValues ?? []);
  t.is(ap.get(DISPLAY_A), 'Bob Carter');
  t.deepEqual(ap.get((A(AbTag.PidTagAddressBookProxyAddresses) | 0x1000) >>> 0), ['SMTP:bob@example.test', 'smtp:robert@example.test']);
  t.is(ap.get(A(AbTag.PidTagAddressType)), 'EX');
  // fEphID: the ephemeral entry id carries the MId (MS-OXNSPI 2.2.9.2).
  const eph = w.call('GetProps', { flags: 0x2, state: C.stat({ currentRec: bobMid }), propertyTags: [AbTag.PidTagEntryId] });
  const ephId = C.valueListToMap(eph.propertyValues ?? []).get(AbTag.PidTagEntryId) as Uint8Array;
  t.is(ephId[0], 0x87);
  t.is(new DataView(ephId.buffer, ephId.byteOffset).getUint32(28, true), bobMid);

  // SeekEntries: the first row at or after "B".
  const seek = w.call('SeekEntries', { reserved: 0, state: C.stat(), target: { tag: DISPLAY_W, value: 'B' }, columns: [DISPLAY_W] });
  t.is(seek.errorCode, 0);
  t.is(seek.state?.currentRec, bobMid);
  t.is(seek.state?.numPos, 2);
  t.is(maps(seek.rowSet)[0].get(DISPLAY_W), 'Bob Carter');

  // GetMatches: a content restriction (prefix, ignore case) and an ANR restriction.
  const byName = w.call('GetMatches', { reserved: 0, state: C.stat(), interfaceOptionFlags: 0, filter: C.contentRestriction(0x10002, DISPLAY_W, 'car'), rowCount: 50, columns: [SMTP_W] });
  t.is(byName.errorCode, 0);
  t.deepEqual(byName.minimalIds, [carolMid]);
  t.deepEqual(
    maps(byName.rowSet).map((r) => r.get(SMTP_W)),
    ['carol@other.test'],
  );
  const anr = w.call('GetMatches', { reserved: 0, state: C.stat(), interfaceOptionFlags: 0, filter: C.propertyRestriction(4, W(AbTag.PidTagAnr), 'al'), rowCount: 50 });
  t.deepEqual(anr.minimalIds, [albertMid, aliceMid]);
  const both = w.call('GetMatches', {
    reserved: 0,
    state: C.stat(),
    interfaceOptionFlags: 0,
    filter: C.andOrRestriction(false, [C.propertyRestriction(4, W(AbTag.PidTagAnr), 'al'), C.contentRestriction(0x10001, A(AbTag.PidTagSmtpAddress), 'ALICE')]),
    rowCount: 50,
  });
  t.deepEqual(both.minimalIds, [aliceMid], 'and of ANR and an 8-bit content restriction');
  const tooMany = w.call('GetMatches', { reserved: 0, state: C.stat(), interfaceOptionFlags: 0, filter: C.existRestriction(SMTP_W), rowCount: 2 });
  t.is(tooMany.errorCode, NspiError.TableTooBig);
  const members = w.call('GetMatches', { reserved: 0, state: C.stat({ currentRec: teamMid }), interfaceOptionFlags: 0, propertyName: { guid: new Uint8Array(16), id: 0x8009000d }, rowCount: 50 });
  t.deepEqual(members.minimalIds, [aliceMid, bobMid], 'a distribution list read through PidTagAddressBookMember');

  // CompareMIds: by position in the table.
  t.true(w.call('CompareMIds', { reserved: 0, state: C.stat(), minimalId1: aliceMid, minimalId2: carolMid }).result < 0);
  t.true(w.call('CompareMIds', { reserved: 0, state: C.stat(), minimalId1: teamMid, minimalId2: albertMid }).result > 0);
  t.is(w.call('CompareMIds', { reserved: 0, state: C.stat(), minimalId1: 0x7fffffff, minimalId2: albertMid }).errorCode, NspiError.GeneralFailure);

  // UpdateStat: moves by Delta from CurrentRec and reports the rows moved.
  const up = w.call('UpdateStat', { reserved: 0, state: C.stat({ currentRec: aliceMid, delta: 2 }), deltaRequested: true });
  t.is(up.state?.currentRec, carolMid);
  t.is(up.state?.numPos, 3);
  t.is(up.delta, 2);
  const back = w.call('UpdateStat', { reserved: 0, state: C.stat({ currentRec: aliceMid, delta: -10 }), deltaRequested: true });
  t.is(back.state?.currentRec, albertMid);
  t.is(back.delta, -1, 'clamped at the start of the table');
  const frac = w.call('UpdateStat', { reserved: 0, state: C.stat({ currentRec: 1, numPos: 50, totalRecs: 100 }), deltaRequested: false });
  t.is(frac.state?.numPos, 2, 'fractional positioning: half-way');
  t.is(frac.delta, undefined);

  // ResortRestriction: the MIds in display name order; unknown ones dropped.
  const resort = w.call('ResortRestriction', { reserved: 0, state: C.stat(), minimalIds: [teamMid, 0x7ffffff0, aliceMid, albertMid] });
  t.deepEqual(resort.minimalIds, [albertMid, aliceMid, teamMid]);
  t.is(resort.state?.totalRecs, 3);

  // MIds are stable for the session (and across sessions of this service).
  const again = w.call('DNToMId', { reserved: 0, names: [w.users.alice.legacyDn] });
  t.deepEqual(again.minimalIds, [aliceMid]);
});

test('PT_STRING8 follows the STAT code page; PT_UNICODE is always UTF-16', async (t) => {
  const w = await world(t);
  const carol = w.call('ResolveNames', { reserved: 0, state: C.stat(), names: ['carol'] }).minimalIds![0];
  const get = (codePage: number) => C.valueListToMap(w.call('GetProps', { flags: 0, state: C.stat({ currentRec: carol, codePage }), propertyTags: [DISPLAY_A, DISPLAY_W] }).propertyValues ?? []);
  t.is(get(1252).get(DISPLAY_A), 'Carol D\u00fcrr');
  t.is(get(65001).get(DISPLAY_A), Buffer.from('Carol Dürr', 'utf8').toString('latin1'), 'UTF-8 bytes');
  t.is(get(20127).get(DISPLAY_W), 'Carol Dürr');
  // An 8-bit restriction value is read in the code page too.
  const m = w.call('GetMatches', { reserved: 0, state: C.stat({ codePage: 65001 }), interfaceOptionFlags: 0, filter: C.contentRestriction(0x10001, DISPLAY_A, Buffer.from('dürr', 'utf8').toString('latin1')), rowCount: 10 });
  t.deepEqual(m.minimalIds, [carol]);
  // QueryColumns: the string columns typed as asked.
  const cols8 = w.call('QueryColumns', { reserved: 0, mapiFlags: 0 }).columns ?? [];
  const colsW = w.call('QueryColumns', { reserved: 0, mapiFlags: 0x80000000 }).columns ?? [];
  t.true(cols8.includes(DISPLAY_A) && !cols8.includes(DISPLAY_W));
  t.true(colsW.includes(DISPLAY_W) && !colsW.includes(DISPLAY_A));
  // GetPropList types strings by its CodePage field.
  t.true((w.call('GetPropList', { flags: 0, minimalId: carol, codePage: 1252 }).propertyTags ?? []).includes(DISPLAY_A));
  t.true((w.call('GetPropList', { flags: 0, minimalId: carol, codePage: 1200 }).propertyTags ?? []).includes(DISPLAY_W));
});

test('URLs, refused modifications, templates, Unbind, unknown request types', async (t) => {
  const w = await world(t);
  t.is(w.call('GetMailboxUrl', { flags: 0, serverDn: '/o=Stoa/cn=Servers/cn=x' }).serverUrl, 'https://mail.example.test:8443/mapi/emsmdb/');
  t.is(w.call('GetAddressBookUrl', { flags: 0, userDn: w.users.alice.legacyDn }).serverUrl, 'https://mail.example.test:8443/mapi/nspi/');
  t.is(w.call('ModProps', { reserved: 0, state: C.stat(), propertyValues: [{ tag: DISPLAY_W, value: 'x' }] }).errorCode, NspiError.AccessDenied);
  t.is(w.call('ModLinkAtt', { flags: 0, propertyTag: 0x8009000d, minimalId: 0x10, entryIds: [] }).errorCode, NspiError.AccessDenied);
  t.is(w.call('GetTemplateInfo', { flags: 1, displayType: 0, codePage: 1252, localeId: 0x409 }).errorCode, NspiError.NotFound);
  t.is(w.call('GetSpecialTable', { flags: 0x2, state: C.stat() }).rows?.length, 0, 'no address creation templates');
  t.is(w.call('Unbind', { reserved: 0 }).errorCode, NspiError.UnbindSuccess);
  t.throws(() => w.svc.handle('Frobnicate', new Uint8Array(8), w.session, w.caller), { instanceOf: InvalidRequestBody });
  t.true(NspiService.requestTypes.has('GetAddressBookUrl') && NspiService.requestTypes.size === 19);

  // The mailbox URL hook.
  const svc = new NspiService({ directory: w.directory, baseUrl: 'https://h', hostname: 'h', mailboxUrlFor: (u) => `https://h/mapi/emsmdb/?MailboxId=${u.id}@example.test` });
  const body = svc.handle('GetMailboxUrl', C.GetMailboxUrl.encodeRequest({ flags: 0, serverDn: '' }), w.session, w.caller);
  const r = C.GetMailboxUrl.decodeResponse(body);
  t.true(r.ok && r.serverUrl === `https://h/mapi/emsmdb/?MailboxId=${w.users.alice.id}@example.test`);
});

test('error-only responses of every type are well-formed (what the service answers when the engine fails)', (t) => {
  for (const type of NspiService.requestTypes) {
    if (type === 'Bind') continue;
    const codec = C.NSPI_CODECS[type as keyof typeof C.NSPI_CODECS] as unknown as { decodeResponse(b: Uint8Array): { ok: boolean; errorCode?: number } };
    const r = codec.decodeResponse(nspiErrorResponse(type as Parameters<typeof nspiErrorResponse>[0], NspiError.GeneralFailure));
    t.true(r.ok, type);
    t.is(r.errorCode, NspiError.GeneralFailure, type);
  }
});

test('profile fields from the directory in PT_UNICODE and PT_STRING8; a hidden user is in no list nor resolution but still read by DN', async (t) => {
  const w = await world(t);
  await w.directory.setProfile('carol@other.test', { title: 'Directrice', department: 'Qualité', office: 'B 2.14', phone: '+33 1 23', mobile: '+33 6 45', company: 'Other SA', givenName: 'Carol', surname: 'Dürr' });
  const fields: [number, string][] = [
    [AbTag.PidTagTitle, 'Directrice'],
    [AbTag.PidTagDepartmentName, 'Qualité'],
    [AbTag.PidTagOfficeLocation, 'B 2.14'],
    [AbTag.PidTagBusinessTelephoneNumber, '+33 1 23'],
    [AbTag.PidTagPrimaryTelephoneNumber, '+33 1 23'],
    [AbTag.PidTagMobileTelephoneNumber, '+33 6 45'],
    [AbTag.PidTagCompanyName, 'Other SA'],
    [AbTag.PidTagGivenName, 'Carol'],
    [AbTag.PidTagSurname, 'Dürr'],
  ];
  t.deepEqual(
    fields.map(([tag]) => tag >>> 16),
    [0x3a17, 0x3a18, 0x3a19, 0x3a08, 0x3a1a, 0x3a1c, 0x3a16, 0x3a06, 0x3a11],
  );
  const carol = w.call('ResolveNames', { reserved: 0, state: C.stat(), names: ['carol'] }).minimalIds![0]!;
  const props = w.call('GetProps', { flags: 0, state: C.stat({ currentRec: carol }), propertyTags: [...fields.map(([tag]) => W(tag)), ...fields.map(([tag]) => A(tag))] });
  t.is(props.errorCode, NspiError.Success);
  const pv = C.valueListToMap(props.propertyValues ?? []);
  for (const [tag, value] of fields) {
    t.is(pv.get(W(tag)), value, `PT_UNICODE ${tag.toString(16)}`);
    // The test client reads 8-bit strings as Latin-1: Windows-1252's é and ü are the same bytes.
    t.is(pv.get(A(tag)), value, `PT_STRING8 ${tag.toString(16)} in Windows-1252`);
  }
  t.is(pv.get(A(AbTag.PidTagDepartmentName)), 'Qualit\u00e9');
  // As table columns too, and a restriction on one.
  const rows = maps(w.call('QueryRows', { flags: 0, state: C.stat(), explicitTable: [], rowCount: 50, columns: [DISPLAY_W, W(AbTag.PidTagTitle), A(AbTag.PidTagCompanyName)] }).rowSet);
  const carolRow = rows.find((r) => r.get(DISPLAY_W) === 'Carol Dürr')!;
  t.is(carolRow.get(W(AbTag.PidTagTitle)), 'Directrice');
  t.is(carolRow.get(A(AbTag.PidTagCompanyName)), 'Other SA');
  t.deepEqual(rows.find((r) => r.get(DISPLAY_W) === 'Bob Carter')!.get(W(AbTag.PidTagTitle)), { error: NspiError.NotFound }, 'no title: not found');
  const byDept = w.call('GetMatches', { reserved: 0, state: C.stat(), interfaceOptionFlags: 0, filter: C.contentRestriction(0x10001, W(AbTag.PidTagDepartmentName), 'qualité'), rowCount: 50 });
  t.deepEqual(byDept.minimalIds, [carol]);
  const colsW = w.call('QueryColumns', { reserved: 0, mapiFlags: 0x80000000 }).columns ?? [];
  t.true([AbTag.PidTagGivenName, AbTag.PidTagSurname, AbTag.PidTagMobileTelephoneNumber].every((tag) => colsW.includes(W(tag))));

  // Bob hidden: out of the GAL, his domain's container, ResolveNames / ANR and GetMatches.
  const gal0 = maps(w.call('QueryRows', { flags: 0, state: C.stat(), explicitTable: [], rowCount: 50, columns: [DISPLAY_W, AbTag.PidTagInstanceKey] }).rowSet);
  const bobMid = new DataView((gal0.find((r) => r.get(DISPLAY_W) === 'Bob Carter')!.get(AbTag.PidTagInstanceKey) as Uint8Array).buffer).getUint32(0, true);
  await w.directory.setHidden('bob@example.test', true);
  const gal = w.call('QueryRows', { flags: 0, state: C.stat(), explicitTable: [], rowCount: 50, columns: [DISPLAY_W] });
  t.deepEqual(
    maps(gal.rowSet).map((r) => r.get(DISPLAY_W)),
    ['Albert Brown', 'Alice Anders', 'Carol Dürr', 'Team'],
  );
  t.is(gal.state?.totalRecs, 4);
  const special = (w.call('GetSpecialTable', { flags: 0x4, state: C.stat() }).rows ?? []).map(C.valueListToMap);
  const exampleContainer = special.find((r) => r.get(DISPLAY_W) === 'example.test')!.get(AbTag.PidTagAddressBookContainerId) as number;
  t.deepEqual(
    maps(w.call('QueryRows', { flags: 0, state: C.stat({ containerId: exampleContainer }), explicitTable: [], rowCount: 50, columns: [DISPLAY_W] }).rowSet).map((r) => r.get(DISPLAY_W)),
    ['Albert Brown', 'Alice Anders', 'Team'],
  );
  const resolved = w.call('ResolveNames', { reserved: 0, state: C.stat(), propertyTags: [SMTP_W], names: ['bob@example.test', 'robert', 'Bob Carter', 'bob'] });
  t.deepEqual(resolved.minimalIds, [0, 0, 0, 0], 'unresolved by address, alias, display name and account');
  t.deepEqual(w.call('GetMatches', { reserved: 0, state: C.stat(), interfaceOptionFlags: 0, filter: C.propertyRestriction(4, W(AbTag.PidTagAnr), 'bob'), rowCount: 50 }).minimalIds, []);
  t.deepEqual(w.call('GetMatches', { reserved: 0, state: C.stat(), interfaceOptionFlags: 0, filter: C.contentRestriction(0x10002, DISPLAY_W, 'bob'), rowCount: 50 }).minimalIds, []);
  const seek = w.call('SeekEntries', { reserved: 0, state: C.stat(), target: { tag: DISPLAY_W, value: 'B' }, columns: [DISPLAY_W] });
  t.is(maps(seek.rowSet)[0]!.get(DISPLAY_W), 'Carol Dürr', 'SeekEntries passes over him');
  // Addressed by legacy DN (a message's sender or recipient), he still resolves and reads.
  t.deepEqual(w.call('DNToMId', { reserved: 0, names: [w.users.bob.legacyDn] }).minimalIds, [bobMid]);
  const bobProps = C.valueListToMap(w.call('GetProps', { flags: 0, state: C.stat({ currentRec: bobMid }), propertyTags: [SMTP_W] }).propertyValues ?? []);
  t.is(bobProps.get(SMTP_W), 'bob@example.test');
  // Shown again: back in the lists.
  await w.directory.setHidden('bob@example.test', false);
  t.deepEqual(w.call('ResolveNames', { reserved: 0, state: C.stat(), names: ['robert'] }).minimalIds, [bobMid]);
});

/**
 * Fuzz: valid bodies of every address book request type, mutated thousands of times, go through
 * the service. Only InvalidRequestBody may escape; every answer is a well-formed response body
 * (the test client's strict decoder reads it whole); time and memory stay bounded.
 */
import test from 'ava';
import { NspiService } from '../../../../protocols/mapi/nspi/nspi-service.js';
import { InvalidRequestBody } from '../../../../protocols/mapi/http/response-codes.js';
import * as C from '../../../fixtures/mapi-client/nspi.js';
import { rng } from '../../../helpers.js';
import { openDirectory } from './directory-fixture.js';

function mutate(g: () => number, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  const n = 1 + Math.floor(g() * 6);
  for (let i = 0; i < n; i++) {
    const op = Math.floor(g() * 5);
    const at = Math.floor(g() * (b.length + 1));
    if (op === 0 && b.length) b[at % b.length] = Math.floor(g() * 256);
    else if (op === 1) b.splice(at, 0, Math.floor(g() * 256));
    else if (op === 2 && b.length) b.splice(at % b.length, 1);
    else if (op === 3 && b.length) b[at % b.length] ^= 1 << Math.floor(g() * 8);
    else if (b.length >= 4) {
      // A count-sized field set to a large value.
      const p = at % (b.length - 3);
      b[p] = 0xff;
      b[p + 1] = 0xff;
      b[p + 2] = Math.floor(g() * 256);
      b[p + 3] = g() < 0.5 ? 0 : 0x7f;
    }
  }
  return Uint8Array.from(b);
}

const ITER_PER_TYPE = 1500;

test('fuzz: mutated bodies of every request type answer a well-formed body or InvalidRequestBody', async (t) => {
  const dir = openDirectory(t);
  await dir.addDomain('example.test');
  for (let i = 0; i < 12; i++) await dir.addUser({ address: `user${i}@example.test`, displayName: `User ${String.fromCharCode(65 + i)} Number${i}` });
  await dir.addGroup('all@example.test', 'Everyone');
  await dir.setGroupMember('all@example.test', 'user1@example.test', true);
  const svc = new NspiService({ directory: dir, baseUrl: 'https://h', hostname: 'h' });
  const caller = { userId: dir.users()[0].id, address: 'user0@example.test' };
  const session = svc.bind(C.Bind.encodeRequest({ flags: 0, state: C.stat() }), caller).session!;
  const cols = [0x3001001f, 0x3001001e, 0x0fff0102, 0x39000003, 0x800f101f, 0x0ff60102, 0x3a170000];
  const filter = C.andOrRestriction(true, [C.contentRestriction(0x10002, 0x3001001f, 'user'), C.propertyRestriction(4, 0x360c001f, 'us'), C.existRestriction(0x39fe001f)]);
  const seeds: { [K in keyof typeof C.NSPI_CODECS]: Parameters<(typeof C.NSPI_CODECS)[K]['encodeRequest']>[0] } = {
    Bind: { flags: 0, state: C.stat() },
    Unbind: { reserved: 0 },
    CompareMIds: { reserved: 0, state: C.stat(), minimalId1: 0x10, minimalId2: 0x11 },
    DNToMId: { reserved: 0, names: [dir.users()[1].legacyDn, '/o=x'] },
    GetMatches: { reserved: 0, state: C.stat(), interfaceOptionFlags: 0, filter, rowCount: 50, columns: cols },
    GetPropList: { flags: 0, minimalId: 0x11, codePage: 1252 },
    GetProps: { flags: 2, state: C.stat({ currentRec: 0x12 }), propertyTags: cols },
    GetSpecialTable: { flags: 4, state: C.stat(), version: 1 },
    GetTemplateInfo: { flags: 1, displayType: 0, templateDn: '/o=x', codePage: 1252, localeId: 0x409 },
    ModLinkAtt: { flags: 0, propertyTag: 0x8009000d, minimalId: 0x10, entryIds: [Uint8Array.of(1, 2, 3)] },
    ModProps: { reserved: 0, state: C.stat(), propertyTagsToRemove: [0x3a170000], propertyValues: [{ tag: 0x3001001f, value: 'x' }] },
    QueryColumns: { reserved: 0, mapiFlags: 0x80000000 },
    QueryRows: { flags: 0, state: C.stat(), explicitTable: [0x10, 0x11], rowCount: 20, columns: cols },
    ResolveNames: { reserved: 0, state: C.stat(), propertyTags: cols, names: ['user1', 'user', 'zz'] },
    ResortRestriction: { reserved: 0, state: C.stat(), minimalIds: [0x12, 0x10, 0x11] },
    SeekEntries: { reserved: 0, state: C.stat(), target: { tag: 0x3001001f, value: 'User C' }, explicitTable: [0x10, 0x11, 0x12], columns: cols },
    UpdateStat: { reserved: 0, state: C.stat({ currentRec: 0x11, delta: 3 }), deltaRequested: true },
    GetMailboxUrl: { flags: 0, serverDn: '/o=x/cn=y' },
    GetAddressBookUrl: { flags: 0, userDn: '/o=x/cn=y' },
  };
  const g = rng(4242);
  const started = Date.now();
  let answered = 0;
  let refused = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  for (const [type, req] of Object.entries(seeds)) {
    const codec = C.NSPI_CODECS[type as keyof typeof C.NSPI_CODECS] as unknown as { encodeRequest(q: unknown): Uint8Array; decodeResponse(b: Uint8Array): { ok: boolean } };
    const seed = codec.encodeRequest(req);
    for (let i = 0; i < ITER_PER_TYPE; i++) {
      const body = i === 0 ? seed : mutate(g, seed);
      let out: Uint8Array;
      try {
        out = type === 'Bind' ? svc.bind(body, caller).body : svc.handle(type, body, session, caller);
      } catch (err) {
        if (!(err instanceof InvalidRequestBody)) {
          t.fail(`${type}: ${String(err)} on ${Buffer.from(body).toString('hex')}`);
          return;
        }
        refused++;
        continue;
      }
      answered++;
      try {
        const resp = codec.decodeResponse(out) as { ok: boolean; errorCode?: number };
        if (!resp.ok) throw new Error('StatusCode not 0');
        // GeneralFailure is what the service answers when the engine throws: a bug, except
        // CompareMIds, where MS-OXNSPI asks for it on MIds outside the table.
        if (resp.errorCode === 0x80004005 && type !== 'CompareMIds') throw new Error('the engine threw');
      } catch (err) {
        t.fail(`${type}: response does not decode: ${String(err)} for ${Buffer.from(body).toString('hex')}`);
        return;
      }
    }
  }
  const ms = Date.now() - started;
  t.log(`${answered} answered, ${refused} refused in ${ms} ms`);
  t.true(answered > 1000 && refused > 1000, 'both outcomes are exercised');
  t.true(ms < 60_000, 'bounded time');
  t.true(process.memoryUsage().heapUsed - heapBefore < 512 * 1024 * 1024, 'bounded memory');
});

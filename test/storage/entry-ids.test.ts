import test from 'ava';
import { EntryIdType, folderEntryId, gid, messageEntryId, parseEntryId, parsePcl, pclWithChange, serializePcl, storeEntryId } from '../../storage/entry-ids.js';

const hex = (s: string) => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

test('folder entry id matches the specification example byte for byte (MS-OXODLGT 4.1.1)', (t) => {
  // PidTagIpmAppointmentEntryId from the spec's example, 46 bytes.
  const golden = hex('00000000 | C3E178579652CE46A353B3E07F9B97BC | 0100 | 8B8DB182AF2ED048934707ED5448840F | 00174EA89C98 | 0000');
  const built = folderEntryId(hex('C3E178579652CE46A353B3E07F9B97BC'), hex('8B8DB182AF2ED048934707ED5448840F'), 0x00174ea89c98);
  t.is(built.toString('hex'), golden.toString('hex'));
  t.is(built.length, 46);
  const p = parseEntryId(golden);
  t.is(p?.kind, 'folder');
  if (p?.kind === 'folder') {
    t.is(p.globcnt, 0x00174ea89c98);
    t.is(p.type, EntryIdType.PrivateFolder);
    t.is(p.replGuid.toString('hex'), '8b8db182af2ed048934707ed5448840f');
  }
});

test('message entry ids are 70 bytes with the folder GID then the message GID', (t) => {
  const mbx = hex('C3E178579652CE46A353B3E07F9B97BC');
  const repl = hex('8B8DB182AF2ED048934707ED5448840F');
  const e = messageEntryId(mbx, repl, 0x10, repl, 0x123456);
  t.is(e.length, 70);
  t.is(e.toString('hex'), '00000000' + mbx.toString('hex') + '0700' + repl.toString('hex') + '000000000010' + '0000' + repl.toString('hex') + '000000123456' + '0000');
  const p = parseEntryId(e);
  t.deepEqual(p?.kind === 'message' ? [p.folderGlobcnt, p.globcnt, p.type] : null, [0x10, 0x123456, EntryIdType.PrivateMessage]);
});

test('store entry id carries the EMSMDB wrapping, server name and mailbox DN', (t) => {
  const dn = '/o=Stoa/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice';
  const e = storeEntryId({ serverShortname: 'mail', mailboxDn: dn });
  t.is(e.subarray(0, 60).toString('hex'), '00000000' + '38a1bb1005e5101aa1bb08002b2a56c2' + '00' + '00' + '454d534d44422e444c4c00000000' + '00000000' + '1b55fa20aa6611cd9bc800aa002fc45a' + '0c000000');
  t.is(e.subarray(60).toString('latin1'), `mail\0${dn}\0`);
  t.deepEqual(parseEntryId(e), { kind: 'store', public: false, serverShortname: 'mail', mailboxDn: dn });
  const pub = storeEntryId({ serverShortname: 'mail', public: true });
  t.deepEqual(parseEntryId(pub), { kind: 'store', public: true, serverShortname: 'mail', mailboxDn: '' });
  t.is(pub.readUInt32LE(56), 0x06);
  t.throws(() => storeEntryId({ serverShortname: 'mäil' }));
});

test('garbage is not an entry id', (t) => {
  for (const b of [Buffer.alloc(0), Buffer.alloc(46, 1), Buffer.concat([Buffer.alloc(4, 1), Buffer.alloc(42)]), Buffer.alloc(45), Buffer.alloc(71)]) t.is(parseEntryId(b), null);
  const f = folderEntryId(Buffer.alloc(16, 1), Buffer.alloc(16, 2), 5);
  t.is(parseEntryId(f.subarray(0, 45)), null, 'truncated');
});

test('source keys are GIDs; PCLs keep one XID per namespace, sorted, size-prefixed', (t) => {
  const a = Buffer.alloc(16, 0xaa);
  const b = Buffer.alloc(16, 0x11);
  t.is(gid(a, 0x0102).toString('hex'), 'aa'.repeat(16) + '000000000102');
  const pcl = serializePcl([gid(a, 5), gid(b, 9), gid(a, 7)]);
  t.is(pcl.toString('hex'), '16' + gid(b, 9).toString('hex') + '16' + gid(a, 7).toString('hex'), 'sorted by GUID, greatest change per namespace');
  t.deepEqual(parsePcl(pcl)?.map((x) => x.toString('hex')), [gid(b, 9).toString('hex'), gid(a, 7).toString('hex')]);
  t.is(pclWithChange(pcl, gid(a, 8)).toString('hex'), pcl.toString('hex').replace(gid(a, 7).toString('hex'), gid(a, 8).toString('hex')));
  t.is(pclWithChange(undefined, gid(a, 1)).toString('hex'), '16' + gid(a, 1).toString('hex'));
  t.is(parsePcl(Buffer.from([0x16, 1, 2])), null);
});

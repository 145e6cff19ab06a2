/** Every ROP codec by RopId (MS-OXCROPS 2.2.2), grouped by spec document in ./oxc*.ts. */
import type { RopCodec } from './rop.js';
import { ROPS as STOR } from './oxcstor.js';
import { ROPS as FOLD } from './oxcfold.js';
import { ROPS as MSG } from './oxcmsg.js';
import { ROPS as PRPT } from './oxcprpt.js';
import { ROPS as TABL } from './oxctabl.js';
import { ROPS as NOTIF } from './oxcnotif.js';
import { ROPS as PERM } from './oxcperm.js';
import { ROPS as RULE } from './oxorule.js';
import { ROPS as OMSG } from './oxomsg.js';
import { ROPS as FXICS } from './oxcfxics.js';
import { ROPS as CROPS } from './oxcrops.js';

/** A codec with its field types erased (dispatch by RopId). */
export type AnyRopCodec = RopCodec;

const ALL: readonly AnyRopCodec[] = [...STOR, ...FOLD, ...MSG, ...PRPT, ...TABL, ...NOTIF, ...PERM, ...RULE, ...OMSG, ...FXICS, ...CROPS] as unknown as AnyRopCodec[];

const BY_ID: (AnyRopCodec | undefined)[] = new Array(256);
for (const c of ALL) {
  if (BY_ID[c.id] !== undefined) throw new Error(`RopId 0x${c.id.toString(16)} defined twice`);
  BY_ID[c.id] = c;
}

export function codecFor(ropId: number): AnyRopCodec | undefined {
  return BY_ID[ropId & 0xff];
}

export function allCodecs(): readonly AnyRopCodec[] {
  return ALL;
}

/** Client address lists from config ("127.0.0.1,::1,10.0.0.0/8"), for access rules such as /metrics. */
import { BlockList, isIP } from 'node:net';

/** '::ffff:127.0.0.1' (an IPv4 client on a dual-stack socket) → '127.0.0.1'. */
export function plainAddress(addr: string | undefined): string {
  if (addr === undefined) return '';
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
}

/** Parses a comma-separated list of addresses and CIDR ranges; throws naming the bad entry. */
export function parseAllowList(text: string): BlockList {
  const list = new BlockList();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    const addr = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(addr);
    if (family === 0) throw new Error(`not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) list.addAddress(addr, type);
    else {
      const bits = Number(entry.slice(slash + 1));
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) throw new Error(`bad prefix length in ${JSON.stringify(entry)}`);
      list.addSubnet(addr, bits, type);
    }
  }
  return list;
}

export function allowed(list: BlockList, addr: string): boolean {
  const family = isIP(addr);
  return family !== 0 && list.check(addr, family === 4 ? 'ipv4' : 'ipv6');
}

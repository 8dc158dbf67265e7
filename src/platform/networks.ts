import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** A set of addresses/CIDRs (TRUSTED_PROXIES, ADMIN_ALLOWED_NETWORKS, METRICS_ALLOWED_NETWORKS). */
export class Networks {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries) {
      const [addr, bits] = entry.split('/') as [string, string | undefined];
      const type = isIPv4(addr) ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(addr, type);
      else this.list.addSubnet(addr, Number(bits), type);
    }
  }

  has(ip: string | undefined): boolean {
    if (!ip) return false;
    // IPv4-mapped IPv6 (::ffff:127.0.0.1) is checked as the IPv4 address it is.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    const addr = mapped ? mapped[1]! : ip;
    if (isIPv4(addr)) return this.list.check(addr, 'ipv4');
    if (isIPv6(addr)) return this.list.check(addr, 'ipv6');
    return false;
  }
}

/**
 * Rule `rateLimitKeyPerSlash64` (ATTACKS #22): the key `STS_RATE_LIMITER` counts a client under.
 *
 * An IPv4 client is its address. An IPv6 host is handed a whole /64 and can rotate through 2^64
 * addresses, so a per-address key limits nothing: IPv6 clients are keyed by their /64 prefix.
 * An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is the IPv4 client it maps. Anything that is
 * not an IP address shares one key, so a malformed value cannot mint fresh budgets either.
 */
export function rateLimitKey(clientIp: string | undefined): string {
  if (clientIp === undefined) return "unknown";
  if (IPV4.test(clientIp)) return clientIp;
  const groups = ipv6Groups(clientIp);
  if (groups === undefined) return "unknown";
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEXTET = /^[0-9a-f]{1,4}$/i;

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a dotted IPv4 tail read), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  const address = text.replace(/%.*$/, ""); // a zone index (`fe80::1%eth0`) names no other host
  let parts = address.split(":");
  const last = parts[parts.length - 1]!;
  if (IPV4.test(last)) {
    const [a, b, c, d] = last.split(".").map(Number) as [number, number, number, number];
    parts = [...parts.slice(0, -1), ((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
  }
  const gap = address.indexOf("::");
  if (gap !== address.lastIndexOf("::")) return undefined;
  if (gap !== -1) {
    const [head, tail] = parts.join(":").split("::") as [string, string];
    const left = head === "" ? [] : head.split(":");
    const right = tail === "" ? [] : tail.split(":");
    const missing = 8 - left.length - right.length;
    if (missing < 1) return undefined;
    parts = [...left, ...Array<string>(missing).fill("0"), ...right];
  }
  if (parts.length !== 8 || !parts.every((p) => HEXTET.test(p))) return undefined;
  return parts.map((p) => Number.parseInt(p, 16));
}

import ipaddr from 'ipaddr.js';

/** Names that only mean something inside a network, never a customer's public server. */
const INTERNAL_NAME = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|corp)$/i;

/**
 * Why a URL the platform will fetch for a customer (a webhook, an image for a vision model) is not
 * one it may fetch, or null: it must be https to the public internet — no loopback, private,
 * link-local, carrier-NAT or otherwise reserved address, no internal host name, no credentials.
 * Otherwise a customer could make the platform call its own private services (SSRF), such as a GPU
 * host's cloud metadata endpoint. The WHATWG parser has already normalised odd IPv4 spellings
 * (`2130706433`, `0x7f.1`) to dotted form by the time this looks.
 */
export function publicUrlProblem(raw: string, options: { allowPrivate: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (options.allowPrivate) {
    return url.protocol === 'https:' || url.protocol === 'http:' ? null : 'must be an http(s) URL';
  }
  if (url.protocol !== 'https:') return 'must use https';
  // `localhost.` and `db.internal.` are the same names as without the final dot.
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  if (ipaddr.isValid(host)) {
    let address = ipaddr.parse(host);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    return address.range() === 'unicast' ? null : `must not point at a ${address.range()} address`;
  }
  if (!host.includes('.') || INTERNAL_NAME.test(host)) return 'must name a public host';
  return null;
}

import ipaddr from 'ipaddr.js';
import { InvalidRequestError } from '../errors.ts';

/** Names that only mean something inside a network, never a customer's public server. */
const INTERNAL_NAME = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|corp)$/i;

/**
 * A webhook URL must point at the public internet: no loopback, private, link-local, carrier-NAT or
 * otherwise reserved address, no internal host name, and https. Otherwise a customer could make the
 * platform call its own private services (SSRF). The WHATWG parser has already normalised odd IPv4
 * spellings (`2130706433`, `0x7f.1`) to dotted form by the time this looks.
 */
export function checkWebhookTarget(raw: string, options: { allowPrivate: boolean }): string {
  const refuse = (why: string) => new InvalidRequestError(`webhook: ${why}`, { param: 'webhook' });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('must be an absolute URL');
  }
  if (url.username || url.password) throw refuse('must not carry credentials');
  if (raw.length > 2048) throw refuse('must be at most 2048 characters');
  if (options.allowPrivate) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must be an http(s) URL');
    return url.toString();
  }
  if (url.protocol !== 'https:') throw refuse('must use https');
  // `localhost.` and `db.internal.` are the same names as without the final dot.
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  if (ipaddr.isValid(host)) {
    let address = ipaddr.parse(host);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    if (address.range() !== 'unicast') throw refuse(`must not point at a ${address.range()} address`);
    return url.toString();
  }
  if (!host.includes('.') || INTERNAL_NAME.test(host)) throw refuse('must name a public host');
  return url.toString();
}

// Owns the SSRF check of client-chosen push endpoints: https, a host name (no IP literal), every resolved address public.
import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

export interface CheckedEndpoint {
  url: URL
  /** The address checked; the request is pinned to it, so a second DNS answer cannot point elsewhere. */
  address: string
  family: 4 | 6
}

export type Resolver = (host: string) => Promise<Array<{ address: string, family: number }>>

const MAX_ENDPOINT_LENGTH = 1024

export class EndpointRefused extends Error {}

/** Loopback, private, link-local, shared, documentation, multicast and reserved ranges: never a push service. */
function nonPublicRanges (): BlockList {
  const list = new BlockList()
  for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
    ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
    ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) list.addSubnet(net, prefix, 'ipv4')
  for (const [net, prefix] of [['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64],
    ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8]] as const) list.addSubnet(net, prefix, 'ipv6')
  return list
}

export function isPublicAddress (address: string): boolean {
  const family = isIP(address)
  if (family === 0) return false
  // IPv4-mapped IPv6 is judged as the IPv4 address it carries. (Not as a BlockList range: BlockList matches IPv4
  // addresses against mapped IPv6 rules too, so ::ffff:0:0/96 would refuse every IPv4 address.)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return isPublicAddress(mapped[1] as string)
  if (/^::ffff:/i.test(address)) return false
  return !nonPublicRanges().check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/**
 * Refuses (EndpointRefused) an endpoint the server must not call; run at subscribe time and again before every send,
 * since DNS can change in between. allowInsecure (tests only) admits http and loopback.
 */
export async function checkPushEndpoint (endpoint: string, options: { allowInsecure: boolean, resolve?: Resolver }): Promise<CheckedEndpoint> {
  if (endpoint.length > MAX_ENDPOINT_LENGTH) throw new EndpointRefused('The endpoint is too long')
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new EndpointRefused('The endpoint is not a URL')
  }
  if (url.username !== '' || url.password !== '') throw new EndpointRefused('The endpoint may not carry credentials')
  const insecure = options.allowInsecure
  if (url.protocol !== 'https:' && !(insecure && url.protocol === 'http:')) throw new EndpointRefused('The endpoint must be https')
  if (!insecure && url.port !== '') throw new EndpointRefused('The endpoint must use the default https port')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0) {
    if (!insecure) throw new EndpointRefused('The endpoint must name a host, not an IP address')
    return { url, address: host, family: isIP(host) as 4 | 6 }
  }
  const resolve = options.resolve ?? (async (name: string) => await lookup(name, { all: true, verbatim: true }))
  let addresses: Array<{ address: string, family: number }>
  try {
    addresses = await resolve(host)
  } catch {
    throw new EndpointRefused('The endpoint host does not resolve')
  }
  if (addresses.length === 0) throw new EndpointRefused('The endpoint host does not resolve')
  // Every answer must be public: a name with one public and one private address could be steered to the private one.
  if (!insecure && !addresses.every((a) => isPublicAddress(a.address))) {
    throw new EndpointRefused('The endpoint host resolves to a private, loopback or link-local address')
  }
  const first = addresses[0] as { address: string, family: number }
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 }
}

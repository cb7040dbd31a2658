// Where a webhook may be sent (no server-side request forgery): http(s) only, and unless the operator allows
// it (WEBHOOK_ALLOW_PRIVATE=true), never to a private, loopback, link-local, unique-local, multicast or
// otherwise special address. The hostname is resolved and EVERY address checked, at registration and again
// before each delivery pass (a name that later resolves to 127.0.0.1, DNS rebinding, is refused then).
import { lookup as lookupCallback, type LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { DomainError } from "../domain/errors.js";

const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const)
  blocked.addSubnet(net, prefix, "ipv6");

/** True for an address no webhook may reach by default. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, "ipv4");
    if (/^::ffff:/i.test(address)) return true; // other IPv4-mapped spellings: refuse rather than parse
    return blocked.check(address, "ipv6");
  }
  return true;
}

/** A webhook URL as we store it, or `invalid_request`. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DomainError("invalid_request", "url is not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new DomainError("invalid_request", "url must use https or http");
  if (url.username || url.password) throw new DomainError("invalid_request", "url must not carry credentials");
  return url;
}

export type Resolver = (hostname: string) => Promise<string[]>;

const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Refuses a URL whose host resolves to any private address (unless allowed) or does not resolve.
 * `webhook_url_refused` (422) names the reason without echoing the addresses.
 */
export async function checkWebhookDestination(
  url: URL,
  allowPrivate: boolean,
  resolve: Resolver = systemResolver,
): Promise<void> {
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new DomainError("webhook_url_refused", "the url's host name does not resolve");
    }
  }
  if (!addresses.length) throw new DomainError("webhook_url_refused", "the url's host name does not resolve");
  if (addresses.some(isPrivateAddress))
    throw new DomainError(
      "webhook_url_refused",
      "the url resolves to a private, loopback or link-local address; the operator can allow these with WEBHOOK_ALLOW_PRIVATE=true",
    );
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that checks the addresses it hands to the socket: the address refused or
 * allowed is the one connected to, so a host name re-pointed at an internal address between the check
 * before a delivery pass and the connection (DNS rebinding) is refused too.
 */
export function guardedLookup(allowPrivate: boolean, resolve?: Resolver) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    const answer = (error: NodeJS.ErrnoException | null, found: LookupAddress[]) => {
      if (error) return callback(error, []);
      if (!found.length) return callback(Object.assign(new Error("no address"), { code: "ENOTFOUND" }), []);
      if (!allowPrivate && found.some((a) => isPrivateAddress(a.address)))
        return callback(
          Object.assign(new Error("the host resolves to a private address"), { code: "ERR_WEBHOOK_PRIVATE_ADDRESS" }),
          [],
        );
      if (options.all) callback(null, found);
      else callback(null, found[0]!.address, found[0]!.family);
    };
    if (resolve)
      resolve(hostname).then(
        (list) =>
          answer(
            null,
            list.map((address) => ({ address, family: isIP(address) })),
          ),
        (error: NodeJS.ErrnoException) => answer(error, []),
      );
    else lookupCallback(hostname, { all: true, verbatim: true }, (error, list) => answer(error, list ?? []));
  };
}

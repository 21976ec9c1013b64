import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';

/** The public client's address for a request or a WebSocket upgrade. */
export type ClientAddressOf = (request: IncomingMessage) => string;

/**
 * Reads TRUST_PROXY the way express reads `trust proxy`: a hop count, or a comma-separated list of
 * addresses, subnets and the names `loopback`, `linklocal`, `uniquelocal`. Unset trusts nobody, so the
 * socket's peer is the client and X-Forwarded-For, which anyone can send, is ignored. An invalid list
 * stops the gateway at start rather than trusting the wrong hops.
 */
export function clientAddressResolver(trustProxy: string | undefined): ClientAddressOf {
  const setting = trustProxy?.trim();
  if (!setting) return socketAddress;
  const hops = /^\d+$/.test(setting) ? Number(setting) : undefined;
  const trust =
    hops !== undefined ? (_address: string, hop: number) => hop < hops : proxyaddr.compile(setting.split(/\s*,\s*/));
  return (request) => {
    // The hop a trusted proxy vouches for; anything that is not an address (a proxy passing garbage on) is not used.
    const address = proxyaddr(request, trust);
    return isIP(address) ? address : socketAddress(request);
  };
}

function socketAddress(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? '';
}

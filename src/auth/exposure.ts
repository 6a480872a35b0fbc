// Whether lookout may listen where it is asked to. With no http.host it
// listens on loopback only (127.0.0.1 and ::1): reachable from this machine
// alone, so `npm start` needs no login. Any other address needs
// authentication configured (a user in the users file, auth.token, or a
// trusted proxy), or an explicit auth.enabled: false, which is warned about
// at every start. Otherwise start-up stops (exit 2) saying how to fix it.
import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError, type LookoutConfig } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import { plainAddress } from './client.js';

export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1'];

/** Whether an address to listen on is reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = plainAddress(host.replace(/^\[(.*)\]$/, '$1'));
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(h);
  return false;
}

/** The addresses to listen on: the configured one, or loopback (both families). */
export const listenHosts = (config: LookoutConfig): string[] => (config.http.host === undefined ? [...LOOPBACK_HOSTS] : [config.http.host]);

/**
 * Throws (exit 2) when lookout would be reachable from the network with no
 * authentication, and warns when an operator turned authentication off.
 * `hasUsers`: the users file holds at least one user.
 */
export function checkExposure(config: LookoutConfig, hasUsers: boolean, log: Logger): void {
  const { auth, http } = config;
  const configured = hasUsers || auth.token !== undefined || auth.trustedProxy !== undefined;
  if (auth.enabled === true && !configured) {
    throw new ConfigError('auth.enabled', `is true, but nobody could log in: add a user (lookout user add NAME --role admin), set auth.token (LOOKOUT_TOKEN), or configure auth.trustedProxy`);
  }
  const exposed = http.host !== undefined && !isLoopbackHost(http.host);
  if (auth.enabled === false) {
    if (exposed) log.warn(`auth.enabled is false: anyone who can reach ${http.host}:${http.port} can watch every camera, change them, and read the log; set it only on a network you trust entirely`);
    else log.warn('auth.enabled is false: anyone on this machine can use lookout without logging in');
    return;
  }
  if (exposed && !configured) {
    throw new ConfigError(
      'http.host',
      `lookout would listen on ${http.host} (reachable from the network) with no authentication. ` +
        'Add a user first (lookout user add NAME --role admin; npx lookout … in a clone), or set auth.token (or LOOKOUT_TOKEN) to a secret of at least 16 characters, ' +
        'or configure auth.trustedProxy for a proxy that authenticates; or leave http.host (--host, LOOKOUT_HTTP_HOST) unset to listen on this machine only. ' +
        'To run without authentication anyway, set auth.enabled: false (LOOKOUT_AUTH_ENABLED=false).',
    );
  }
}

// The host names and addresses a node certificate is valid for. A client that dials a
// node by name or address checks it against these subject alternative names, so a node
// certificate lists every way it is reached: the given hosts, each sorted into a DNS
// name or an IP address, plus localhost, 127.0.0.1 and ::1 so that a node can always be
// reached on its own machine (and `qkv` works over a port-forward).
import { isIP } from 'node:net';
import { CertificateNameInvalidError } from '../errors/errors.js';
import { CERTIFICATE_HOSTS_MAX } from '../limits.js';

export const LOCAL_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** Longest DNS name (RFC 1035), without the trailing dot. */
const DNS_NAME_CHARS_MAX = 253;
/** One DNS label: letters, digits and '-', not at either end, 1..63 characters. */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface CertificateHosts {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/**
 * Sorts hosts into DNS names and IP addresses, local ones first, without repeats.
 * `[::1]` is taken as `::1`; a DNS name is lower-cased and may start with one `*.`
 * wildcard label. Anything else is CertificateNameInvalidError.
 */
export function certificateHostsOf(hosts: readonly string[]): CertificateHosts {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const given of [...LOCAL_HOSTS, ...hosts]) {
    const host = given.trim();
    const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (isIP(unbracketed) !== 0) {
      const address = unbracketed.toLowerCase();
      if (!ipAddresses.includes(address)) ipAddresses.push(address);
      continue;
    }
    const name = checkDnsName(host).toLowerCase();
    if (!dnsNames.includes(name)) dnsNames.push(name);
  }
  const count = dnsNames.length + ipAddresses.length;
  if (count > CERTIFICATE_HOSTS_MAX) {
    throw new CertificateNameInvalidError('host list', `${count} hosts`, `is longer than the ${CERTIFICATE_HOSTS_MAX} hosts a node certificate may name`);
  }
  return { dnsNames, ipAddresses };
}

function checkDnsName(host: string): string {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  const labels = name.toLowerCase().split('.');
  const wildcard = labels[0] === '*' && labels.length > 2;
  const valid = name.length >= 1 && name.length <= DNS_NAME_CHARS_MAX && labels.slice(wildcard ? 1 : 0).every((label) => DNS_LABEL.test(label));
  if (!valid) {
    throw new CertificateNameInvalidError('host', host, 'is neither an IP address nor a DNS name (labels of a-z, 0-9 and inner \'-\', optionally starting with "*.")');
  }
  return name;
}

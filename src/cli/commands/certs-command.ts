// `qkv certs`: makes the CA, node and client certificates that mutual TLS needs, what
// `cockroach cert` does for CockroachDB. The work is in src/security/certificate-
// authority.ts; this module parses flags and says, one line per file, what it wrote.
// A failure an operator can meet (no CA, a bad name, a file that would be replaced) is
// one `qkv: CODE: message` line from src/cli/main.ts.
//
// The certificate library (and the x509 package under it, about 0.1 s to load) is
// imported only when a certificate is made, so every other `qkv` command starts as fast
// as before.
import { X509Certificate } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { CERTIFICATE_VALIDITY_DAYS_MAX } from '../../limits.js';
import type { IssuedCertificate } from '../../security/certificate-authority.js';
import { readCertificateFile } from '../../security/certificate-files.js';
import { identityOfCertificate, parseSubjectAltNames } from '../../security/certificate-identity.js';
import { EXIT_OK, EXIT_USAGE, UsageError, table, writeJson, type CliIo } from '../cli-io.js';

export const CERTS_USAGE = `Certificates (mutual TLS; --certs-dir may also come from QKV_CERTS_DIR):
  qkv certs create-ca --certs-dir D [--common-name CN] [--validity-days N] [--overwrite]
                        a new CA: D/ca.crt and D/ca.key (keep ca.key secret and safe: losing it
                        means re-issuing every certificate); refuses to replace one without --overwrite
  qkv certs create-node --certs-dir D [--ca-dir C] --node-id ID [--host H ...] [--validity-days N] [--overwrite]
                        D/node.crt and D/node.key for member ID (and D/ca.crt); --host adds DNS names
                        or IP addresses to localhost, 127.0.0.1 and ::1; --ca-dir defaults to D
  qkv certs create-client --certs-dir D [--ca-dir C] --user U [--validity-days N] [--overwrite]
                        D/client.U.crt and D/client.U.key (and D/ca.crt)
  qkv certs list --certs-dir D [--json]
                        every certificate in D and its subdirectories: identity, SANs, expiry`;

const CERTS_HELP = `usage: qkv certs <create-ca|create-node|create-client|list> [flags]

${CERTS_USAGE}

Keys are ECDSA P-256, certificates signed ecdsa-with-SHA256; a certificate's identity is its
URI SAN quorumkv://node/<id> or quorumkv://user/<name>. Node ids and user names are 1 to 63
characters of a-z, 0-9, '-', '.' and '_', starting with a letter or digit. Defaults: the CA
lasts 10 years, node and client certificates 1 year (never past the CA's own expiry).
`;

type Subcommand = (args: string[], io: CliIo) => Promise<number>;

const SUBCOMMANDS: Record<string, Subcommand> = {
  'create-ca': runCreateCa,
  'create-node': runCreateNode,
  'create-client': runCreateClient,
  list: runList,
};

export async function runCerts(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout.write(CERTS_HELP);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const subcommand = SUBCOMMANDS[name];
  if (subcommand === undefined) throw new UsageError(`unknown certs command ${JSON.stringify(name)}`);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(CERTS_HELP);
    return EXIT_OK;
  }
  return subcommand(rest, io);
}

const DIR_OPTIONS = {
  'certs-dir': { type: 'string' },
  'validity-days': { type: 'string' },
  overwrite: { type: 'boolean' },
} as const;

async function runCreateCa(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { ...DIR_OPTIONS, 'common-name': { type: 'string' } }, allowPositionals: false });
  const dir = certsDirOf(io, values['certs-dir']);
  const { createCa } = await import('../../security/certificate-authority.js');
  const ca = await createCa({
    dir,
    commonName: values['common-name'],
    validityDays: validityDaysOf(values['validity-days']),
    overwrite: values.overwrite ?? false,
  });
  io.stdout.write(`wrote ${ca.keyPath}  (CA private key, mode 0600: keep it secret, and keep a copy; without it no certificate can be issued)\n`);
  io.stdout.write(`wrote ${ca.certificatePath}  (CA certificate, ${oneLine(ca.certificate.subject)}, valid until ${ca.notAfter.toISOString()})\n`);
  return EXIT_OK;
}

async function runCreateNode(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...DIR_OPTIONS, 'ca-dir': { type: 'string' }, 'node-id': { type: 'string' }, host: { type: 'string', multiple: true } },
    allowPositionals: false,
  });
  const outDir = certsDirOf(io, values['certs-dir']);
  const nodeId = values['node-id'];
  if (nodeId === undefined) throw new UsageError('create-node needs --node-id');
  const hosts = (values.host ?? []).flatMap((host) => host.split(',')).map((host) => host.trim()).filter((host) => host !== '');
  const { createNodeCertificate } = await import('../../security/certificate-authority.js');
  const issued = await createNodeCertificate({
    caDir: values['ca-dir'] ?? outDir,
    outDir,
    nodeId,
    hosts,
    validityDays: validityDaysOf(values['validity-days']),
    overwrite: values.overwrite ?? false,
  });
  reportIssued(io, issued, 'node');
  return EXIT_OK;
}

async function runCreateClient(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { ...DIR_OPTIONS, 'ca-dir': { type: 'string' }, user: { type: 'string' } }, allowPositionals: false });
  const outDir = certsDirOf(io, values['certs-dir']);
  const user = values.user;
  if (user === undefined) throw new UsageError('create-client needs --user');
  const { createClientCertificate } = await import('../../security/certificate-authority.js');
  const issued = await createClientCertificate({
    caDir: values['ca-dir'] ?? outDir,
    outDir,
    user,
    validityDays: validityDaysOf(values['validity-days']),
    overwrite: values.overwrite ?? false,
  });
  reportIssued(io, issued, 'client');
  return EXIT_OK;
}

function reportIssued(io: CliIo, issued: IssuedCertificate, what: 'node' | 'client'): void {
  if (issued.caCertificateWrittenPath !== undefined) io.stdout.write(`wrote ${issued.caCertificateWrittenPath}  (CA certificate, copied)\n`);
  io.stdout.write(`wrote ${issued.keyPath}  (${what} private key, mode 0600)\n`);
  const limited = issued.limitedByCa ? ', cut to the CA\'s own expiry' : '';
  io.stdout.write(
    `wrote ${issued.certificatePath}  (${what} certificate for ${issued.identity.kind}/${issued.identity.name}, ` +
      `valid until ${issued.notAfter.toISOString()}${limited}; SANs ${issued.subjectAltNames.join(', ')})\n`,
  );
}

interface ListedCertificate {
  readonly file: string;
  readonly identity: string;
  readonly subject: string;
  readonly subjectAltNames: readonly string[];
  readonly notAfter: string | null;
  readonly expired: boolean;
  readonly error?: string;
}

async function runList(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { 'certs-dir': { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: false });
  const dir = certsDirOf(io, values['certs-dir']);
  const now = Date.now();
  const listed: ListedCertificate[] = [];
  for (const path of await certificateFiles(dir)) listed.push(await describe(dir, path, now));
  if (values.json) {
    writeJson(io, { certsDir: dir, certificates: listed });
    return EXIT_OK;
  }
  if (listed.length === 0) {
    io.stdout.write(`no certificates (*.crt) in ${dir}\n`);
    return EXIT_OK;
  }
  const rows = listed.map((entry) => [
    entry.file,
    entry.identity,
    entry.notAfter === null ? '-' : `${entry.notAfter}${entry.expired ? ' EXPIRED' : ''}`,
    entry.error ?? (entry.subjectAltNames.join(', ') || '-'),
  ]);
  io.stdout.write(table([['FILE', 'IDENTITY', 'NOT AFTER', 'SANS'], ...rows]));
  return EXIT_OK;
}

/** The *.crt files of dir and of its direct subdirectories (a local cluster's per-node directories), sorted. */
async function certificateFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`--certs-dir ${dir} does not exist`);
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith('.crt')) files.push(path);
    if (entry.isDirectory()) {
      for (const inner of await readdir(path, { withFileTypes: true })) {
        if (inner.isFile() && inner.name.endsWith('.crt')) files.push(join(path, inner.name));
      }
    }
  }
  return files.sort();
}

async function describe(dir: string, path: string, nowMs: number): Promise<ListedCertificate> {
  const file = relative(dir, path);
  try {
    const text = await readCertificateFile(path);
    const certificate = new X509Certificate(text ?? '');
    const identity = identityOfCertificate(certificate);
    const notAfter = new Date(certificate.validTo);
    const altNames = parseSubjectAltNames(certificate.subjectAltName ?? '') ?? [];
    return {
      file,
      identity: identity !== undefined ? `${identity.kind}/${identity.name}` : certificate.ca ? 'CA' : '-',
      subject: oneLine(certificate.subject),
      subjectAltNames: altNames.map((name) => `${name.type === 'IP Address' ? 'IP' : name.type}:${name.value}`),
      notAfter: notAfter.toISOString(),
      expired: notAfter.getTime() <= nowMs,
    };
  } catch (error) {
    const size = await stat(path).then((info) => info.size, () => 0);
    const reason = error instanceof Error ? error.message : String(error);
    return { file, identity: '?', subject: '', subjectAltNames: [], notAfter: null, expired: false, error: `unreadable (${size} bytes): ${reason}` };
  }
}

function certsDirOf(io: CliIo, flag: string | undefined): string {
  const dir = flag ?? io.env['QKV_CERTS_DIR'];
  if (dir === undefined || dir === '') throw new UsageError('--certs-dir is required (or set QKV_CERTS_DIR)');
  return dir;
}

function validityDaysOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > CERTIFICATE_VALIDITY_DAYS_MAX) {
    throw new UsageError(`--validity-days must be an integer from 1 to ${CERTIFICATE_VALIDITY_DAYS_MAX}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** X509Certificate.subject puts one attribute per line. */
function oneLine(subject: string): string {
  return subject.split('\n').join(', ');
}

// Conversions between the wire messages of quorumkv.v1 and the core's types. Every
// value that arrives from the network is checked here before the core sees it
// (docs/style.md point 6): a stamp must be an unsigned 64-bit decimal, a node id
// must be present and bounded, a millisecond count must be a safe integer. A bad
// message becomes an InvalidArgumentError, never a crash or a silently rounded value.
import { InvalidArgumentError } from '../errors/errors.js';
import { FORGET_SIGNATURE_BYTES_MAX, FORGET_SIGNER_CERTIFICATE_BYTES_MAX, FORGOTTEN_MEMBERS_MAX, NODE_ID_BYTES_MAX } from '../limits.js';
import type { KvRecord, Version } from '../storage/record.js';
import { parseRingState, type AnnouncedRingState, type ForgetSignature, type ForgottenMember } from '../ring/ring-state.js';
import type { ForgottenMember as WireForgottenMember, ForgottenMember__Output as WireForgottenMemberOutput } from './generated/quorumkv/v1/ForgottenMember.js';
import { decodeBatch, RecordDecodeError, type DecodeOptions } from '../storage/record-codec.js';
import type { Version as WireVersion, Version__Output as WireVersionOutput } from './generated/quorumkv/v1/Version.js';
import type { Record as WireRecord, Record__Output as WireRecordOutput } from './generated/quorumkv/v1/Record.js';

const UINT64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^[0-9]{1,20}$/;
const EMPTY = Buffer.alloc(0);

export function encodeVersion(version: Version): WireVersion {
  return { stamp: version.stamp.toString(), nodeId: version.nodeId };
}

export function decodeVersion(wire: WireVersionOutput | null, field: string): Version {
  if (wire === null) throw new InvalidArgumentError(`${field} is missing`);
  return { stamp: decodeUint64(wire.stamp, `${field}.stamp`), nodeId: decodeNodeId(wire.nodeId, `${field}.node_id`) };
}

/** An unsigned 64-bit decimal string (proto-loader `longs: String`) as bigint. */
export function decodeUint64(text: string, field: string): bigint {
  if (!DECIMAL.test(text)) throw new InvalidArgumentError(`${field} is not an unsigned decimal integer`);
  const value = BigInt(text);
  if (value > UINT64_MAX) throw new InvalidArgumentError(`${field} exceeds 2^64-1`);
  return value;
}

/**
 * A probe's ring state and version: "" (undecided, or never heard) gives undefined; any
 * other text must name a ring state.
 */
export function decodeAnnouncedRingState(text: string, version: string, field: string): AnnouncedRingState | undefined {
  if (text === '') return undefined;
  const state = parseRingState(text);
  if (state === undefined) throw new InvalidArgumentError(`${field} ${JSON.stringify(text.slice(0, 32))} is not a ring state`);
  return { state, version: decodeMilliseconds(version, `${field}_version`) };
}

export function encodeForgottenMembers(forgotten: readonly ForgottenMember[] | undefined): WireForgottenMember[] {
  return (forgotten ?? []).map((member) => ({
    nodeId: member.node,
    version: String(member.version),
    ...(member.signed === undefined ? {} : { signerCertificate: member.signed.certificate, signature: member.signed.signature }),
  }));
}

/**
 * A forget's signature from the wire: undefined when both fields are empty (--insecure,
 * or a node before signatures); each field bounded. Whether it checks out is the
 * receiver's to decide (src/security/forget-signature.ts).
 */
export function decodeForgetSignature(certificate: Buffer | undefined, signature: Buffer | undefined, field: string): ForgetSignature | undefined {
  const certificateBytes = certificate ?? EMPTY;
  const signatureBytes = signature ?? EMPTY;
  if (certificateBytes.length === 0 && signatureBytes.length === 0) return undefined;
  if (certificateBytes.length > FORGET_SIGNER_CERTIFICATE_BYTES_MAX) throw new InvalidArgumentError(`${field}.signer_certificate is longer than ${FORGET_SIGNER_CERTIFICATE_BYTES_MAX} bytes`);
  if (signatureBytes.length > FORGET_SIGNATURE_BYTES_MAX) throw new InvalidArgumentError(`${field}.signature is longer than ${FORGET_SIGNATURE_BYTES_MAX} bytes`);
  return { certificate: certificateBytes, signature: signatureBytes };
}

/** A probe's list of forgotten members: at most FORGOTTEN_MEMBERS_MAX, each id bounded. */
export function decodeForgottenMembers(wire: readonly WireForgottenMemberOutput[] | undefined, field: string): ForgottenMember[] {
  const list = wire ?? [];
  if (list.length > FORGOTTEN_MEMBERS_MAX) throw new InvalidArgumentError(`${field} has ${list.length} entries, more than ${FORGOTTEN_MEMBERS_MAX}`);
  return list.map((entry, index) => {
    const signed = decodeForgetSignature(entry.signerCertificate, entry.signature, `${field}[${index}]`);
    return {
      node: decodeNodeId(entry.nodeId, `${field}[${index}].node_id`),
      version: decodeMilliseconds(entry.version, `${field}[${index}].version`),
      ...(signed === undefined ? {} : { signed }),
    };
  });
}

/** A uint64 millisecond field as a number; refused above Number.MAX_SAFE_INTEGER. */
export function decodeMilliseconds(text: string, field: string): number {
  // Nearly every request carries ttl_ms = 0; skip the regex and the bigint for it.
  if (text === '0') return 0;
  const value = decodeUint64(text, field);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidArgumentError(`${field} is too large`);
  return Number(value);
}

/** What decodeNodeId accepts; it names the field in its refusal. */
function isValidNodeId(nodeId: string): boolean {
  return nodeId.length > 0 && Buffer.byteLength(nodeId) <= NODE_ID_BYTES_MAX;
}

export function decodeNodeId(nodeId: string, field: string): string {
  if (nodeId.length === 0) throw new InvalidArgumentError(`${field} is empty`);
  if (Buffer.byteLength(nodeId) > NODE_ID_BYTES_MAX) {
    throw new InvalidArgumentError(`${field} is longer than ${NODE_ID_BYTES_MAX} bytes`);
  }
  return nodeId;
}

export function encodeRecord(record: KvRecord): WireRecord {
  return {
    key: record.key,
    value: record.value ?? EMPTY,
    tombstone: record.value === null,
    version: encodeVersion(record.version),
    expiresAtMs: String(record.expiresAtMs),
  };
}

export interface RecordBounds {
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  /** Records one batch may hold; unbounded when absent. */
  readonly recordsMax?: number;
}

export function decodeRecord(wire: WireRecordOutput, bounds: RecordBounds, field: string): KvRecord {
  if (wire.key.length === 0) throw new InvalidArgumentError(`${field}.key is empty`);
  if (wire.key.length > bounds.keyBytesMax) {
    throw new InvalidArgumentError(`${field}.key is ${wire.key.length} bytes; the limit is ${bounds.keyBytesMax}`);
  }
  if (wire.tombstone && wire.value.length > 0) throw new InvalidArgumentError(`${field} is a tombstone with a value`);
  if (wire.value.length > bounds.valueBytesMax) {
    throw new InvalidArgumentError(`${field}.value is ${wire.value.length} bytes; the limit is ${bounds.valueBytesMax}`);
  }
  return {
    key: wire.key,
    value: wire.tombstone ? null : wire.value,
    version: decodeVersion(wire.version, `${field}.version`),
    expiresAtMs: decodeMilliseconds(wire.expiresAtMs, `${field}.expires_at_ms`),
  };
}

/**
 * Records that travelled in the storage engine's batch encoding (the Replica service's
 * `batch` fields), checked like decodeRecord checks a message: structure (the codec
 * refuses truncation, unknown flags and trailing bytes), key and value bounds, node id.
 */
export function decodeRecordBatch(bytes: Buffer, bounds: RecordBounds, field: string, options: DecodeOptions = {}): KvRecord[] {
  let records: KvRecord[];
  try {
    records = decodeBatch(bytes, { ...options, recordsMax: bounds.recordsMax });
  } catch (error) {
    if (error instanceof RecordDecodeError) throw new InvalidArgumentError(`${field}: ${error.message}`);
    throw error;
  }
  // A batch's records nearly all name the same writer: its node id is checked once, and
  // a field's name is only built for the error (per record it cost more than the check).
  let checkedNodeId: string | undefined;
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    if (record.key.length > bounds.keyBytesMax) {
      throw new InvalidArgumentError(`${field}[${index}].key is ${record.key.length} bytes; the limit is ${bounds.keyBytesMax}`);
    }
    if (record.value !== null && record.value.length > bounds.valueBytesMax) {
      throw new InvalidArgumentError(`${field}[${index}].value is ${record.value.length} bytes; the limit is ${bounds.valueBytesMax}`);
    }
    const { nodeId } = record.version;
    if (nodeId !== checkedNodeId) {
      if (!isValidNodeId(nodeId)) decodeNodeId(nodeId, `${field}[${index}].version.node_id`);
      checkedNodeId = nodeId;
    }
  }
  return records;
}

// A probe's answer is checked before it is decoded, as the probe itself is on the
// receiving node (request-limits.ts): its size first, then the count of forgotten
// members by the bounds scan (wire-bounds.ts, docs/decisions/0102-bounded-decoding.md).
// Without it the prober decoded whatever a peer answered, up to the 16 MiB any message
// may have: a member answering with 8.4 million empty forgotten members (2 bytes each)
// cost the prober 43 s of CPU and 3.7 GiB of heap before the list's length was checked.
// The Probe method's response decoder is wrapped once, where the protocol is loaded, so
// every Replica client gets the bounded one.
import type { PackageDefinition, MethodDefinition } from '@grpc/proto-loader';
import { InvalidArgumentError } from '../errors/errors.js';
import { FORGOTTEN_MEMBERS_MAX, PROBE_ANSWER_BYTES_MAX } from '../limits.js';
import { checkWireBounds } from './wire-bounds.js';
import { WireSchemas } from './wire-schema.js';

const PROBE_RESPONSE = 'quorumkv.v1.ProbeResponse';

/** Wraps Replica.Probe's response decoder in `packageDefinition` with the size check and the bounds scan. */
export function boundProbeAnswers(packageDefinition: PackageDefinition): void {
  const service = packageDefinition['quorumkv.v1.Replica'] as Record<string, MethodDefinition<unknown, unknown>> | undefined;
  const probe = service?.['Probe'];
  if (probe === undefined) throw new Error('quorumkv.v1.Replica has no Probe method');
  const schema = new WireSchemas(packageDefinition, (field) => (field === `${PROBE_RESPONSE}.forgotten` ? FORGOTTEN_MEMBERS_MAX : undefined)).of(PROBE_RESPONSE);
  const decode = probe.responseDeserialize;
  probe.responseDeserialize = (bytes: Buffer) => {
    if (bytes.length > PROBE_ANSWER_BYTES_MAX) throw new InvalidArgumentError(`a probe answer of ${bytes.length} bytes; the limit is ${PROBE_ANSWER_BYTES_MAX}`);
    checkWireBounds(bytes, schema);
    return decode(bytes);
  };
}

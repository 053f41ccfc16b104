// Damaged encodings for fuzz tests: a valid encoding with a few bytes overwritten,
// inserted or removed, or cut short. Decoders of bytes from the wire must refuse these
// cleanly or read them exactly as the reference decoder does.
import fc from 'fast-check';

export function damaged(valid: fc.Arbitrary<Buffer>, editsMax = 3): fc.Arbitrary<Buffer> {
  const edit = fc.tuple(fc.constantFrom('set', 'insert', 'remove', 'cut'), fc.nat(), fc.integer({ min: 0, max: 255 }));
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: editsMax })).map(([wire, edits]) => {
    let bytes = Buffer.from(wire);
    for (const [kind, position, value] of edits) {
      const at = bytes.length === 0 ? 0 : position % bytes.length;
      if (kind === 'set' && bytes.length > 0) bytes[at] = value;
      else if (kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([value]), bytes.subarray(at)]);
      else if (kind === 'remove') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      else if (kind === 'cut') bytes = bytes.subarray(0, at);
    }
    return Buffer.from(bytes);
  });
}

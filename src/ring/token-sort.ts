// Sorting ring tokens. A 1000-member ring has 256,000 tokens and is rebuilt on every
// membership change, so the sort must be cheap: an LSD radix sort over four 16-bit
// digits of each token is linear and, being stable, leaves tokens with equal values in
// their input order, which makes the order of a (practically impossible) token collision
// deterministic too.
//
// Tokens arrive as a BigUint64Array; the sort reads them through a Uint32Array view of
// the same memory so that no bigint is created per comparison.

/** Index of the high and low 32-bit word of element 0 in a Uint32Array view of a BigUint64Array. */
export const WORD_HIGH = new Uint32Array(new BigUint64Array([1n << 32n]).buffer)[0] === 1 ? 0 : 1;
export const WORD_LOW = 1 - WORD_HIGH;

const DIGIT_BITS = 16;
const DIGIT_VALUES = 1 << DIGIT_BITS;
const DIGIT_MASK = DIGIT_VALUES - 1;

/** The permutation that sorts `tokens` ascending; ties keep their input order. */
export function sortedTokenOrder(tokens: BigUint64Array): Uint32Array {
  const count = tokens.length;
  const words = new Uint32Array(tokens.buffer, tokens.byteOffset, count * 2);
  let order = new Uint32Array(count);
  for (let index = 0; index < count; index++) order[index] = index;
  let scratch = new Uint32Array(count);
  const starts = new Uint32Array(DIGIT_VALUES + 1);
  // Least significant digit first: low word low half, low word high half, then the high word.
  const passes: ReadonlyArray<readonly [word: number, shift: number]> = [
    [WORD_LOW, 0],
    [WORD_LOW, DIGIT_BITS],
    [WORD_HIGH, 0],
    [WORD_HIGH, DIGIT_BITS],
  ];
  for (const [word, shift] of passes) {
    starts.fill(0);
    for (let index = 0; index < count; index++) {
      starts[((words[index * 2 + word]! >>> shift) & DIGIT_MASK) + 1]!++;
    }
    for (let digit = 0; digit < DIGIT_VALUES; digit++) starts[digit + 1]! += starts[digit]!;
    for (let index = 0; index < count; index++) {
      const element = order[index]!;
      const digit = (words[element * 2 + word]! >>> shift) & DIGIT_MASK;
      scratch[starts[digit]!++] = element;
    }
    [order, scratch] = [scratch, order];
  }
  return order;
}

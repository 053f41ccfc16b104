// The WebAssembly xxHash64 must be the real xxHash64 (seed 0): every node, and any
// future client that routes by token, has to compute the same tokens. Checked against
// the specification's published values and an independent bigint implementation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createTokenHasher, loadXxHash64, vnodeToken, writeVnodeTokens } from '../../src/ring/token-hasher.js';
import { TOKEN_MAX } from '../../src/ring/token-range.js';
import { referenceXxh64 } from './reference-xxh64.js';

const utf8 = new TextEncoder();

describe('token hasher', () => {
  it('matches the published xxHash64 values', async () => {
    const hash = await loadXxHash64();
    assert.equal(hash.text(''), 0xef46db3751d8e999n);
    assert.equal(hash.text('a'), 0xd24ec4f1a98c6e5bn);
    assert.equal(hash.text('abc'), 0x44bc2cf5ad770999n);
  });

  it('matches an independent implementation on random bytes of every length path', async () => {
    const hash = await loadXxHash64();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 100 }), (bytes) => {
        const expected = referenceXxh64(bytes);
        assert.equal(hash.bytes(bytes), expected);
        assert.ok(expected >= 0n && expected <= TOKEN_MAX);
      }),
      { numRuns: 300 },
    );
  });

  it('hashes text as its UTF-8 bytes', async () => {
    const hash = await loadXxHash64();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        assert.equal(hash.text(text), hash.bytes(utf8.encode(text)));
      }),
      { numRuns: 200 },
    );
  });

  it('gives the token function for keys and the vnode tokens of the design', async () => {
    const tokenOf = await createTokenHasher();
    const hash = await loadXxHash64();
    assert.equal(tokenOf(Buffer.from('user:42')), referenceXxh64(utf8.encode('user:42')));
    assert.equal(vnodeToken(hash, 'quorumkv-2', 17), referenceXxh64(utf8.encode('quorumkv-2#17')));
    assert.strictEqual(await loadXxHash64(), hash, 'the module is initialised once');
  });

  it('writes the same vnode tokens from its byte buffer as the plain formula', async () => {
    const hash = await loadXxHash64();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 1200 }), (nodeId, vnodes) => {
        const out = new BigUint64Array(vnodes + 2);
        writeVnodeTokens(hash, nodeId, vnodes, out, 1);
        assert.equal(out[0], 0n);
        assert.equal(out[vnodes + 1], 0n);
        for (let index = 0; index < vnodes; index++) assert.equal(out[index + 1], vnodeToken(hash, nodeId, index), `${nodeId}#${index}`);
      }),
      { numRuns: 40 },
    );
  });
});

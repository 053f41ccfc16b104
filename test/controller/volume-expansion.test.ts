// What the scale controller asks of the members' volume claims when
// spec.persistence.size changes (src/controller/volume-expansion.ts), and the storage
// quantities it compares (src/kubernetes/storage-quantity.ts). The same runs against a
// real API server in test/kubernetes/scale-controller.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planVolumeExpansion } from '../../src/controller/volume-expansion.js';
import { storageBytesOf } from '../../src/kubernetes/storage-quantity.js';

describe('storage quantities', () => {
  test('binary, decimal and plain forms are exact byte counts', () => {
    assert.equal(storageBytesOf('10Gi', 'size'), 10n * 1024n ** 3n);
    assert.equal(storageBytesOf('500M', 'size'), 500_000_000n);
    assert.equal(storageBytesOf('10737418240', 'size'), 10n * 1024n ** 3n);
    assert.equal(storageBytesOf('1.5Ti', 'size'), 3n * 1024n ** 4n / 2n);
    assert.equal(storageBytesOf('2E', 'size'), 2n * 10n ** 18n);
    // A fraction of a byte rounds up, as Kubernetes rounds quantities.
    assert.equal(storageBytesOf('1.5', 'size'), 2n);
    assert.ok(storageBytesOf('1Gi', 'size') > storageBytesOf('1G', 'size'));
  });

  test('anything else is refused with a clear error', () => {
    for (const text of ['', 'Gi', '10gi', '10 Gi', '-1Gi', '1e9', '100m', '1.Gi', `${'9'.repeat(70)}Gi`]) {
      assert.throws(() => storageBytesOf(text, 'spec.persistence.size'), (error: Error & { code?: string }) => error.code === 'CONFIG_INVALID' && /spec\.persistence\.size ".*" is not a storage quantity/.test(error.message), text);
    }
  });
});

describe('planVolumeExpansion', () => {
  const claim = (name: string, requested: string) => ({ name, requested, capacity: requested });

  test('every claim below the size is raised to it, in name order', () => {
    const steps = planVolumeExpansion('20Gi', [claim('data-qkv-1', '10Gi'), claim('data-qkv-0', '10737418240'), claim('data-qkv-2', '20Gi')]);
    assert.deepEqual(steps, [
      { kind: 'expand', claim: 'data-qkv-0', from: '10737418240', to: '20Gi' },
      { kind: 'expand', claim: 'data-qkv-1', from: '10Gi', to: '20Gi' },
    ]);
  });

  test('equal sizes in other units need nothing; a larger claim is never shrunk', () => {
    assert.deepEqual(planVolumeExpansion('1Gi', [claim('data-qkv-0', '1073741824'), claim('data-qkv-1', '1024Mi')]), []);
    assert.deepEqual(planVolumeExpansion('10Gi', [claim('data-qkv-0', '20Gi')]), [{ kind: 'larger', claim: 'data-qkv-0', requested: '20Gi', desired: '10Gi' }]);
  });

  test('a size or claim that is not a quantity is refused, not guessed', () => {
    assert.throws(() => planVolumeExpansion('big', [claim('data-qkv-0', '1Gi')]), /spec\.persistence\.size "big"/);
    assert.throws(() => planVolumeExpansion('1Gi', [claim('data-qkv-0', '1x')]), /claim data-qkv-0's storage request "1x"/);
  });
});

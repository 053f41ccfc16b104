// The backup controller's reading of its resources: a QuorumKVCluster's spec.backup
// schedule (interval, minimum, retention default and bounds) and a QuorumKVRestore's
// spec and a QuorumKVCluster's spec.bootstrap.restore, each refused with CONFIG_INVALID
// and a message naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKUP_DESTINATION_CHARS_MAX, BACKUP_ID_CHARS_MAX, parseBackupSchedule, parseBootstrapRestore, parseRestoreSpec } from '../../src/kubernetes/backup-resource.js';
import { isQkvError } from '../../src/errors/errors.js';

const refused = (field: RegExp) => (error: unknown) => isQkvError(error) && error.code === 'CONFIG_INVALID' && field.test(error.message);

describe('backup resources', () => {
  it('reads a schedule: every in s, m, h or d, retention 7 by default', () => {
    assert.equal(parseBackupSchedule({ replicationFactor: 3 }), undefined);
    assert.deepEqual(parseBackupSchedule({ backup: { destination: 's3://b/p', every: '6h' } }), { destination: 's3://b/p', everyMs: 6 * 3_600_000, retention: 7 });
    assert.equal(parseBackupSchedule({ backup: { destination: 'd', every: '90s', retention: 2 } })?.everyMs, 90_000);
    assert.equal(parseBackupSchedule({ backup: { destination: 'd', every: '1d' } })?.everyMs, 86_400_000);
  });

  it('refuses a schedule without destination, with a malformed or too short interval, or a retention out of 1..1000', () => {
    assert.throws(() => parseBackupSchedule({ backup: { every: '1h' } }), refused(/spec\.backup\.destination/));
    for (const every of ['1w', 'h', '1.5h', 60, '59s']) assert.throws(() => parseBackupSchedule({ backup: { destination: 'd', every } }), refused(/spec\.backup\.every/), String(every));
    for (const retention of [0, 1001, 2.5, '3']) assert.throws(() => parseBackupSchedule({ backup: { destination: 'd', every: '1h', retention } }), refused(/spec\.backup\.retention/), String(retention));
  });

  it('reads a restore: an empty backupId means the newest set', () => {
    assert.deepEqual(parseRestoreSpec({ cluster: 'c', destination: 's3://b' }), { cluster: 'c', destination: 's3://b', backupId: '' });
    assert.equal(parseRestoreSpec({ cluster: 'c', destination: 'd', backupId: 'qkv-1' }).backupId, 'qkv-1');
    assert.throws(() => parseRestoreSpec({ destination: 'd' }), refused(/spec\.cluster/));
    assert.throws(() => parseRestoreSpec({ cluster: 'c', destination: 'd', backupId: 7 }), refused(/spec\.backupId/));
  });

  it('reads a bootstrap restore: none without spec.bootstrap.restore, an empty backupId means the newest set', () => {
    assert.equal(parseBootstrapRestore({ replicationFactor: 3 }), undefined);
    assert.equal(parseBootstrapRestore({ bootstrap: {} }), undefined);
    assert.deepEqual(parseBootstrapRestore({ bootstrap: { restore: { destination: 's3://b/p' } } }), { destination: 's3://b/p', backupId: '' });
    assert.equal(parseBootstrapRestore({ bootstrap: { restore: { destination: 'd', backupId: 'qkv-1' } } })?.backupId, 'qkv-1');
  });

  it('refuses a bootstrap restore that is not an object, without destination, or with a field too long or of the wrong type', () => {
    assert.throws(() => parseBootstrapRestore({ bootstrap: 'yes' }), refused(/spec\.bootstrap must/));
    assert.throws(() => parseBootstrapRestore({ bootstrap: { restore: 's3://b' } }), refused(/spec\.bootstrap\.restore must/));
    assert.throws(() => parseBootstrapRestore({ bootstrap: { restore: { backupId: 'x' } } }), refused(/spec\.bootstrap\.restore\.destination/));
    assert.throws(() => parseBootstrapRestore({ bootstrap: { restore: { destination: 'd'.repeat(BACKUP_DESTINATION_CHARS_MAX + 1) } } }), refused(/destination is longer/));
    assert.throws(() => parseBootstrapRestore({ bootstrap: { restore: { destination: 'd', backupId: 7 } } }), refused(/backupId must be a string/));
    assert.throws(() => parseBootstrapRestore({ bootstrap: { restore: { destination: 'd', backupId: 'x'.repeat(BACKUP_ID_CHARS_MAX + 1) } } }), refused(/backupId is longer/));
  });
});

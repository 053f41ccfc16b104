// The backup controller's reading of its resources: a QuorumKVCluster's spec.backup
// schedule (interval, minimum, retention default and bounds; or a cron schedule with its
// time zone, exactly one of the two) and a QuorumKVRestore's
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
    assert.deepEqual(parseBackupSchedule({ backup: { destination: 'd', every: '90s', retention: 2 } }), { destination: 'd', everyMs: 90_000, retention: 2 });
    assert.deepEqual(parseBackupSchedule({ backup: { destination: 'd', every: '1d' } }), { destination: 'd', everyMs: 86_400_000, retention: 7 });
  });

  it('reads a cron schedule, in UTC unless spec.backup.timeZone names a zone', () => {
    const utc = parseBackupSchedule({ backup: { destination: 's3://b/p', schedule: '0 3 * * *', retention: 3 } });
    assert.ok(utc !== undefined && 'cron' in utc, 'a cron schedule');
    assert.deepEqual([utc.destination, utc.retention, utc.cron.expression, utc.cron.timeZone], ['s3://b/p', 3, '0 3 * * *', 'UTC']);
    assert.equal(new Date(utc.cron.nextAfter(Date.parse('2026-12-06T12:00:00Z'))).toISOString(), '2026-12-07T03:00:00.000Z');
    const berlin = parseBackupSchedule({ backup: { destination: 'd', schedule: '0 3 * * *', timeZone: 'Europe/Berlin' } });
    assert.ok(berlin !== undefined && 'cron' in berlin);
    assert.equal(berlin.retention, 7);
    // 03:00 in Berlin in winter (UTC+1).
    assert.equal(new Date(berlin.cron.nextAfter(Date.parse('2026-12-06T12:00:00Z'))).toISOString(), '2026-12-07T02:00:00.000Z');
  });

  it('refuses both every and schedule, neither, a timeZone with every, and a bad expression or zone, naming the field', () => {
    assert.throws(() => parseBackupSchedule({ backup: { destination: 'd', every: '1h', schedule: '0 3 * * *' } }), refused(/^spec\.backup needs exactly one of every .* and schedule .*; it has both$/));
    assert.throws(() => parseBackupSchedule({ backup: { destination: 'd' } }), refused(/^spec\.backup needs exactly one of every .*; it has neither$/));
    assert.throws(() => parseBackupSchedule({ backup: { destination: 'd', every: '1h', timeZone: 'Europe/Berlin' } }), refused(/^spec\.backup\.timeZone applies to schedule only/));
    assert.throws(() => parseBackupSchedule({ backup: { destination: 'd', schedule: 3 } }), refused(/^spec\.backup\.schedule must be a string/));
    assert.throws(() => parseBackupSchedule({ backup: { destination: 'd', schedule: '0 3 * *' } }), refused(/^spec\.backup\.schedule: cron expression "0 3 \* \*" has 4 fields/));
    assert.throws(() => parseBackupSchedule({ backup: { destination: 'd', schedule: '0 25 * * *' } }), refused(/^spec\.backup\.schedule: cron hour value 25 in "25" is outside 0\.\.23$/));
    assert.throws(() => parseBackupSchedule({ backup: { destination: 'd', schedule: '0 3 * * *', timeZone: 'Mars/Olympus' } }), refused(/^spec\.backup\.timeZone: time zone "Mars\/Olympus" is not one this Node\.js knows/));
    assert.throws(() => parseBackupSchedule({ backup: { destination: 'd', schedule: '0 3 * * *', timeZone: 5 } }), refused(/^spec\.backup\.timeZone must be a string/));
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

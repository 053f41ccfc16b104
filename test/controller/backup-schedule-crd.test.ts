// spec.backup's schedule and timeZone in the QuorumKVCluster CRD and in the chart's values
// schema agree with the parser (src/clock/cron-schedule.ts): the same length bounds and
// time zone pattern; the schedule pattern lets through every expression the parser
// accepts and stops some it would refuse. The API server's CEL rules (exactly one of
// every and schedule; timeZone only with schedule) are tried against a real API server in
// test/kubernetes/backup-controller.test.ts; this reads the files only.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { CronSchedule, TIME_ZONE_PATTERN } from '../../src/clock/cron-schedule.js';
import { CRON_EXPRESSION_CHARS_MAX, TIME_ZONE_CHARS_MAX } from '../../src/limits.js';

interface Schema {
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly properties?: Record<string, Schema>;
  readonly required?: readonly string[];
  // The client's model names x-kubernetes-validations so.
  readonly x_kubernetes_validations?: readonly { rule: string }[];
}

const file = (path: string): string => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');
const crd = k8s.loadYaml<k8s.V1CustomResourceDefinition>(file('helm/quorumkv/crds/quorumkvclusters.quorumkv.io.yaml'));
const crdBackup = (crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!.backup as Schema);
const valuesBackup = (JSON.parse(file('helm/quorumkv/values.schema.json')) as { properties: Record<string, Schema> }).properties.cluster!.properties!.backup!;

describe('spec.backup schedule in the CRD and the chart values schema', () => {
  it('bounds schedule and timeZone as the parser does', () => {
    for (const [where, backup] of [['CRD', crdBackup], ['values schema', valuesBackup]] as const) {
      const { schedule, timeZone } = backup.properties!;
      assert.equal(schedule?.maxLength, CRON_EXPRESSION_CHARS_MAX, where);
      assert.equal(timeZone?.maxLength, TIME_ZONE_CHARS_MAX, where);
      // Compared as RegExp sources: JavaScript writes `/` as `\/` in one.
      assert.equal(new RegExp(timeZone?.pattern ?? '').source, TIME_ZONE_PATTERN.source, where);
      assert.equal(schedule?.pattern, crdBackup.properties!.schedule!.pattern, `${where}: one schedule pattern`);
    }
    // every is no longer required on its own: the CEL rules say which of the two.
    assert.deepEqual(crdBackup.required, ['destination']);
    assert.deepEqual(crdBackup.x_kubernetes_validations?.map((rule) => rule.rule), ['has(self.every) != has(self.schedule)', '!has(self.timeZone) || has(self.schedule)']);
  });

  it('has a schedule pattern that passes what the parser accepts and stops some of what it refuses', () => {
    const pattern = new RegExp(crdBackup.properties!.schedule!.pattern!);
    const accepted = ['0 3 * * *', '*/15 * * * *', '0 0 1 * mon', '10-30/10 22-23 * * MON-FRI', '0 0 1 jan,jul *', ' 0\t3  * * * ', '@daily', '@weekly', '59 23 31 12 7'];
    for (const expression of accepted) {
      assert.doesNotThrow(() => CronSchedule.parse(expression), expression);
      assert.match(expression, pattern, `the CRD lets through ${JSON.stringify(expression)}`);
    }
    for (const expression of ['', '0 3 * *', '0 0 3 * * *', '@every 1h', '0 3 * * * ; rm', '0 3 ? * *']) {
      assert.throws(() => CronSchedule.parse(expression), expression);
      assert.doesNotMatch(expression, pattern, `the CRD stops ${JSON.stringify(expression)}`);
    }
  });
});

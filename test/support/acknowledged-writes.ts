// The crash checker of the power-cut tests: it remembers every record a test issued and
// the newest one the engine acknowledged for each key, and after a restart lists what
// the engine got wrong. An acknowledged write is lost when its key is missing or holds
// an older version; a record is corrupt when it is not one that was written (a value,
// expiry or version nobody issued). Unacknowledged writes may or may not survive.
import { compareVersions, type KvRecord } from '../../src/storage/record.js';

function sameRecord(a: KvRecord, b: KvRecord): boolean {
  const sameValue = a.value === null || b.value === null ? a.value === b.value : a.value.equals(b.value);
  return a.key.equals(b.key) && sameValue && a.expiresAtMs === b.expiresAtMs && compareVersions(a.version, b.version) === 0;
}

export class AcknowledgedWrites {
  private readonly issued = new Map<string, KvRecord[]>();
  private readonly acknowledged = new Map<string, KvRecord>();
  private acknowledgedCount = 0;

  /** Records handed to the engine, acknowledged or not. */
  issue(records: readonly KvRecord[]): void {
    for (const record of records) {
      const key = record.key.toString('hex');
      const list = this.issued.get(key) ?? [];
      list.push(record);
      this.issued.set(key, list);
    }
  }

  /** Records whose apply resolved: the engine promised they are durable. */
  acknowledge(records: readonly KvRecord[]): void {
    this.acknowledgedCount += records.length;
    for (const record of records) {
      const key = record.key.toString('hex');
      const held = this.acknowledged.get(key);
      if (held === undefined || compareVersions(record.version, held.version) > 0) this.acknowledged.set(key, record);
    }
  }

  /** Acknowledged records, overwritten ones included. */
  get acknowledgedWrites(): number {
    return this.acknowledgedCount;
  }

  /** Every lost acknowledged write and every corrupt record, as sentences; empty when all is well. */
  problems(read: (key: Buffer) => KvRecord | undefined): string[] {
    const problems: string[] = [];
    for (const [key, records] of this.issued) {
      const found = read(Buffer.from(key, 'hex'));
      const acknowledged = this.acknowledged.get(key);
      if (found === undefined) {
        if (acknowledged !== undefined) problems.push(`lost: key ${key} is missing; stamp ${acknowledged.version.stamp} was acknowledged`);
        continue;
      }
      if (!records.some((record) => sameRecord(record, found))) {
        problems.push(`corrupt: key ${key} holds a record nobody wrote (stamp ${found.version.stamp})`);
        continue;
      }
      if (acknowledged !== undefined && compareVersions(found.version, acknowledged.version) < 0) {
        problems.push(`lost: key ${key} holds stamp ${found.version.stamp}; stamp ${acknowledged.version.stamp} was acknowledged`);
      }
    }
    return problems;
  }
}

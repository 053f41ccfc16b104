// What every BackupStore adapter agrees on (docs/style.md point 4), run over each of
// them: the directory store on a temporary directory and the S3 store against a real
// S3-compatible server (test/backup/s3-backup-store.test.ts). A new adapter passes
// this suite before anything uses it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { BackupStore } from '../../src/backup/backup-store.js';
import { isQkvError } from '../../src/errors/errors.js';

export interface BackupStoreUnderTest {
  readonly store: BackupStore;
  /** Bytes a write needs to span more than one part or buffer of this adapter. */
  readonly largeBytes: number;
  close(): Promise<void>;
}

async function* chunksOf(bytes: Buffer, chunkBytes = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) yield bytes.subarray(offset, offset + chunkBytes);
}

async function* failingAfter(bytes: Buffer, message: string): AsyncIterable<Uint8Array> {
  yield* chunksOf(bytes);
  throw new Error(message);
}

async function readAll(store: BackupStore, name: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of store.read(name)) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

function hasCode(code: string): (error: unknown) => boolean {
  return (error) => isQkvError(error) && error.code === code;
}

export function backupStoreContract(adapter: string, open: () => Promise<BackupStoreUnderTest>, options: { skip?: string | false } = {}): void {
  describe(`BackupStore contract: ${adapter}`, { skip: options.skip ?? false }, () => {
    const withStore = (body: (subject: BackupStoreUnderTest) => Promise<void>) => async () => {
      const subject = await open();
      try {
        await body(subject);
      } finally {
        await subject.close();
      }
    };

    it('reads back what it wrote, byte for byte, small, empty and larger than one part', withStore(async ({ store, largeBytes }) => {
      const small = randomBytes(1000);
      const large = randomBytes(largeBytes);
      await store.write('set-1/small.bin', chunksOf(small));
      await store.write('set-1/empty.bin', chunksOf(Buffer.alloc(0)));
      await store.write('set-1/large.bin', chunksOf(large, 1024 * 1024 + 7));
      assert.deepEqual(await readAll(store, 'set-1/small.bin'), small);
      assert.equal((await readAll(store, 'set-1/empty.bin')).length, 0);
      const readLarge = await readAll(store, 'set-1/large.bin');
      assert.equal(readLarge.length, large.length);
      assert.ok(readLarge.equals(large), 'the large file reads back unchanged');
    }));

    it('a second write under a name replaces the first', withStore(async ({ store }) => {
      await store.write('replace.bin', chunksOf(Buffer.from('first')));
      await store.write('replace.bin', chunksOf(Buffer.from('second, longer')));
      assert.equal((await readAll(store, 'replace.bin')).toString(), 'second, longer');
    }));

    it('a write whose body fails leaves nothing under a new name and the old file under an existing one', withStore(async ({ store, largeBytes }) => {
      await assert.rejects(store.write('broken/new.bin', failingAfter(randomBytes(largeBytes), 'body broke')), /body broke/);
      assert.deepEqual(await store.list('broken/'), []);
      await assert.rejects(readAll(store, 'broken/new.bin'), hasCode('BACKUP_NOT_FOUND'));

      const before = randomBytes(2000);
      await store.write('broken/old.bin', chunksOf(before));
      await assert.rejects(store.write('broken/old.bin', failingAfter(randomBytes(largeBytes), 'body broke again')), /body broke again/);
      assert.deepEqual(await readAll(store, 'broken/old.bin'), before);
      assert.deepEqual(await store.list('broken/'), ['broken/old.bin']);
    }));

    it('reading a name that is not there fails BACKUP_NOT_FOUND, naming it', withStore(async ({ store }) => {
      await assert.rejects(readAll(store, 'nothing/here.bin'), (error: unknown) => hasCode('BACKUP_NOT_FOUND')(error) && /nothing\/here\.bin/.test(String(error)));
    }));

    it('lists the names under a prefix, sorted, and nothing else', withStore(async ({ store }) => {
      for (const name of ['b/2.bin', 'a/1.bin', 'b/1.bin', 'b/sub/3.bin', 'bb/4.bin']) await store.write(name, chunksOf(Buffer.from(name)));
      assert.deepEqual(await store.list('b/'), ['b/1.bin', 'b/2.bin', 'b/sub/3.bin']);
      assert.deepEqual(await store.list(''), ['a/1.bin', 'b/1.bin', 'b/2.bin', 'b/sub/3.bin', 'bb/4.bin']);
      assert.deepEqual(await store.list('c/'), []);
    }));

    it('removes a name; removing one that is not there is not an error', withStore(async ({ store }) => {
      await store.write('gone/x.bin', chunksOf(Buffer.from('x')));
      await store.remove('gone/x.bin');
      assert.deepEqual(await store.list('gone/'), []);
      await store.remove('gone/x.bin');
      await store.remove('never/was.bin');
    }));

    it('refuses names that could leave the store or that no store can hold, with BACKUP_DESTINATION_INVALID', withStore(async ({ store }) => {
      for (const name of ['../escape', 'a/../b', '/absolute', 'a//b', 'trailing/', 'nul\u0000', 'x'.repeat(513)]) {
        await assert.rejects(store.write(name, chunksOf(Buffer.from('no'))), hasCode('BACKUP_DESTINATION_INVALID'), `write ${JSON.stringify(name.slice(0, 20))}`);
        await assert.rejects(readAll(store, name), hasCode('BACKUP_DESTINATION_INVALID'), `read ${JSON.stringify(name.slice(0, 20))}`);
        await assert.rejects(store.remove(name), hasCode('BACKUP_DESTINATION_INVALID'), `remove ${JSON.stringify(name.slice(0, 20))}`);
      }
      assert.deepEqual(await store.list(''), []);
    }));

    it('describes itself', withStore(async ({ store }) => {
      assert.ok(store.describe().length > 0);
    }));
  });
}

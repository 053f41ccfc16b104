// The S3 BackupStore against a real S3-compatible server (versitygw, started here on a
// free loopback port): the BackupStore contract, then what only an object store has:
// listing across pages, multipart uploads aborted on failure, prefixes sharing a bucket,
// credentials from the standard AWS places, and the errors of a missing bucket, refused
// credentials and an endpoint that does not answer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { S3BackupStore, type S3BackupStoreOptions } from '../../src/backup/s3-backup-store.js';
import { parseS3Destination } from '../../src/backup/s3-destination.js';
import { isQkvError } from '../../src/errors/errors.js';
import { freePort } from '../support/kube-api-server.js';
import { S3TestServer, skipWithoutS3Server } from '../support/s3-server.js';
import { tempDir } from '../support/temp-dir.js';
import { backupStoreContract } from './backup-store-contract.js';

const skip = skipWithoutS3Server();
/** The smallest part S3 allows, so that an 11 MiB write is a three-part upload. */
const PART_BYTES = 5 * 1024 * 1024;
let server: S3TestServer | undefined;
let bucketCount = 0;

before(async () => {
  if (skip === false) server = await S3TestServer.start();
});
after(async () => {
  await server?.stop();
});

function running(): S3TestServer {
  assert.ok(server, 'the S3 server runs');
  return server;
}

async function newBucket(): Promise<string> {
  bucketCount += 1;
  const bucket = `qkv-test-${bucketCount}-${randomBytes(3).toString('hex')}`;
  await running().createBucket(bucket);
  return bucket;
}

function storeAt(destination: string, options: S3BackupStoreOptions = {}): S3BackupStore {
  return new S3BackupStore(parseS3Destination(destination), { credentials: running().credentials, partBytes: PART_BYTES, ...options });
}

function hasCode(code: string): (error: unknown) => boolean {
  return (error) => isQkvError(error) && error.code === code;
}

async function* bytesOf(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

async function readText(store: S3BackupStore, name: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of store.read(name)) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString();
}

backupStoreContract(
  'S3 (versitygw)',
  async () => {
    const store = storeAt(`s3://${await newBucket()}/backups?endpoint=${running().endpoint}`);
    return { store, largeBytes: 2 * PART_BYTES + 1024 * 1024, close: async () => store.close() };
  },
  { skip },
);

describe('S3BackupStore against a real S3 server', { skip }, () => {
  it('lists every name when the answer spans many pages', async () => {
    const store = storeAt(`s3://${await newBucket()}?endpoint=${running().endpoint}`, { listPageKeys: 2 });
    const names = Array.from({ length: 7 }, (_, index) => `set/file-${index}.bin`);
    for (const name of names) await store.write(name, bytesOf(name));
    assert.deepEqual(await store.list('set/'), names);
    store.close();
  });

  it('aborts the multipart upload of a write whose body fails: no parts are left behind', async () => {
    const bucket = await newBucket();
    const store = storeAt(`s3://${bucket}/p?endpoint=${running().endpoint}`);
    async function* failing(): AsyncIterable<Uint8Array> {
      yield randomBytes(PART_BYTES);
      yield randomBytes(PART_BYTES);
      throw new Error('disk read failed');
    }
    await assert.rejects(store.write('big.bin', failing()), /disk read failed/);
    const client = running().client();
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual(uploads.Uploads ?? [], [], 'no multipart upload remains open');
    client.destroy();
    store.close();
  });

  it('keeps stores with different prefixes of one bucket apart, a file being the object prefix + name', async () => {
    const bucket = await newBucket();
    const first = storeAt(`s3://${bucket}/cluster-a?endpoint=${running().endpoint}`);
    const second = storeAt(`s3://${bucket}/cluster-b/?endpoint=${running().endpoint}`);
    await first.write('set/x.bin', bytesOf('from a'));
    await second.write('set/x.bin', bytesOf('from b'));
    assert.equal(await readText(first, 'set/x.bin'), 'from a');
    assert.deepEqual(await second.list(''), ['set/x.bin']);
    const client = running().client();
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'cluster-a/set/x.bin' }));
    assert.equal(await object.Body?.transformToString(), 'from a');
    client.destroy();
    first.close();
    second.close();
  });

  it('takes its credentials from the AWS variables, or from the credentials file AWS_SHARED_CREDENTIALS_FILE names', async () => {
    const bucket = await newBucket();
    const { accessKeyId, secretAccessKey } = running().credentials;
    const saved = { ...process.env };
    const destination = parseS3Destination(`s3://${bucket}?endpoint=${running().endpoint}`);
    try {
      process.env.AWS_ACCESS_KEY_ID = accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = secretAccessKey;
      const fromVariables = new S3BackupStore(destination);
      await fromVariables.write('env.txt', bytesOf('variables'));
      fromVariables.close();

      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      const file = join(await tempDir(), 'credentials');
      await writeFile(file, `[backup]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`);
      process.env.AWS_SHARED_CREDENTIALS_FILE = file;
      process.env.AWS_PROFILE = 'backup';
      const fromFile = new S3BackupStore(destination);
      assert.equal(await readText(fromFile, 'env.txt'), 'variables');
      fromFile.close();
    } finally {
      for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE']) {
        if (saved[key] === undefined) Reflect.deleteProperty(process.env, key);
        else process.env[key] = saved[key];
      }
    }
  });

  it('a bucket that does not exist fails BACKUP_BUCKET_MISSING, naming it, for every operation', async () => {
    const store = storeAt(`s3://no-such-bucket-here/p?endpoint=${running().endpoint}`);
    const missing = (error: unknown) => hasCode('BACKUP_BUCKET_MISSING')(error) && /no-such-bucket-here/.test(String(error));
    await assert.rejects(store.write('x.bin', bytesOf('x')), missing);
    await assert.rejects(store.list(''), missing);
    await assert.rejects(readText(store, 'x.bin'), missing);
    store.close();
  });

  it('refused credentials fail BACKUP_STORE_ACCESS_DENIED and write nothing', async () => {
    const bucket = await newBucket();
    const wrongSecret = storeAt(`s3://${bucket}?endpoint=${running().endpoint}`, {
      credentials: { accessKeyId: running().credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    await assert.rejects(wrongSecret.write('x.bin', bytesOf('x')), hasCode('BACKUP_STORE_ACCESS_DENIED'));
    await assert.rejects(wrongSecret.list(''), hasCode('BACKUP_STORE_ACCESS_DENIED'));
    const unknownKey = storeAt(`s3://${bucket}?endpoint=${running().endpoint}`, { credentials: { accessKeyId: 'nobody', secretAccessKey: 'nothing' } });
    await assert.rejects(unknownKey.write('x.bin', bytesOf('x')), hasCode('BACKUP_STORE_ACCESS_DENIED'));
    assert.deepEqual(await storeAt(`s3://${bucket}?endpoint=${running().endpoint}`).list(''), []);
    wrongSecret.close();
    unknownKey.close();
  });

  it('an endpoint that does not answer fails BACKUP_STORE_UNREACHABLE', async () => {
    const port = await freePort();
    const store = storeAt(`s3://some-bucket?endpoint=http://127.0.0.1:${port}`, { requestAttemptsMax: 1 });
    await assert.rejects(store.list(''), (error: unknown) => hasCode('BACKUP_STORE_UNREACHABLE')(error) && /ECONNREFUSED/.test(String(error)));
    await assert.rejects(store.write('x.bin', bytesOf('x')), hasCode('BACKUP_STORE_UNREACHABLE'));
    store.close();
  });
});

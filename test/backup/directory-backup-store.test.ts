// The directory BackupStore on a temporary directory, through the BackupStore contract
// that the S3 store passes too (test/backup/s3-backup-store.test.ts).
import { DirectoryBackupStore } from '../../src/backup/directory-backup-store.js';
import { tempDir } from '../support/temp-dir.js';
import { backupStoreContract } from './backup-store-contract.js';

backupStoreContract('directory', async () => ({
  store: new DirectoryBackupStore(await tempDir(undefined, 'qkv-backup-store-')),
  largeBytes: 3 * 1024 * 1024,
  close: async () => {},
}));

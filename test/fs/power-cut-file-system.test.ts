// The power-cut disk's model (ADR 0125), checked on its own before the crash tests rely
// on it: synced bytes and synced names survive a cut, nothing else does, and the
// atomic-file writer leaves the old or the new content, never a mix, and the new one only
// because it syncs the directory after the rename.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileIfExists, writeFileAtomic } from '../../src/fs/atomic-file.js';
import { makeDirectoryDurable } from '../../src/fs/durable-directory.js';
import { PowerCutDisk, PowerCutError } from '../../src/fs/power-cut-file-system.js';

const DIR = '/data';

describe('power-cut disk', () => {
  it('keeps a file\'s bytes as of its last sync and drops the rest', async () => {
    const disk = new PowerCutDisk({ directories: [DIR] });
    const fileSystem = disk.fileSystem();
    const handle = await fileSystem.openForWrite(`${DIR}/log`, true);
    await fileSystem.syncDirectory(DIR);
    await handle.writeAll(Buffer.from('synced'), 0);
    await handle.datasync();
    await handle.writeAll(Buffer.from('+lost'), 6);
    disk.powerCut();
    assert.equal((await disk.fileSystem().readFile(`${DIR}/log`)).toString(), 'synced');
  });

  it('drops a synced file whose name was never synced in its directory', async () => {
    const disk = new PowerCutDisk({ directories: [DIR] });
    const handle = await disk.fileSystem().openForWrite(`${DIR}/segment`, true);
    await handle.writeAll(Buffer.from('data'), 0);
    await handle.datasync();
    disk.powerCut();
    assert.equal(await disk.fileSystem().exists(`${DIR}/segment`), false);
  });

  it('undoes an unsynced rename and remove, and keeps them once the directory is synced', async () => {
    const disk = new PowerCutDisk({ directories: [DIR] });
    let fileSystem = disk.fileSystem();
    for (const name of ['a', 'b']) {
      const handle = await fileSystem.openForWrite(`${DIR}/${name}`, true);
      await handle.writeAll(Buffer.from(name), 0);
      await handle.sync();
    }
    await fileSystem.syncDirectory(DIR);
    await fileSystem.rename(`${DIR}/a`, `${DIR}/c`);
    await fileSystem.remove(`${DIR}/b`);
    disk.powerCut();
    fileSystem = disk.fileSystem();
    assert.deepEqual((await fileSystem.listDirectory(DIR)).sort(), ['a', 'b']);
    await fileSystem.rename(`${DIR}/a`, `${DIR}/c`);
    await fileSystem.remove(`${DIR}/b`);
    await fileSystem.syncDirectory(DIR);
    disk.powerCut();
    fileSystem = disk.fileSystem();
    assert.deepEqual(await fileSystem.listDirectory(DIR), ['c']);
    assert.equal((await fileSystem.readFile(`${DIR}/c`)).toString(), 'a');
  });

  it('loses a new directory unless its parent is synced (makeDirectoryDurable does)', async () => {
    const plain = new PowerCutDisk({ directories: [DIR] });
    await plain.fileSystem().makeDirectory(`${DIR}/wal/deep`);
    plain.powerCut();
    assert.equal(await plain.fileSystem().exists(`${DIR}/wal`), false);
    const durable = new PowerCutDisk({ directories: [DIR] });
    await makeDirectoryDurable(durable.fileSystem(), `${DIR}/wal/deep`);
    durable.powerCut();
    assert.equal(await durable.fileSystem().exists(`${DIR}/wal/deep`), true);
  });

  it('refuses every call of a view and handle from before the cut', async () => {
    const disk = new PowerCutDisk({ directories: [DIR] });
    const before = disk.fileSystem();
    const handle = await before.openForWrite(`${DIR}/f`, true);
    disk.powerCut();
    await assert.rejects(handle.writeAll(Buffer.from('x'), 0), PowerCutError);
    await assert.rejects(before.listDirectory(DIR), PowerCutError);
    await assert.rejects(before.syncDirectory(DIR), PowerCutError);
  });

  it('keeps what a handle that writes through wrote, and only that: earlier unsynced bytes below it come back as zeros', async () => {
    const disk = new PowerCutDisk({ directories: [DIR] });
    const fileSystem = disk.fileSystem();
    const plain = await fileSystem.openForWrite(`${DIR}/log`, true);
    assert.equal(plain.writesThrough, false);
    await fileSystem.syncDirectory(DIR);
    await plain.writeAll(Buffer.from('head'), 0);
    await plain.datasync();
    await plain.writeAll(Buffer.from('gap!'), 4); // written, never synced
    await plain.close();
    const through = await fileSystem.openForWrite(`${DIR}/log`, false, { writeThrough: true });
    assert.equal(through.writesThrough, true);
    await through.writeAll(Buffer.from('tail'), 8);
    disk.powerCut();
    assert.equal((await disk.fileSystem().readFile(`${DIR}/log`)).toString(), 'head\0\0\0\0tail');
  });

  it('lets a fault drop a write through as it drops a sync', async () => {
    const disk = new PowerCutDisk({ directories: [DIR], faults: { skipFileSync: (syncNumber) => syncNumber === 1 } });
    const fileSystem = disk.fileSystem();
    const handle = await fileSystem.openForWrite(`${DIR}/log`, true, { writeThrough: true });
    await fileSystem.syncDirectory(DIR);
    await handle.writeAll(Buffer.from('kept'), 0); // file sync 0
    await handle.writeAll(Buffer.from('lost'), 4); // file sync 1: dropped
    disk.powerCut();
    assert.equal((await disk.fileSystem().readFile(`${DIR}/log`)).toString(), 'kept');
  });

  it('keeps only the torn prefix of a write through the power goes at, and nothing of it without the fault', async () => {
    const run = async (tornWriteBytes?: (writeBytes: number) => number): Promise<string> => {
      // Steps: open 0, directory sync 1, write 2 (through), write 3 (through, cut).
      const disk = new PowerCutDisk({ directories: [DIR], cutAtStep: 3, faults: tornWriteBytes ? { tornWriteBytes } : {} });
      const fileSystem = disk.fileSystem();
      const handle = await fileSystem.openForWrite(`${DIR}/log`, true, { writeThrough: true });
      await fileSystem.syncDirectory(DIR);
      await handle.writeAll(Buffer.from('acked;'), 0);
      await assert.rejects(handle.writeAll(Buffer.from('in flight'), 6), PowerCutError);
      return (await disk.fileSystem().readFile(`${DIR}/log`)).toString();
    };
    assert.equal(await run(), 'acked;', 'without the fault the write the power went at leaves nothing');
    assert.equal(await run((writeBytes) => Math.floor(writeBytes / 2)), 'acked;in f', 'the torn prefix, and no byte past it');
    assert.equal(await run((writeBytes) => writeBytes), 'acked;in flight', 'the whole write may have got out before the power went');
  });

  it('tears a plain write the power goes at as well, and drops what earlier writes left unsynced', async () => {
    const disk = new PowerCutDisk({ directories: [DIR], cutAtStep: 5, faults: { tornWriteBytes: () => 2 } });
    const fileSystem = disk.fileSystem();
    const handle = await fileSystem.openForWrite(`${DIR}/log`, true); // step 0
    await fileSystem.syncDirectory(DIR); // 1
    await handle.writeAll(Buffer.from('sync'), 0); // 2
    await handle.datasync(); // 3
    await handle.writeAll(Buffer.from('lost'), 4); // 4: written, never synced
    await assert.rejects(handle.writeAll(Buffer.from('torn'), 8), PowerCutError); // 5
    // The unsynced write below the torn bytes comes back as zeros, not as what it wrote.
    assert.equal((await disk.fileSystem().readFile(`${DIR}/log`)).toString(), 'sync\0\0\0\0to');
  });

  it('refuses a torn length outside the write', async () => {
    const disk = new PowerCutDisk({ directories: [DIR], cutAtStep: 1, faults: { tornWriteBytes: (writeBytes) => writeBytes + 1 } });
    const handle = await disk.fileSystem().openForWrite(`${DIR}/log`, true);
    await assert.rejects(handle.writeAll(Buffer.from('x'), 0), /a torn write keeps 0 to 1 bytes, not 2/);
  });

  it('cuts by itself at the chosen step, and that step has no effect', async () => {
    const disk = new PowerCutDisk({ directories: [DIR], cutAtStep: 2 });
    const fileSystem = disk.fileSystem();
    const handle = await fileSystem.openForWrite(`${DIR}/f`, true); // step 0
    await fileSystem.syncDirectory(DIR); // step 1
    await assert.rejects(handle.writeAll(Buffer.from('x'), 0), PowerCutError); // step 2
    assert.equal(disk.cuts, 1);
    assert.equal((await disk.fileSystem().readFile(`${DIR}/f`)).length, 0);
  });
});

describe('atomic file on the power-cut disk', () => {
  it('leaves the new content after a cut once it returned', async () => {
    const disk = new PowerCutDisk({ directories: [DIR] });
    await writeFileAtomic(`${DIR}/ring.json`, 'old', 0o644, disk.fileSystem());
    await writeFileAtomic(`${DIR}/ring.json`, 'new', 0o644, disk.fileSystem());
    disk.powerCut();
    assert.equal(await readFileIfExists(`${DIR}/ring.json`, disk.fileSystem()), 'new');
    // The temporary file's name never survives.
    assert.deepEqual(await disk.fileSystem().listDirectory(DIR), ['ring.json']);
  });

  it('leaves the old content, whole, at a cut anywhere inside the replacement', async () => {
    // Steps the first write takes, so that the cut lands inside the second one.
    const counting = new PowerCutDisk({ directories: [DIR] });
    await writeFileAtomic(`${DIR}/ring.json`, 'old', 0o644, counting.fileSystem());
    const setUpSteps = counting.steps;
    let cutPoints = 0;
    for (let cutAtStep = 0; ; cutAtStep++) {
      const cutting = new PowerCutDisk({ directories: [DIR], cutAtStep: setUpSteps + cutAtStep });
      await writeFileAtomic(`${DIR}/ring.json`, 'old', 0o644, cutting.fileSystem());
      const finished = await writeFileAtomic(`${DIR}/ring.json`, 'new', 0o644, cutting.fileSystem()).then(() => true, () => false);
      if (finished) break;
      const after = await readFileIfExists(`${DIR}/ring.json`, cutting.fileSystem());
      assert.equal(after, 'old', `cut at step ${cutAtStep} of the replacement`);
      cutPoints++;
    }
    // Create, write, chmod, sync, rename and directory sync: a cut before each.
    assert.ok(cutPoints >= 6, `only ${cutPoints} cut points`);
  });

  it('the checker sees a lost rename: without the directory sync a cut brings the old content back', async () => {
    const disk = new PowerCutDisk({ directories: [DIR], faults: { skipDirectorySync: () => armed } });
    let armed = false;
    await writeFileAtomic(`${DIR}/ring.json`, 'old', 0o644, disk.fileSystem());
    armed = true;
    await writeFileAtomic(`${DIR}/ring.json`, 'new', 0o644, disk.fileSystem());
    disk.powerCut();
    assert.equal(await readFileIfExists(`${DIR}/ring.json`, disk.fileSystem()), 'old');
  });

  it('the checker sees unsynced data: without the file sync the renamed file comes back empty', async () => {
    let armed = false;
    const disk = new PowerCutDisk({ directories: [DIR], faults: { skipFileSync: () => armed } });
    await writeFileAtomic(`${DIR}/ring.json`, 'old', 0o644, disk.fileSystem());
    armed = true;
    await writeFileAtomic(`${DIR}/ring.json`, 'new', 0o644, disk.fileSystem());
    disk.powerCut();
    assert.equal(await readFileIfExists(`${DIR}/ring.json`, disk.fileSystem()), '');
  });
});

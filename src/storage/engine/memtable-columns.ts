// What a memtable holds per key, in columns: one typed array per field, indexed by the
// key's slot, instead of an entry object (and the version object and bigint it kept) per
// key. Every key written since the last checkpoint lives until the memtable is dropped,
// so each such object survived V8's young-generation collections and was copied by them:
// with an object per key, scavenges were a fifth of the engine thread's time at
// concurrency 64, and a memtable keeping nothing per key used 11-21 % less of its CPU per
// write (docs/operations/performance.md, storage engine, fourth pass; ADR 0253). The
// columns are a few large arrays the collector does not copy.
//
// A slot is taken for each new key and never given back: a memtable lives from one
// checkpoint to the next, and its budget (memtable.ts) counts every slot.
import assert from 'node:assert/strict';
import type { KvRecord, Version } from '../record.js';
import { MemtableEntry } from './memtable-entry.js';

const STAMP_MAX = (1n << 64n) - 1n;
/** Slots of a new memtable's columns; they double when full. */
const SLOTS_INITIAL = 1024;

export class MemtableColumns {
  private capacity = SLOTS_INITIAL;
  private used = 0;
  /** The slab holding each slot's key and value bytes (memtable-slab.ts). */
  private slabOf: Buffer[] = [];
  private keyOffset = new Uint32Array(SLOTS_INITIAL);
  private keyLength = new Uint32Array(SLOTS_INITIAL);
  /** -1 for a tombstone. */
  private valueLength = new Int32Array(SLOTS_INITIAL);
  private stamp = new BigUint64Array(SLOTS_INITIAL);
  /** Index into `nodeIds`: the few node ids of a memtable are kept once each. */
  private nodeIdIndex = new Uint32Array(SLOTS_INITIAL);
  private expiresAtMs = new Float64Array(SLOTS_INITIAL);
  private readonly nodeIds: string[] = [];
  private readonly nodeIdSlots = new Map<string, number>();

  /** A new slot holding these fields; returns its number. */
  add(slab: Buffer, keyOffset: number, keyLength: number, valueLength: number, version: Version, expiresAtMs: number): number {
    if (this.used === this.capacity) this.grow();
    const slot = this.used++;
    this.slabOf.push(slab);
    this.write(slot, slab, keyOffset, keyLength, valueLength, version, expiresAtMs);
    return slot;
  }

  /** Replaces a slot's fields (a newer version of its key). */
  write(slot: number, slab: Buffer, keyOffset: number, keyLength: number, valueLength: number, version: Version, expiresAtMs: number): void {
    // A BigUint64Array would wrap a stamp outside 0..2^64-1 without a word; the WAL's
    // codec refuses such stamps before any record gets here, this says so at the column.
    if (version.stamp < 0n || version.stamp > STAMP_MAX) assert.fail('stamp outside 64 bits reached the memtable');
    this.slabOf[slot] = slab;
    this.keyOffset[slot] = keyOffset;
    this.keyLength[slot] = keyLength;
    this.valueLength[slot] = valueLength;
    this.stamp[slot] = version.stamp;
    this.nodeIdIndex[slot] = this.nodeIdIndexOf(version.nodeId);
    this.expiresAtMs[slot] = expiresAtMs;
  }

  /** The slot's version: a new object, which the caller may keep or drop. */
  version(slot: number): Version {
    return { stamp: this.stamp[slot]!, nodeId: this.nodeIds[this.nodeIdIndex[slot]!]! };
  }

  /**
   * compareVersions(version, the slot's version), without building the slot's version
   * object: last-writer-wins checks on every put.
   */
  compareWith(version: Version, slot: number): number {
    const held = this.stamp[slot]!;
    if (version.stamp !== held) return version.stamp < held ? -1 : 1;
    const heldNodeId = this.nodeIds[this.nodeIdIndex[slot]!]!;
    if (version.nodeId === heldNodeId) return 0;
    return version.nodeId < heldNodeId ? -1 : 1;
  }

  /** The slot's record, its key and value views of the slab (see Memtable.get). */
  record(slot: number): KvRecord {
    const slab = this.slabOf[slot]!;
    const keyStart = this.keyOffset[slot]!;
    const valueStart = keyStart + this.keyLength[slot]!;
    const valueLength = this.valueLength[slot]!;
    return {
      key: slab.subarray(keyStart, valueStart),
      value: valueLength < 0 ? null : slab.subarray(valueStart, valueStart + valueLength),
      version: this.version(slot),
      expiresAtMs: this.expiresAtMs[slot]!,
    };
  }

  /** The slot's fields as one entry object: for checkpoints, not kept here. */
  entry(slot: number): MemtableEntry {
    return new MemtableEntry(this.slabOf[slot]!, this.keyOffset[slot]!, this.keyLength[slot]!, this.valueLength[slot]!, this.version(slot), this.expiresAtMs[slot]!);
  }

  /** The slot's key: a view of its slab. */
  key(slot: number): Buffer {
    const start = this.keyOffset[slot]!;
    return this.slabOf[slot]!.subarray(start, start + this.keyLength[slot]!);
  }

  private nodeIdIndexOf(nodeId: string): number {
    let index = this.nodeIdSlots.get(nodeId);
    if (index === undefined) {
      index = this.nodeIds.length;
      this.nodeIds.push(nodeId);
      this.nodeIdSlots.set(nodeId, index);
    }
    return index;
  }

  private grow(): void {
    this.capacity *= 2;
    const grown = <T extends Uint32Array | Int32Array | BigUint64Array | Float64Array>(old: T, make: (length: number) => T): T => {
      const next = make(this.capacity);
      next.set(old as never);
      return next;
    };
    this.keyOffset = grown(this.keyOffset, (length) => new Uint32Array(length));
    this.keyLength = grown(this.keyLength, (length) => new Uint32Array(length));
    this.valueLength = grown(this.valueLength, (length) => new Int32Array(length));
    this.stamp = grown(this.stamp, (length) => new BigUint64Array(length));
    this.nodeIdIndex = grown(this.nodeIdIndex, (length) => new Uint32Array(length));
    this.expiresAtMs = grown(this.expiresAtMs, (length) => new Float64Array(length));
  }
}

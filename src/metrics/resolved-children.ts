// Counters and histograms for the request path whose children (one per set of label
// values) are found once and then kept, instead of being worked out from a labels object
// on every call. prom-client's inc() and observe() check every label name, build a
// string from the labels and look it up on each call: 240 ns for a counter with three
// labels and 620 ns for a histogram in a tight loop on the development machine, more
// inside a busy node, and a coordinated Put makes six of them
// (docs/decisions/0221-metric-children-resolved-once.md).
//
// A child here is a plain object: a counter child adds to a number, a histogram child
// bumps one bucket. prom-client still owns the registry and the text format: a counter
// adds what its children counted when it is collected (a scrape), and a histogram hands
// the registry its children's buckets in the same shape as prom-client's own Histogram
// does, so /metrics reads the same (test/metrics/resolved-children.test.ts compares the
// two texts). Children are never removed: every label value comes from a small fixed set
// or from the cluster's node ids (docs/style.md point 11).
import { Counter, Histogram, type LabelValues, type Registry } from 'prom-client';

/** Label values as the callers have them; a number (a quorum) is looked up by its text. */
type LabelValue = string | number;

/**
 * The children of one metric, found by their label values in a tree of Maps (one level
 * per label name): a lookup is a Map get per label, with no labels string built (a small
 * number's text comes from V8's number-string cache).
 */
class ChildTree<Child> {
  // Keyed by the label's text: a quorum given as 2 in one place and '2' in another is one
  // child, as it is one series to prom-client, not two series with the same labels.
  private readonly root = new Map<string, unknown>();
  readonly all: Child[] = [];

  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: (labels: Record<string, string>) => Child,
  ) {}

  find(values: readonly LabelValue[]): Child {
    let level = this.root;
    const last = this.labelNames.length - 1;
    for (let i = 0; i < last; i++) {
      const key = String(values[i]);
      let next = level.get(key) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const lastKey = String(values[last]);
    let child = level.get(lastKey) as Child | undefined;
    if (child === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = String(values[i])));
      child = this.make(labels);
      level.set(lastKey, child);
      this.all.push(child);
    }
    return child;
  }
}

export interface CounterChild {
  inc(amount?: number): void;
}

class PendingCount implements CounterChild {
  pending = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(amount = 1): void {
    // prom-client's Counter.inc checks, made here at the call: a bad amount left pending
    // would instead make every scrape of the registry throw until it was outweighed.
    if (amount && !Number.isFinite(amount)) throw new TypeError(`Value is not a valid number: ${amount}`);
    if (amount < 0) throw new Error('It is not possible to decrease a counter');
    this.pending += amount;
  }
}

export interface ResolvedCounterOptions<Label extends string> {
  readonly name: string;
  readonly help: string;
  /** At least one: a counter without labels is a prom-client Counter. */
  readonly labelNames: readonly Label[];
  readonly registry: Registry;
}

/** A prom-client counter with labels whose children the caller resolves once and keeps. */
export class ResolvedCounter<Label extends string> {
  private readonly children: ChildTree<PendingCount>;

  constructor(options: ResolvedCounterOptions<Label>) {
    if (options.labelNames.length === 0) throw new Error(`${options.name}: a resolved counter needs labels`);
    const children = new ChildTree(options.labelNames, (labels) => new PendingCount(labels));
    this.children = children;
    const counter = new Counter<Label>({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      registers: [options.registry],
      // Runs before every read of the counter (a scrape, registry.getMetricsAsJSON): what
      // the children counted since the last one is added then.
      collect() {
        for (const child of children.all) {
          if (child.pending === 0) continue;
          this.inc(child.labels as LabelValues<Label>, child.pending);
          child.pending = 0;
        }
      },
    });
    // A reset (registry.resetMetrics()) drops what the children counted since the last
    // scrape too: left pending, it would come back on the next scrape as if counted after.
    const resetSeries = counter.reset.bind(counter);
    counter.reset = () => {
      for (const child of children.all) child.pending = 0;
      resetSeries();
    };
  }

  /** The child for these label values, in the order of `labelNames`. */
  child(...values: LabelValue[]): CounterChild {
    return this.children.find(values);
  }
}

export interface HistogramChild {
  observe(value: number): void;
}

class BucketCounts implements HistogramChild {
  /** Observations per bucket, not cumulative; the last slot is past every bound (+Inf only). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // Like prom-client, which throws this for NaN and the infinities: NaN compares false
    // with every bound and would land in the lowest bucket (a call reported as the
    // fastest) and turn the sum into NaN for good.
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    // Like prom-client: a value goes to the first bucket whose bound is >= it.
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i] = this.counts[i]! + 1;
    this.sum += value;
    this.count++;
  }
}

export interface ResolvedHistogramOptions<Label extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly Label[];
  /** Upper bounds, ascending. */
  readonly buckets: readonly number[];
  readonly registry: Registry;
}

/** One value of a histogram as prom-client's registry formats it. */
interface ExportedValue {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  readonly value: number;
  readonly metricName: string;
}

/**
 * A prom-client Histogram whose observations go to children the caller resolves once.
 * The registry reads it through get() (JSON) and getForPromString() (the text format);
 * both are built here from the children, in the shape prom-client's own Histogram gives.
 */
export class ResolvedHistogram<Label extends string> extends Histogram<Label> {
  private readonly children: ChildTree<BucketCounts>;
  private readonly bounds: readonly number[];
  // prom-client keeps these on the metric but does not declare them in its types.
  private readonly metricName: string;
  private readonly metricHelp: string;

  constructor(options: ResolvedHistogramOptions<Label>) {
    // Checked before super() registers the metric: a histogram refused here must not stay
    // in the registry half built, where every later scrape would throw.
    if (options.labelNames.length === 0) throw new Error(`${options.name}: a resolved histogram needs labels`);
    for (let i = 1; i < options.buckets.length; i++) {
      if (!(options.buckets[i]! > options.buckets[i - 1]!)) throw new Error(`${options.name}: buckets must ascend`);
    }
    super({ name: options.name, help: options.help, labelNames: options.labelNames, buckets: [...options.buckets], registers: [options.registry] });
    this.metricName = options.name;
    this.metricHelp = options.help;
    const bounds = [...options.buckets];
    this.bounds = bounds;
    this.children = new ChildTree(options.labelNames, (labels) => new BucketCounts(labels, bounds));
    // prom-client's own ways in would record into state this class never exports, so an
    // observation made through them would vanish from /metrics: they throw instead.
    // (prom-client sets `observe` on the instance in its constructor, so it is replaced here.)
    const refuse = (): never => {
      throw new Error(`${options.name}: observe through child(...) (a ResolvedHistogram exports only its children)`);
    };
    Object.assign(this, { observe: refuse, labels: refuse, startTimer: refuse });
  }

  /** The child for these label values, in the order of `labelNames`. */
  child(...values: LabelValue[]): HistogramChild {
    return this.children.find(values);
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class has set its fields.
    const children = this.children as ChildTree<BucketCounts> | undefined;
    if (children === undefined) return;
    for (const child of children.all) {
      child.counts.fill(0);
      child.sum = 0;
      child.count = 0;
    }
  }

  /** What the registry's text format reads: the child's labels travel as shared labels. */
  getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: ExportedValue[]; aggregator: 'sum' }> {
    return Promise.resolve({ name: this.metricName, help: this.metricHelp, type: 'histogram', values: this.exported(false), aggregator: 'sum' });
  }

  // prom-client types get() with its own value shape; ours is the same with metricName set.
  override get(): ReturnType<Histogram<Label>['get']> {
    return Promise.resolve({ name: this.metricName, help: this.metricHelp, type: 'histogram', values: this.exported(true), aggregator: 'sum' }) as unknown as ReturnType<Histogram<Label>['get']>;
  }

  private exported(splayed: boolean): ExportedValue[] {
    const values: ExportedValue[] = [];
    const bucketName = `${this.metricName}_bucket`;
    const value = (labels: Record<string, string | number>, shared: Record<string, string>, amount: number, metricName: string): ExportedValue =>
      splayed ? { labels: { ...labels, ...shared }, value: amount, metricName } : { labels, sharedLabels: shared, value: amount, metricName };
    for (const child of this.children.all) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += child.counts[i]!;
        values.push(value({ le: bound }, child.labels, cumulative, bucketName));
      });
      values.push(value({ le: '+Inf' }, child.labels, child.count, bucketName));
      values.push(value({}, child.labels, child.sum, `${this.metricName}_sum`));
      values.push(value({}, child.labels, child.count, `${this.metricName}_count`));
    }
    return values;
  }
}

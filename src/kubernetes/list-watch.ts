// A list-then-watch loop over one kind of Kubernetes object, the way client-go's
// reflector keeps an informer cache: list to get every object and a resourceVersion,
// then watch from that version and apply ADDED/MODIFIED/DELETED events to the cache.
//
// What goes wrong in real clusters, and what the loop does about it:
// - 410 Gone (the version we resume from was compacted away): relist, then watch anew.
// - The server ends a watch (its timeoutSeconds, an API server restart): resume the
//   watch from the last resourceVersion seen, with no relist.
// - A failed list or watch (network, 5xx, 403 while RBAC is being applied): retry after
//   an exponential backoff with jitter, reset once a list succeeds.
// - A watch that goes silent (a half-open connection that never closes): a watchdog
//   aborts it once nothing, not even a bookmark, has arrived for longer than the
//   watch's own server-side timeout plus a grace period, and the loop resumes.
// After every change the owner gets the whole cache (`onChange`), never a single event,
// so a missed or repeated event cannot leave it out of step.
import * as k8s from '@kubernetes/client-node';
import {
  KUBE_RECONNECT_BACKOFF_INITIAL_MS,
  KUBE_RECONNECT_BACKOFF_MAX_MS,
  KUBE_WATCH_OBJECTS_MAX,
  KUBE_WATCH_SILENCE_GRACE_MS,
  KUBE_WATCH_TIMEOUT_SECONDS_DEFAULT,
} from '../limits.js';
import type { Logger } from '../logging/logger.js';
import { WakeableSleep } from './wakeable-sleep.js';

export interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
}

export interface ListWatchTiming {
  readonly watchTimeoutSeconds: number;
  readonly silenceGraceMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
}

export const LIST_WATCH_TIMING_DEFAULTS: ListWatchTiming = {
  watchTimeoutSeconds: KUBE_WATCH_TIMEOUT_SECONDS_DEFAULT,
  silenceGraceMs: KUBE_WATCH_SILENCE_GRACE_MS,
  backoffInitialMs: KUBE_RECONNECT_BACKOFF_INITIAL_MS,
  backoffMaxMs: KUBE_RECONNECT_BACKOFF_MAX_MS,
};

export interface ListWatchOptions<T extends KubeObject> {
  readonly kubeConfig: k8s.KubeConfig;
  /** Collection path, e.g. /api/v1/namespaces/quorumkv/pods. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Lists the collection with the same selectors through a typed API client; given the
   * selectors and a limit. Separate from `path` because the typed clients (CoreV1Api,
   * CustomObjectsApi) own the list calls, and the Watch helper only takes a path.
   */
  readonly list: (query: { labelSelector?: string; fieldSelector?: string; limit: number }) => Promise<ListResponse<T>>;
  /** What the loop is watching, for logs ("pods", "QuorumKVCluster"). */
  readonly what: string;
  readonly logger: Logger;
  readonly onChange: (objects: ReadonlyMap<string, T>) => void;
  readonly timing?: Partial<ListWatchTiming>;
}

/** Counters a test or a metric can read. */
export interface ListWatchStats {
  lists: number;
  watches: number;
  gone: number;
  watchdogAborts: number;
  failures: number;
}

export interface ListResponse<T> {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items?: readonly T[];
}

interface WatchEnd {
  readonly kind: 'closed' | 'gone' | 'failed' | 'silent' | 'stopped';
  readonly error?: unknown;
}

export class ListWatch<T extends KubeObject> {
  readonly stats: ListWatchStats = { lists: 0, watches: 0, gone: 0, watchdogAborts: 0, failures: 0 };
  private readonly timing: ListWatchTiming;
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private stopped = false;
  private running: Promise<void> | undefined;
  private abortCurrent: (() => void) | undefined;
  private readonly pause = new WakeableSleep();
  private firstSync!: { resolve: () => void; promise: Promise<void> };

  constructor(private readonly options: ListWatchOptions<T>) {
    this.timing = { ...LIST_WATCH_TIMING_DEFAULTS, ...options.timing };
  }

  /** Starts the loop; resolves after the first successful list has been reported. */
  start(): Promise<void> {
    let resolve!: () => void;
    const promise = new Promise<void>((done) => (resolve = done));
    this.firstSync = { resolve, promise };
    this.running = this.loop();
    return promise;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abortCurrent?.();
    this.pause.wake();
    this.firstSync?.resolve();
    await this.running;
  }

  private async loop(): Promise<void> {
    let backoffMs = this.timing.backoffInitialMs;
    let needList = true;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.list();
          needList = false;
          backoffMs = this.timing.backoffInitialMs;
          this.firstSync.resolve();
        } catch (error) {
          this.stats.failures += 1;
          this.options.logger.warn({ err: error, what: this.options.what, retryInMs: backoffMs }, 'list failed; retrying');
          await this.pause.sleep(jitter(backoffMs));
          backoffMs = Math.min(backoffMs * 2, this.timing.backoffMaxMs);
          continue;
        }
      }
      const end = await this.watchOnce();
      switch (end.kind) {
        case 'stopped':
          return;
        case 'closed':
          // The server's timeoutSeconds ran out: resume from the last version at once.
          break;
        case 'gone':
          this.stats.gone += 1;
          this.options.logger.info({ what: this.options.what }, 'watch version expired (410 Gone); relisting');
          needList = true;
          break;
        case 'silent':
          this.stats.watchdogAborts += 1;
          this.options.logger.warn({ what: this.options.what, silenceMs: this.silenceLimitMs() }, 'watch went silent; restarting it');
          break;
        case 'failed':
          this.stats.failures += 1;
          this.options.logger.warn({ err: end.error, what: this.options.what, retryInMs: backoffMs }, 'watch failed; retrying');
          await this.pause.sleep(jitter(backoffMs));
          backoffMs = Math.min(backoffMs * 2, this.timing.backoffMaxMs);
          // A watch that fails to start may mean our version is stale beyond repair on
          // this server (an etcd restore): a relist is the safe way back.
          needList = true;
          break;
      }
    }
  }

  private async list(): Promise<void> {
    const { options } = this;
    const body = await options.list({ labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: KUBE_WATCH_OBJECTS_MAX });
    this.stats.lists += 1;
    this.cache.clear();
    for (const item of body.items ?? []) {
      const name = item.metadata?.name;
      if (name !== undefined) this.cache.set(name, item);
    }
    this.resourceVersion = body.metadata?.resourceVersion ?? '';
    this.emit();
  }

  private silenceLimitMs(): number {
    return this.timing.watchTimeoutSeconds * 1000 + this.timing.silenceGraceMs;
  }

  private async watchOnce(): Promise<WatchEnd> {
    if (this.stopped) return { kind: 'stopped' };
    const { options } = this;
    const watch = new k8s.Watch(options.kubeConfig);
    this.stats.watches += 1;
    return new Promise<WatchEnd>((resolve) => {
      let settled = false;
      let controller: AbortController | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      const finish = (end: WatchEnd): void => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        this.abortCurrent = undefined;
        controller?.abort();
        resolve(end);
      };
      const armWatchdog = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => finish({ kind: 'silent' }), this.silenceLimitMs());
      };
      this.abortCurrent = () => finish({ kind: 'stopped' });
      armWatchdog();
      const query: Record<string, string | number | boolean | undefined> = {
        resourceVersion: this.resourceVersion || undefined,
        allowWatchBookmarks: true,
        timeoutSeconds: this.timing.watchTimeoutSeconds,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      };
      watch
        .watch(
          options.path,
          query,
          (phase: string, object: unknown) => {
            if (settled) return;
            armWatchdog();
            this.onEvent(phase, object, finish);
          },
          (error: unknown) => {
            if (this.stopped) finish({ kind: 'stopped' });
            else if (error === null || error === undefined) finish({ kind: 'closed' });
            else if (statusCodeOf(error) === 410) finish({ kind: 'gone' });
            else if (isAbort(error) && settled) finish({ kind: 'stopped' });
            else finish({ kind: 'failed', error });
          },
        )
        .then((started) => {
          controller = started;
          if (settled) started.abort();
        })
        .catch((error: unknown) => finish({ kind: 'failed', error }));
    });
  }

  private onEvent(phase: string, object: unknown, finish: (end: WatchEnd) => void): void {
    if (phase === 'ERROR') {
      const code = (object as { code?: number } | undefined)?.code;
      finish(code === 410 ? { kind: 'gone' } : { kind: 'failed', error: new Error(`watch error event: ${JSON.stringify(object)}`) });
      return;
    }
    const item = object as T;
    const version = item.metadata?.resourceVersion;
    if (version !== undefined) this.resourceVersion = version;
    if (phase === 'BOOKMARK') return;
    const name = item.metadata?.name;
    if (name === undefined) return;
    if (phase === 'DELETED') {
      if (!this.cache.delete(name)) return;
    } else if (phase === 'ADDED' || phase === 'MODIFIED') {
      if (!this.cache.has(name) && this.cache.size >= KUBE_WATCH_OBJECTS_MAX) {
        this.options.logger.error({ what: this.options.what, objectsMax: KUBE_WATCH_OBJECTS_MAX, name }, 'too many objects match; ignoring this one');
        return;
      }
      this.cache.set(name, item);
    } else {
      return;
    }
    this.emit();
  }

  private emit(): void {
    try {
      this.options.onChange(new Map(this.cache));
    } catch (error) {
      this.options.logger.error({ err: error, what: this.options.what }, 'list/watch change handler failed');
    }
  }

}

/** ±20 % so that a whole StatefulSet does not reconnect in lockstep. */
function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

function statusCodeOf(error: unknown): number | undefined {
  const value = (error as { statusCode?: unknown; code?: unknown } | null)?.statusCode;
  return typeof value === 'number' ? value : undefined;
}

function isAbort(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}

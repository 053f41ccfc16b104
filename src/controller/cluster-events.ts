// Kubernetes Events about a QuorumKVCluster (docs/decisions/0161): what `kubectl describe
// quorumkvcluster` and `kubectl get events` show of the scale controller's work next to
// its status condition. The condition says where the cluster is now; the Events say what
// happened, in order: each scaling step, decommission, cleanup and failure.
//
// Events are core/v1 Events, which every kubectl and dashboard shows. A repeat of the same
// type, reason and message within CONTROLLER_EVENT_SERIES_WINDOW_MS is aggregated as
// client-go's recorder does: the existing Event's count goes up and its lastTimestamp
// moves, so a decommission that fails on every resync is one Event with a count, not
// thousands. Recording is best effort: a failure to write an Event is logged and never
// stops the controller, whose status condition stays the record that must be right.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../logging/logger.js';
import { CONTROLLER_EVENT_MESSAGE_CHARS_MAX, CONTROLLER_EVENT_SERIES_MAX, CONTROLLER_EVENT_SERIES_WINDOW_MS } from '../limits.js';

export type EventType = 'Normal' | 'Warning';

/** The component Events name as their source (`kubectl get events` column FROM). */
export const EVENT_COMPONENT = 'quorumkv-controller';

/** The object the Events are about. */
export interface InvolvedCluster {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Absent when unknown; kubectl matches Events to the object by it when present. */
  readonly uid?: string;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

interface Series {
  readonly eventName: string;
  count: number;
  lastAtMs: number;
}

export class ClusterEventRecorder {
  /** By type, reason and message, oldest first (a Map keeps insertion order). */
  private readonly series = new Map<string, Series>();

  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly logger: Logger,
    private readonly instance: string,
    private readonly now: () => number = Date.now,
  ) {}

  async record(involved: InvolvedCluster, type: EventType, reason: string, messageText: string): Promise<void> {
    const message = messageText.length > CONTROLLER_EVENT_MESSAGE_CHARS_MAX ? `${messageText.slice(0, CONTROLLER_EVENT_MESSAGE_CHARS_MAX - 1)}…` : messageText;
    const key = `${involved.uid ?? involved.name}\n${type}\n${reason}\n${message}`;
    const nowMs = this.now();
    try {
      const known = this.series.get(key);
      if (known !== undefined && nowMs - known.lastAtMs <= CONTROLLER_EVENT_SERIES_WINDOW_MS) {
        if (await this.repeat(involved.namespace, known, nowMs)) {
          // Most recent last, so that the oldest series is the one forgotten.
          this.series.delete(key);
          this.series.set(key, known);
          return;
        }
      }
      const eventName = await this.create(involved, type, reason, message, nowMs);
      this.series.delete(key);
      this.series.set(key, { eventName, count: 1, lastAtMs: nowMs });
      while (this.series.size > CONTROLLER_EVENT_SERIES_MAX) this.series.delete(this.series.keys().next().value!);
    } catch (error) {
      this.logger.warn({ err: error, reason, type }, 'could not record a Kubernetes Event; the QuorumKVCluster status still has it');
    }
  }

  /** Counts a repeat on the existing Event; false when it is gone (Events expire). */
  private async repeat(namespace: string, series: Series, nowMs: number): Promise<boolean> {
    try {
      await this.core.patchNamespacedEvent(
        { name: series.eventName, namespace, body: { count: series.count + 1, lastTimestamp: new Date(nowMs).toISOString() } },
        mergePatch,
      );
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code === 404) return false;
      throw error;
    }
    series.count += 1;
    series.lastAtMs = nowMs;
    return true;
  }

  private async create(involved: InvolvedCluster, type: EventType, reason: string, message: string, nowMs: number): Promise<string> {
    // The name client-go gives: the object's name and a unique suffix.
    const eventName = `${involved.name}.${nowMs.toString(16)}${randomBytes(4).toString('hex')}`;
    const at = new Date(nowMs);
    await this.core.createNamespacedEvent({
      namespace: involved.namespace,
      body: {
        metadata: { name: eventName, namespace: involved.namespace },
        involvedObject: { apiVersion: involved.apiVersion, kind: involved.kind, namespace: involved.namespace, name: involved.name, uid: involved.uid },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
        source: { component: EVENT_COMPONENT },
        reportingComponent: EVENT_COMPONENT,
        reportingInstance: this.instance,
      },
    });
    return eventName;
  }
}

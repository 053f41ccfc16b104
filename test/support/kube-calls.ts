// Small helpers the Kubernetes tests share: running the real helm binary, rendering the
// chart into objects, and the text of a call the API server (or helm) refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { findHelm } from './kube-api-server.js';

const run = promisify(execFile);

/** Runs helm (found by findHelm) with `args`; rejects on a non-zero exit. */
export async function helm(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run(findHelm()!, [...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
}

/** The status code, message, body and stderr of a refused call; fails the test if it was allowed. */
export async function refusedWith(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const failure = error as Error & { code?: number; body?: unknown; stderr?: string };
    return `${failure.code ?? ''} ${failure.message} ${String(failure.body ?? '')} ${failure.stderr ?? ''}`;
  }
  assert.fail('the call was allowed');
}

/** The chart in the repository (helm/quorumkv). */
export const CHART_DIR = fileURLToPath(new URL('../../../helm/quorumkv', import.meta.url));

/** `helm template` of the chart as release `release`, parsed into its objects. */
export async function renderChart(release: string, args: readonly string[] = []): Promise<k8s.KubernetesObject[]> {
  const { stdout } = await helm(['template', release, CHART_DIR, ...args]);
  return k8s.loadAllYaml(stdout).filter((object): object is k8s.KubernetesObject => object !== null && typeof object === 'object');
}

/** The one rendered object of `kind` named `name`; fails the test when it is not there. */
export function renderedObject<T extends k8s.KubernetesObject>(objects: readonly k8s.KubernetesObject[], kind: string, name: string): T {
  const found = objects.filter((object) => object.kind === kind && object.metadata?.name === name);
  assert.equal(found.length, 1, `${kind}/${name} in ${objects.map((object) => `${object.kind}/${object.metadata?.name}`).join(', ')}`);
  return found[0] as T;
}

// The scale controller against a real kube-apiserver, installed by the real Helm chart
// and run as a real `qkv controller` process with its chart ServiceAccount's token (so
// the chart's RBAC is proven sufficient by use). No controller manager runs, so the
// test plays the StatefulSet controller (test/support/kube-statefulset.ts). The members
// the controller decommissions are real gRPC servers implementing the Admin service of
// proto/quorumkv/v1/admin.proto with a scripted ring state
// (test/support/scripted-admin-node.ts), listening on the pods' IPs; the last test runs
// real `qkv server` processes instead. Everything speaks TLS: the members serve node
// certificates of a CA the test makes, and the controller calls them with the admin
// user's client certificate (--certs-dir).
//
// What must hold: the highest ordinal is decommissioned first and the StatefulSet
// drops by one only after that member reports LEFT; a failing or hanging decommission
// blocks the scale-down and shows in the status; a restarted controller takes up
// where the last one stopped; a scale-up raises the StatefulSet by one member at a time
// and reports the joins; the steps and failures are Events on the QuorumKVCluster;
// the API server refuses fewer replicas than the replication factor.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION } from '../../src/kubernetes/cluster-spec.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { ensureLocalCertificates, type LocalCertificates } from '../../src/security/local-certificates.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { helm, refusedWith } from '../support/kube-calls.js';
import { KubeApiServer, findKubeBinaries, freePort, skipWithoutKube } from '../support/kube-api-server.js';
import { eventually } from '../support/kube-pods.js';
import { StatefulSetPlayer } from '../support/kube-statefulset.js';
import { NodeProcess } from '../support/node-process.js';
import { DECOMMISSION_FAILURE, ScriptedAdminNode, type AdminEvent, type ScriptedRingState } from '../support/scripted-admin-node.js';
import { tempDir } from '../support/temp-dir.js';

type Json = Record<string, unknown>;

const CHART = fileURLToPath(new URL('../../../helm/quorumkv', import.meta.url));
const RELEASE = 'qkv';
const FULLNAME = 'qkv-quorumkv';
const POLL_MS = 200;
const RESYNC_MS = 1000;
const RPC_TIMEOUT_MS = 1500;
/** The most members any test here has. */
const MEMBERS_MAX = 5;

describe('scale controller (real API server, helm chart, qkv controller process)', { skip: skipWithoutKube(true) }, () => {
  let server: KubeApiServer;
  let grpcPort: number;
  let peerPort: number;
  /** The CA, a node certificate per member name and the admin client certificate. */
  let certs: LocalCertificates;

  before(async () => {
    server = await KubeApiServer.start(findKubeBinaries()!);
    grpcPort = await freePort();
    peerPort = await freePort();
    const memberNames = Array.from({ length: MEMBERS_MAX }, (_, ordinal) => `${FULLNAME}-${ordinal}`);
    certs = await ensureLocalCertificates({ dir: await tempDir(), nodeIds: memberNames, users: ['admin'] });
  });
  after(async () => {
    await server?.stop();
  });

  /** A helm release in its own namespace, its pods played, and the controller running. */
  class Harness {
    readonly events: AdminEvent[] = [];
    readonly nodes = new Map<number, ScriptedAdminNode>();
    readonly custom: k8s.CustomObjectsApi;
    readonly apps: k8s.AppsV1Api;
    readonly base: { group: string; version: string; namespace: string; plural: string };
    player!: StatefulSetPlayer;
    controller: NodeProcess | undefined;
    private controllerKubeconfig = '';
    /** The controller's HTTP port (metrics and probes). */
    httpPort = 0;
    /** The status as last read. */
    lastStatus: Json = {};
    /** The ring state a member's new pod starts in. */
    newPodState: ScriptedRingState = 'NORMAL';

    constructor(readonly namespace: string, readonly ipBase: number) {
      const kubeConfig = server.kubeConfig();
      this.custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
      this.apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
      this.base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL };
    }

    ip(ordinal: number): string {
      return `127.0.0.${this.ipBase + ordinal}`;
    }

    node(ordinal: number): ScriptedAdminNode {
      return this.nodes.get(ordinal) ?? assert.fail(`no member ${ordinal}`);
    }

    async setUp(options: { replicas: number; replicationFactor: number; members: number; values?: readonly string[] }): Promise<void> {
      await this.install(['--set', `replicas=${options.replicas}`, '--set', `cluster.replicationFactor=${options.replicationFactor}`, ...(options.values ?? [])]);
      for (let ordinal = 0; ordinal < options.members; ordinal += 1) {
        const name = `${FULLNAME}-${ordinal}`;
        this.nodes.set(ordinal, await ScriptedAdminNode.start(name, this.ip(ordinal), grpcPort, this.events, certs.nodeDirs.get(name)));
      }
      await this.play();
      await this.runController();
    }

    async install(values: readonly string[]): Promise<void> {
      await helm(['install', RELEASE, CHART, '--namespace', this.namespace, '--create-namespace', '--kubeconfig', server.kubeconfigPath, '--set', `ports.grpc=${grpcPort}`, ...values]);
    }

    /** Plays the StatefulSet controller: the pods follow the StatefulSet's replicas. */
    async play(podSpec?: (spec: k8s.V1PodSpec) => k8s.V1PodSpec): Promise<void> {
      this.player = new StatefulSetPlayer({
        kubeConfig: server.kubeConfig(),
        namespace: this.namespace,
        name: FULLNAME,
        ipOf: (ordinal) => this.ip(ordinal),
        podSpec,
        onPodCreated: (ordinal) => this.nodes.get(ordinal)?.reset(this.newPodState),
      });
      await this.player.start();
    }

    /** Starts `qkv controller` with a real token of the chart's controller ServiceAccount. */
    async runController(): Promise<void> {
      const core = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
      const token = await core.createNamespacedServiceAccountToken({ name: `${FULLNAME}-controller`, namespace: this.namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
      this.controllerKubeconfig = await server.writeKubeconfig(`controller-${this.namespace}`, token.status!.token);
      this.httpPort = await freePort();
      this.startController();
    }

    startController(): void {
      this.controller = NodeProcess.start(
        ['--cluster-resource', FULLNAME, '--namespace', this.namespace, '--host', '127.0.0.1', '--http-port', String(this.httpPort),
          '--resync-ms', String(RESYNC_MS), '--poll-ms', String(POLL_MS), '--rpc-timeout-ms', String(RPC_TIMEOUT_MS), '--certs-dir', certs.dir],
        { KUBECONFIG: this.controllerKubeconfig },
        'controller',
      );
    }

    async status(): Promise<Json> {
      const cluster = (await this.custom.getNamespacedCustomObject({ ...this.base, name: FULLNAME })) as Json;
      this.lastStatus = (cluster.status as Json | undefined) ?? {};
      return this.lastStatus;
    }

    async scaling(): Promise<Json | undefined> {
      return ((await this.status()).conditions as Json[] | undefined)?.find((item) => item.type === 'Scaling');
    }

    async statefulSetReplicas(): Promise<number> {
      return (await this.apps.readNamespacedStatefulSet({ name: FULLNAME, namespace: this.namespace })).spec!.replicas!;
    }

    /** The core/v1 Events about the QuorumKVCluster, oldest first. */
    async clusterEvents(): Promise<k8s.CoreV1Event[]> {
      const core = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
      const list = await core.listNamespacedEvent({ namespace: this.namespace, fieldSelector: `involvedObject.kind=QuorumKVCluster,involvedObject.name=${FULLNAME}` });
      return [...list.items].sort((a, b) => String(a.firstTimestamp?.toISOString()).localeCompare(String(b.firstTimestamp?.toISOString())));
    }

    async setDesired(replicas: number): Promise<void> {
      await this.custom.patchNamespacedCustomObject({ ...this.base, name: FULLNAME, body: { spec: { replicas } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    }

    /** Waits for the Scaling condition's reason (and a message matching `message`). */
    async waitForScaling(reason: string, message?: RegExp, timeoutMs = 30_000): Promise<Json> {
      let found: Json | undefined;
      await eventually(async () => {
        found = await this.scaling();
        return found?.reason === reason && (message === undefined || message.test(String(found.message)));
      }, () => this.show(), timeoutMs);
      return found!;
    }

    show(): string {
      const events = this.events.filter((event) => event.call === 'Decommission' || event.ringState !== 'NORMAL').slice(-20);
      return `status ${JSON.stringify(this.lastStatus)}\n${this.player?.describe()}\nmember events ${JSON.stringify(events)}\ncontroller:\n${this.controller?.output.join('').slice(-3000) ?? ''}`;
    }

    async tearDown(): Promise<void> {
      await this.controller?.stop();
      await this.player?.stop();
      for (const node of this.nodes.values()) await node.stop();
    }
  }

  /** Milliseconds for several of the controller's looks. */
  const SEVERAL_LOOKS_MS = 8 * POLL_MS;

  test('scale-down 5 -> 3: highest ordinal first, and the StatefulSet drops only after the member is LEFT', async () => {
    const cluster = new Harness('scale-down', 10);
    try {
      await cluster.setUp({ replicas: 5, replicationFactor: 3, members: 5 });
      const stable = await cluster.waitForScaling('Stable');
      assert.equal(stable.status, 'False');
      assert.equal(cluster.lastStatus.replicas, 5);

      await cluster.setDesired(3);
      const leaving = await cluster.waitForScaling('Decommissioning', new RegExp(`${FULLNAME}-4 is LEAVING \\(\\d/8 ranges`));
      assert.equal(leaving.status, 'True');
      const leavingMember = ((cluster.lastStatus.scaling as Json).members as Json[]).find((member) => member.name === `${FULLNAME}-4`);
      assert.equal(leavingMember?.ringState, 'LEAVING');
      assert.equal(typeof leavingMember?.rangesDone, 'number');
      // While it streams, many looks pass and the StatefulSet stays where it was.
      await new Promise((resolve) => setTimeout(resolve, SEVERAL_LOOKS_MS));
      assert.equal(await cluster.statefulSetReplicas(), 5);
      assert.ok(cluster.node(4).statusCalls >= 4, `the controller kept polling the leaving member (${cluster.node(4).statusCalls} status calls)`);
      assert.deepEqual([0, 1, 2, 3, 4].map((ordinal) => cluster.node(ordinal).decommissionCalls), [0, 0, 0, 0, 1]);

      cluster.node(4).finishLeaving();
      await eventually(() => cluster.node(3).ringState === 'LEAVING', () => cluster.show());
      assert.equal(await cluster.statefulSetReplicas(), 4);
      cluster.node(3).finishLeaving();
      await cluster.waitForScaling('Stable');
      assert.equal(await cluster.statefulSetReplicas(), 3);
      assert.equal(cluster.lastStatus.replicas, 3);

      // The whole time line: 5 -> 4 -> 3 with nothing in between, each drop after the
      // member's LEFT and before the next decommission; the lower members untouched.
      assert.deepEqual(cluster.player.replicasSeen(), [5, 4, 3]);
      assert.deepEqual(cluster.player.deletions.map((deletion) => deletion.pod), [`${FULLNAME}-4`, `${FULLNAME}-3`]);
      assert.deepEqual([0, 1, 2, 3, 4].map((ordinal) => cluster.node(ordinal).decommissionCalls), [0, 0, 0, 1, 1]);
      const at = (node: number, call: AdminEvent['call'], ringState: string): number =>
        cluster.events.find((event) => event.node === `${FULLNAME}-${node}` && event.call === call && event.ringState === ringState)?.at ?? assert.fail(`no ${call} ${ringState} from member ${node}`);
      const dropTo = (replicas: number): number => cluster.player.replicaHistory.find((change) => change.replicas === replicas)!.at;
      const order = [at(4, 'Decommission', 'LEAVING'), at(4, 'Status', 'LEFT'), dropTo(4), at(3, 'Decommission', 'LEAVING'), at(3, 'Status', 'LEFT'), dropTo(3)];
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `events out of order: ${JSON.stringify(order)}`);
      const logs = cluster.controller!.logRecords();
      assert.ok(logs.some((record) => record.msg === 'decommission started' && record.pod === `${FULLNAME}-4`), 'the controller logs the decommission');
      assert.equal(logs.filter((record) => record.msg === 'lowered the StatefulSet by one').length, 2);
      // Its RBAC was enough for every call: no failed look, list or watch.
      assert.deepEqual(logs.filter((record) => Number(record.level) >= 40).map((record) => record.msg), []);
    } finally {
      await cluster.tearDown();
    }
  });

  test('a decommission that fails or hangs blocks the scale-down and shows in the status', async () => {
    const cluster = new Harness('blocked', 30);
    try {
      await cluster.setUp({ replicas: 3, replicationFactor: 2, members: 3 });
      await cluster.waitForScaling('Stable');
      // Below N is refused by the API server, through the scale subresource too.
      assert.match(await refusedWith(cluster.custom.patchNamespacedCustomObjectScale({ ...cluster.base, name: FULLNAME, body: { spec: { replicas: 1 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))), /replicas must not be below replicationFactor/);

      cluster.node(2).behaviour = 'fail';
      // `kubectl scale quorumkvcluster --replicas=2` does this.
      await cluster.custom.patchNamespacedCustomObjectScale({ ...cluster.base, name: FULLNAME, body: { spec: { replicas: 2 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      const failed = await cluster.waitForScaling('DecommissionFailed');
      assert.equal(failed.status, 'True');
      assert.ok(String(failed.message).includes(DECOMMISSION_FAILURE), String(failed.message));
      assert.match(String(failed.message), /stays at 3 replicas/);
      // Retried on every resync, and never lowered meanwhile.
      await eventually(() => cluster.node(2).decommissionCalls >= 3, () => cluster.show());
      assert.equal(await cluster.statefulSetReplicas(), 3);
      assert.ok(cluster.controller!.logRecords().some((record) => record.level === 40 && String(record.msg).includes(DECOMMISSION_FAILURE)), 'the failure is logged as a warning');

      // A member that never answers: the call's deadline passes, the StatefulSet stays.
      cluster.node(2).behaviour = 'hang';
      const hung = await cluster.waitForScaling('DecommissionFailed', /DEADLINE_EXCEEDED/);
      assert.match(String(hung.message), /stays at 3 replicas/);
      await new Promise((resolve) => setTimeout(resolve, 2 * RESYNC_MS));
      assert.equal(await cluster.statefulSetReplicas(), 3);
      assert.deepEqual(cluster.player.replicasSeen(), [3]);

      // Once the member can decommission, the scale-down goes on by itself.
      cluster.node(2).behaviour = 'stream';
      await eventually(() => cluster.node(2).ringState === 'LEAVING', () => cluster.show());
      cluster.node(2).finishLeaving();
      await cluster.waitForScaling('Stable');
      assert.deepEqual(cluster.player.replicasSeen(), [3, 2]);
      assert.deepEqual([0, 1].map((ordinal) => cluster.node(ordinal).decommissionCalls), [0, 0]);

      // The failure is a Warning Event on the QuorumKVCluster; its retries count up on one
      // Event (aggregated), and the steps around it are Normal Events.
      const events = await cluster.clusterEvents();
      const failures = events.filter((event) => event.reason === 'DecommissionFailed' && String(event.message).includes(DECOMMISSION_FAILURE));
      assert.equal(failures.length, 1, JSON.stringify(events.map((event) => [event.type, event.reason, event.count, event.message])));
      assert.equal(failures[0]!.type, 'Warning');
      assert.ok(failures[0]!.count! >= 3, `repeats counted on one Event: count ${failures[0]!.count}`);
      assert.ok(failures[0]!.lastTimestamp! > failures[0]!.firstTimestamp!, 'lastTimestamp moves with each repeat');
      assert.equal(failures[0]!.source?.component, 'quorumkv-controller');
      const uid = ((await cluster.custom.getNamespacedCustomObject({ ...cluster.base, name: FULLNAME })) as { metadata: { uid: string } }).metadata.uid;
      assert.equal(failures[0]!.involvedObject.uid, uid);
      assert.ok(events.some((event) => event.type === 'Warning' && event.reason === 'DecommissionFailed' && /DEADLINE_EXCEEDED/.test(String(event.message))), 'the hanging call is its own Warning');
      const normal = events.filter((event) => event.type === 'Normal').map((event) => event.reason);
      for (const reason of ['Decommissioning', 'RemovingMember', 'Stable']) assert.ok(normal.includes(reason), `a Normal ${reason} Event in ${JSON.stringify(normal)}`);
    } finally {
      await cluster.tearDown();
    }
  });

  test('a restarted controller takes up the decommission where the last one stopped', async () => {
    const cluster = new Harness('restart', 50);
    try {
      await cluster.setUp({ replicas: 4, replicationFactor: 3, members: 4 });
      await cluster.waitForScaling('Stable');
      await cluster.setDesired(3);
      await cluster.waitForScaling('Decommissioning', /LEAVING/);
      await cluster.controller!.stop();
      assert.equal(cluster.controller!.exitCode, 0, 'SIGTERM stops the controller cleanly');

      // The member keeps streaming with no controller; the next one finds it LEAVING and
      // does not start it again.
      cluster.startController();
      await eventually(async () => (await cluster.scaling())?.reason === 'Decommissioning' && cluster.controller!.logRecords().some((record) => record.msg === 'scale controller running'), () => cluster.show());
      await new Promise((resolve) => setTimeout(resolve, SEVERAL_LOOKS_MS));
      assert.equal(cluster.node(3).decommissionCalls, 1);
      assert.equal(await cluster.statefulSetReplicas(), 4);

      // Stopped again; the member finishes while no controller runs; a third one lowers
      // the StatefulSet from what the member reports, without calling it again.
      await cluster.controller!.stop();
      cluster.node(3).finishLeaving();
      await new Promise((resolve) => setTimeout(resolve, 2 * POLL_MS));
      assert.equal(await cluster.statefulSetReplicas(), 4);
      cluster.startController();
      await cluster.waitForScaling('Stable');
      assert.deepEqual(cluster.player.replicasSeen(), [4, 3]);
      assert.equal(cluster.node(3).decommissionCalls, 1);
    } finally {
      await cluster.tearDown();
    }
  });

  test('scale-up adds one JOINING member at a time and reports the joins', async () => {
    const cluster = new Harness('scale-up', 70);
    try {
      await cluster.setUp({ replicas: 3, replicationFactor: 3, members: 5 });
      await cluster.waitForScaling('Stable');
      cluster.newPodState = 'JOINING';
      await cluster.setDesired(5);
      const joining = await cluster.waitForScaling('Joining', new RegExp(`4 of 5 replicas; joining: ${FULLNAME}-3 `));
      assert.equal(joining.status, 'True');
      // The old members hand ranges over: each needs a cleanup, which must wait until the
      // last member has joined. (Set only now: at 3 of 3 replicas a cleanup would be due.)
      for (const ordinal of [0, 1, 2]) cluster.node(ordinal).cleanupNeeded = true;
      // While qkv-3 is JOINING, many looks pass and the StatefulSet stays at 4.
      await new Promise((resolve) => setTimeout(resolve, SEVERAL_LOOKS_MS));
      assert.deepEqual(cluster.player.replicasSeen(), [3, 4]);
      assert.equal(await cluster.statefulSetReplicas(), 4);
      assert.ok(!String((await cluster.scaling())?.message).includes(`${FULLNAME}-4`), 'no second joiner');
      assert.deepEqual([0, 1, 2].map((ordinal) => cluster.node(ordinal).cleanupCalls), [0, 0, 0]);
      // Once it is NORMAL, the next one.
      cluster.node(3).reset('NORMAL');
      await cluster.waitForScaling('Joining', new RegExp(`joining: ${FULLNAME}-4 `));
      assert.deepEqual(cluster.player.replicasSeen(), [3, 4, 5]);
      assert.equal(cluster.lastStatus.replicas, 5);
      const joinedAt = cluster.events.find((event) => event.node === `${FULLNAME}-3` && event.call === 'Status' && event.ringState === 'NORMAL' && event.at > cluster.player.replicaHistory.find((change) => change.replicas === 4)!.at)!.at;
      assert.ok(cluster.player.replicaHistory.find((change) => change.replicas === 5)!.at > joinedAt, 'the StatefulSet grew to 5 only after qkv-3 reported NORMAL');
      // Once every member is NORMAL the old ones are cleaned up, one at a time, before
      // the scale-up counts as done.
      cluster.node(4).reset('NORMAL');
      await cluster.waitForScaling('Stable');
      assert.deepEqual([0, 1, 2, 3, 4].map((ordinal) => cluster.node(ordinal).decommissionCalls), [0, 0, 0, 0, 0]);
      assert.deepEqual([0, 1, 2, 3, 4].map((ordinal) => cluster.node(ordinal).cleanupCalls), [1, 1, 1, 0, 0]);
      const cleanups = cluster.events.filter((event) => event.call === 'Cleanup').map((event) => event.node);
      assert.deepEqual(cleanups, [0, 1, 2].map((ordinal) => `${FULLNAME}-${ordinal}`), 'lowest ordinal first');
      assert.ok(cluster.controller!.logRecords().some((record) => record.msg === 'cleanup done' && record.pod === `${FULLNAME}-0`));
      assert.ok(cluster.controller!.logRecords().some((record) => record.msg === 'raised the StatefulSet' && record.from === 3 && record.to === 4));
      assert.ok(cluster.controller!.logRecords().some((record) => record.msg === 'raised the StatefulSet' && record.from === 4 && record.to === 5));
      // Each step is a Normal Event on the QuorumKVCluster, in order.
      const steps = (await cluster.clusterEvents()).filter((event) => event.type === 'Normal').map((event) => `${event.reason}: ${event.message}`);
      const indexOf = (pattern: RegExp): number => {
        const index = steps.findIndex((text) => pattern.test(text));
        assert.ok(index >= 0, `${pattern} in ${JSON.stringify(steps, undefined, 1)}`);
        return index;
      };
      const order = [indexOf(/^ScalingUp: raising the StatefulSet from 3 to 4 /), indexOf(/^Joining: .*joining: qkv-quorumkv-3 /), indexOf(/^ScalingUp: raising the StatefulSet from 4 to 5 /), indexOf(/^Joining: .*joining: qkv-quorumkv-4 /), indexOf(/^CleaningUp: /), indexOf(/^Stable: 5 replicas/)];
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `Events out of order: ${JSON.stringify(steps, undefined, 1)}`);
      assert.deepEqual((await cluster.clusterEvents()).filter((event) => event.type === 'Warning').map((event) => event.reason), []);
      // Its HTTP port: ready, and the metrics say what it did.
      assert.equal((await fetch(`http://127.0.0.1:${cluster.httpPort}/readyz`)).status, 200);
      const metrics = await (await fetch(`http://127.0.0.1:${cluster.httpPort}/metrics`)).text();
      for (const line of ['qkv_controller_actions_total{action="scale_up"} 2', 'qkv_controller_actions_total{action="decommission"} 0', 'qkv_controller_actions_total{action="cleanup"} 3', 'qkv_controller_replicas{kind="desired"} 5', 'qkv_controller_replicas{kind="statefulset"} 5', 'qkv_controller_scaling 0']) {
        assert.ok(metrics.includes(line), `${line} in\n${metrics.split('\n').filter((text) => text.startsWith('qkv_')).join('\n')}`);
      }
    } finally {
      await cluster.tearDown();
    }
  });

  test('a larger persistence.size: helm upgrade keeps the StatefulSet template and the controller raises every claim', async () => {
    // No volume provisioner runs here, so nothing is really expanded: the test plays the
    // StatefulSet controller's part (a bound claim per member, from the template) and
    // checks what the API server holds. Its PersistentVolumeClaimResize admission does
    // run: it allows a larger request only on a bound claim whose StorageClass has
    // allowVolumeExpansion, and the test has one claim that does not.
    const cluster = new Harness('volumes', 110);
    const core = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
    const storage = server.kubeConfig().makeApiClient(k8s.StorageV1Api);
    const expandable = 'qkv-test-expandable';
    const fixed = 'qkv-test-fixed';
    try {
      for (const [name, allowVolumeExpansion] of [[expandable, true], [fixed, false]] as const) {
        await storage.createStorageClass({ body: { metadata: { name }, provisioner: 'quorumkv.io/test-no-provisioner', allowVolumeExpansion } });
      }
      await cluster.setUp({ replicas: 3, replicationFactor: 3, members: 3, values: ['--set', `persistence.storageClassName=${expandable}`, '--set', 'persistence.size=1Gi'] });
      const template = (await cluster.apps.readNamespacedStatefulSet({ name: FULLNAME, namespace: cluster.namespace })).spec!.volumeClaimTemplates![0]!;
      // The members' claims, as the StatefulSet controller makes them, and a claim kept
      // from a removed member (ordinal 3) made under a class that does not expand.
      for (const ordinal of [0, 1, 2, 3]) {
        const name = `data-${FULLNAME}-${ordinal}`;
        await core.createNamespacedPersistentVolumeClaim({
          namespace: cluster.namespace,
          body: { metadata: { name, labels: template.metadata!.labels }, spec: { ...template.spec!, storageClassName: ordinal === 3 ? fixed : expandable } },
        });
        await core.patchNamespacedPersistentVolumeClaimStatus(
          { name, namespace: cluster.namespace, body: { status: { phase: 'Bound', capacity: { storage: '1Gi' } } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      }
      await cluster.waitForScaling('Stable');
      const claims = async (): Promise<Record<string, string>> => {
        const list = await core.listNamespacedPersistentVolumeClaim({ namespace: cluster.namespace });
        return Object.fromEntries(list.items.map((claim) => [claim.metadata!.name!, String(claim.spec!.resources!.requests!.storage)]));
      };
      assert.deepEqual(Object.values(await claims()), ['1Gi', '1Gi', '1Gi', '1Gi'], 'nothing changes while the size is the same');

      // The user's path: helm upgrade with a larger size. The StatefulSet's template is
      // immutable, so the chart keeps it; the resource carries the new size.
      await helm(['upgrade', RELEASE, CHART, '--namespace', cluster.namespace, '--kubeconfig', server.kubeconfigPath, '--reuse-values', '--set', 'persistence.size=2Gi']);
      const kept = (await cluster.apps.readNamespacedStatefulSet({ name: FULLNAME, namespace: cluster.namespace })).spec!.volumeClaimTemplates![0]!;
      assert.equal(String(kept.spec!.resources!.requests!.storage), '1Gi');
      const spec = ((await cluster.custom.getNamespacedCustomObject({ ...cluster.base, name: FULLNAME })) as { spec: { persistence: { size: string } } }).spec;
      assert.equal(spec.persistence.size, '2Gi');

      const expected = { [`data-${FULLNAME}-0`]: '2Gi', [`data-${FULLNAME}-1`]: '2Gi', [`data-${FULLNAME}-2`]: '2Gi', [`data-${FULLNAME}-3`]: '1Gi' };
      let seen: Record<string, string> = {};
      await eventually(async () => {
        seen = await claims();
        return JSON.stringify(seen) === JSON.stringify(expected);
      }, () => `${JSON.stringify(seen)}\n${cluster.show()}`);
      let events: k8s.CoreV1Event[] = [];
      await eventually(async () => {
        events = await cluster.clusterEvents();
        return events.some((event) => event.reason === 'VolumeExpansionFailed' && (event.count ?? 0) >= 2);
      }, () => JSON.stringify(events.map((event) => [event.type, event.reason, event.count, event.message])));
      const expanding = events.filter((event) => event.reason === 'ExpandingVolume');
      assert.deepEqual(expanding.map((event) => [event.type, /claim (\S+):/.exec(String(event.message))?.[1]]).sort(), [0, 1, 2].map((ordinal) => ['Normal', `data-${FULLNAME}-${ordinal}`]));
      assert.match(String(expanding[0]!.message), /from 1Gi to 2Gi/);
      const refused = events.filter((event) => event.reason === 'VolumeExpansionFailed');
      assert.equal(refused.length, 1, 'a refusal on every look is one Event with a count');
      assert.equal(refused[0]!.type, 'Warning');
      assert.match(String(refused[0]!.message), new RegExp(`claim data-${FULLNAME}-3 stays at 1Gi: .*storageclass that provisions the pvc must support resize`));
      // Scaling was never in its way, and each claim was raised once.
      assert.equal((await cluster.scaling())?.reason, 'Stable');
      const logs = cluster.controller!.logRecords();
      assert.equal(logs.filter((record) => record.msg === 'asked for a larger volume').length, 3);
      const metrics = await (await fetch(`http://127.0.0.1:${cluster.httpPort}/metrics`)).text();
      assert.ok(metrics.includes('qkv_controller_actions_total{action="expand_volume"} 3'), metrics.split('\n').filter((line) => line.includes('actions_total')).join('\n'));
    } finally {
      await cluster.tearDown();
      for (const name of [expandable, fixed]) await storage.deleteStorageClass({ name }).catch(() => undefined);
    }
  });

  test('with real qkv server processes the controller asks the node itself, and the scale-down waits for its answer', async () => {
    // Real nodes, discovering each other through the API and writing the resource's
    // status beside the controller. The controller's Decommission reaches the node
    // itself, which streams its ranges away; the StatefulSet drops only after it is LEFT.
    const cluster = new Harness('real-nodes', 90);
    const processes: NodeProcess[] = [];
    try {
      await cluster.install(['--set', 'replicas=2', '--set', 'cluster.replicationFactor=1', '--set', 'cluster.vnodesPerNode=16']);
      // The pods declare the test's peer port (the chart's template is for real clusters,
      // where every pod has the same default port on its own IP).
      await cluster.play((spec) => ({
        ...spec,
        containers: spec.containers.map((container) => ({
          ...container,
          ports: [...(container.ports ?? []).filter((port) => port.name !== 'peer'), { name: 'peer', containerPort: peerPort, protocol: 'TCP' }],
        })),
      }));
      for (const ordinal of [0, 1]) {
        const name = `${FULLNAME}-${ordinal}`;
        processes.push(NodeProcess.start(
          ['--node-id', name, '--host', cluster.ip(ordinal), '--grpc-port', String(grpcPort), '--peer-port', String(peerPort), '--tls-dir', certs.nodeDirs.get(name)!,
            '--http-port', String(await freePort()), '--storage', 'memory',
            '--replication-factor', '1', '--vnodes', '16', '--discovery', 'kubernetes', '--kube-namespace', cluster.namespace,
            '--kube-label-selector', `app.kubernetes.io/name=quorumkv,app.kubernetes.io/instance=${RELEASE}`, '--kube-cluster-resource', FULLNAME],
          { KUBECONFIG: server.kubeconfigPath },
        ));
      }
      await cluster.runController();
      const client = new QuorumKvClient({ addresses: [`${cluster.ip(1)}:${grpcPort}`], timeoutMs: 2000, credentials: clientChannelCredentials(certs.dir, 'admin') });
      try {
        await eventually(async () => {
          try {
            return (await client.status()).members.length === 2;
          } catch {
            return false;
          }
        }, () => processes.map((node) => node.output.join('').slice(-1500)).join('\n'), 30_000);
        const stable = await cluster.waitForScaling('Stable', undefined, 30_000);
        assert.equal(stable.status, 'False');
        // Node-side decommission is in this build: the member is NORMAL before and LEFT after.
        assert.equal((await client.status()).ringState, 'NORMAL');

        await cluster.setDesired(1);
        // The node streams away and reports LEFT, and only then is the StatefulSet
        // lowered. (Waiting for Stable alone could see the condition from before the
        // controller noticed the new size.)
        await eventually(async () => (await client.status()).ringState === 'LEFT', () => cluster.show(), 60_000);
        await eventually(async () => (await cluster.statefulSetReplicas()) === 1, () => cluster.show(), 30_000);
        await cluster.waitForScaling('Stable', undefined, 30_000);
        assert.equal((await client.status()).ringState, 'LEFT');
        // The nodes' conditions and the controller's live side by side in one list.
        const types = ((await cluster.status()).conditions as Json[]).map((item) => item.type).sort();
        assert.deepEqual(types, ['Degraded', 'Ready', 'RestartRequired', 'Scaling', 'SpecInvalid']);
        assert.deepEqual(cluster.player.replicasSeen(), [2, 1]);
      } finally {
        client.close();
      }
    } finally {
      for (const node of processes) await node.stop();
      await cluster.tearDown();
    }
  });
});

// Which tier every test file belongs to (CONTRIBUTING.md, "Test tiers"). The rule:
//   fast        the test runs in this one process: no child process of any kind;
//   process     it starts other programs: `qkv server` nodes, the CLI, a crash child,
//               grpcurl, openssl, Python, Prometheus, etcd or Redis;
//   kubernetes  it starts a kube-apiserver with etcd (and helm);
//   chaos       it puts nodes in network namespaces (needs root, ip and iptables);
//   e2e         it runs the Dockerfile's image: on a real single-node Kubernetes
//               (kubelet, containerd) that scripts/run-tests.mjs brings up once for the
//               tier, or with podman-compose (deploy/compose.yaml).
// An entry is a directory (ending in "/", every test file under it) or one test file,
// as source paths under test/. A file must match entries of exactly one tier, and every
// entry must match a file, so a new test directory or a renamed file fails
// scripts/run-tests.mjs until it is placed here. Mixed directories list files one by one.

export const TIER_ORDER = ['fast', 'process', 'kubernetes', 'chaos', 'e2e'];

export const TIERS = {
  fast: [
    'test/protocol/',
    'test/api/',
    'test/backup/backup-files.test.ts',
    'test/backup/directory-backup-store.test.ts',
    'test/backup/s3-destination.test.ts',
    'test/backup/snapshot-merge.test.ts',
    'test/backup/snapshot-merge-memory.test.ts',
    'test/replica/',
    'test/bench/bench-runner.test.ts',
    'test/bench/cpu-profile-layers.test.ts',
    'test/bench/key-chooser.test.ts',
    'test/clock/',
    'test/config/',
    'test/controller/',
    'test/coordinator/',
    'test/faults/',
    'test/fs/',
    'test/load/acknowledged-write-check.test.ts',
    'test/membership/',
    'test/metrics/resolved-children.test.ts',
    'test/metrics/replica-call-prometheus.test.ts',
    'test/repair/',
    'test/support/free-port.test.ts',
    'test/ring/hash-ring.test.ts',
    'test/ring/placement-rings.test.ts',
    'test/ring/replicated-ranges.test.ts',
    'test/ring/ring-diff.test.ts',
    'test/ring/ring-simulation.test.ts',
    'test/ring/token-hasher.test.ts',
    'test/security/caller-key.test.ts',
    'test/security/caller-per-user.test.ts',
    'test/security/certificate-identity.test.ts',
    'test/security/forget-signature-cost.test.ts',
    'test/security/forget-signature.test.ts',
    'test/security/probe-answer-bounds.test.ts',
    'test/security/forget-signature-lifetime.test.ts',
    'test/security/local-certificates.test.ts',
    'test/security/multiplex-role-before-decoding.test.ts',
    'test/security/mutual-tls.test.ts',
    'test/security/receive-gate.test.ts',
    'test/security/receive-gate-honest-streams.test.ts',
    'test/security/receive-gate-outcomes.test.ts',
    'test/security/receive-gate-streams.test.ts',
    'test/security/user-roles.test.ts',
    'test/security/watched-certificates.test.ts',
    'test/storage/checkpoint-differential.test.ts',
    'test/storage/checkpoint-worker.test.ts',
    'test/storage/codec.test.ts',
    'test/storage/durable-discard.test.ts',
    'test/storage/durable-engine-contract.test.ts',
    'test/storage/durable-engine.test.ts',
    'test/storage/memory-engine.test.ts',
    'test/storage/memtable-index.test.ts',
    'test/storage/memtable-slabs.test.ts',
    'test/storage/memtable-token-order.test.ts',
    'test/storage/power-cut.test.ts',
    'test/storage/wal-damage.test.ts',
    'test/storage/wal-group-commit.test.ts',
    'test/storage/wal-rotation-failure.test.ts',
    'test/streaming/',
    'test/transport/',
    'test/client/',
  ],
  process: [
    'test/architecture/',
    'test/backup/backup-member-down.test.ts',
    'test/backup/backup-restore-cluster.test.ts',
    'test/backup/s3-backup-store.test.ts',
    'test/kv/',
    'test/load/rolling-restart-under-writer.test.ts',
    'test/bench/bench-command.test.ts',
    'test/bench/peer-targets.test.ts',
    'test/bench/ghz-harness.test.ts',
    'test/bench/raw-http2-kv-server.test.ts',
    'test/cli/',
    'test/metrics/prometheus-dashboard.test.ts',
    'test/node/',
    'test/ring/ring-determinism.test.ts',
    'test/security/certificate-authority.test.ts',
    'test/security/certs-command.test.ts',
    'test/security/connection-identity.test.ts',
    'test/security/forget-needs-admin.test.ts',
    'test/security/hostile-callers.test.ts',
    'test/security/peer-stream-memory.test.ts',
    'test/security/slow-senders.test.ts',
    'test/security/stream-memory.test.ts',
    'test/security/tls-clients.test.ts',
    'test/storage/crash-recovery.test.ts',
    'test/storage/discard-crash.test.ts',
  ],
  kubernetes: ['test/kubernetes/'],
  chaos: ['test/chaos/'],
  e2e: ['test/e2e/'],
};

/** The compiled file `dist/test/a/b.test.js` as its source path `test/a/b.test.ts`. */
export function sourcePathOf(compiledPath) {
  return compiledPath.replaceAll('\\', '/').replace(/^dist\//, '').replace(/\.js$/, '.ts');
}

function matches(entry, sourcePath) {
  return entry.endsWith('/') ? sourcePath.startsWith(entry) : sourcePath === entry;
}

/**
 * Places every compiled test file in its tier. Returns the files per tier and the
 * problems: files in no tier or in two, and entries that match no file.
 */
export function classify(compiledPaths) {
  const byTier = Object.fromEntries(TIER_ORDER.map((tier) => [tier, []]));
  const problems = [];
  const usedEntries = new Set();
  for (const path of compiledPaths) {
    const source = sourcePathOf(path);
    const tiers = TIER_ORDER.filter((tier) =>
      TIERS[tier].some((entry) => {
        const hit = matches(entry, source);
        if (hit) usedEntries.add(entry);
        return hit;
      }),
    );
    if (tiers.length === 0) problems.push(`${source} is in no test tier: add it to scripts/test-tiers.mjs`);
    else if (tiers.length > 1) problems.push(`${source} is in more than one test tier (${tiers.join(', ')})`);
    else byTier[tiers[0]].push(path);
  }
  for (const tier of TIER_ORDER) {
    for (const entry of TIERS[tier]) {
      if (!usedEntries.has(entry)) problems.push(`scripts/test-tiers.mjs: the ${tier} entry ${entry} matches no test file`);
    }
  }
  return { byTier, problems };
}

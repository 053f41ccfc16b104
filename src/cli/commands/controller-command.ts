// `qkv controller`: runs the scale controller (src/controller/scale-controller.ts) for
// one QuorumKVCluster and its StatefulSet until SIGTERM or SIGINT. The Helm chart runs
// it as a one-replica Deployment beside the StatefulSet. Logs are pino JSON lines with
// `component: "controller"`; metrics and probes are on the HTTP port.
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { isQkvError } from '../../errors/errors.js';
import { loadKubeConfig, resolveNamespace } from '../../kubernetes/kube-config.js';
import { MetricsHttpServer } from '../../metrics/metrics-http-server.js';
import { controllerConfigUsage, loadControllerConfig, type ControllerConfig } from '../../controller/controller-config.js';
import { PrometheusControllerMetrics } from '../../controller/controller-metrics.js';
import { GrpcNodeAdmin } from '../../controller/grpc-node-admin.js';
import { watchedClientCredentials } from '../../security/tls-credentials.js';
import type { WatchedCertificates } from '../../security/watched-certificates.js';
import { ScaleController } from '../../controller/scale-controller.js';
import { BackupController } from '../../controller/backup-controller.js';
import { GrpcBackupAdmin } from '../../controller/grpc-backup-admin.js';
import { statefulSetMemberAddresses } from '../../controller/member-addresses.js';
import { openBackupStore } from '../../backup/open-backup-store.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from '../cli-io.js';

export const CONTROLLER_USAGE = `usage: qkv controller [flags]

Sizes a quorumkv StatefulSet to its QuorumKVCluster's spec.replicas: raises it to add
members; removes members one at a time, highest ordinal first, each only after it has
decommissioned (streamed its data away) and reports LEFT. Runs inside the cluster (its
service account) or with KUBECONFIG. Every flag has a QKV_* environment variable; flags
win.

${controllerConfigUsage()}
`;

export async function runController(args: string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(CONTROLLER_USAGE);
    return EXIT_OK;
  }
  let config: ControllerConfig;
  try {
    config = loadControllerConfig({ argv: args, env: io.env });
  } catch (error) {
    io.stderr.write(`qkv controller: ${isQkvError(error) ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_USAGE;
  }
  const settings = { level: config.logLevel, base: { component: 'controller', cluster: config.clusterResource } };
  const logger = config.logPretty ? pino(settings, pretty({ sync: true, colorize: process.stdout.isTTY })) : pino(settings);

  let requestStop!: (signal: string) => void;
  const stopRequested = new Promise<string>((resolve) => (requestStop = resolve));
  const onSignal = (signal: NodeJS.Signals): void => requestStop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let controller: ScaleController | undefined;
  let backups: BackupController | undefined;
  let certificates: WatchedCertificates | undefined;
  const http = new MetricsHttpServer({
    registry,
    readiness: () => controller?.readiness() ?? { ready: false, reason: 'starting' },
    onError: (error) => logger.error({ err: error }, 'HTTP handler failed'),
  });
  try {
    const kubeConfig = loadKubeConfig();
    const namespace = resolveNamespace(config.namespace, kubeConfig, io.env as NodeJS.ProcessEnv);
    const httpPort = await http.listen(config.host, config.httpPort);
    // The admin client certificate is watched like a node's: cert-manager renews it
    // while the controller runs, and new connections must use the renewed one.
    const security = config.insecure
      ? undefined
      : await watchedClientCredentials(config.certsDir, config.user, {
          onRotated: (set) => logger.info({ notAfter: set.notAfter }, 'client certificate changed on disk; new connections use it'),
          onRefused: (error) => logger.error({ err: error }, 'changed client certificate files are not a whole set; still using the previous ones'),
        });
    certificates = security?.certificates;
    controller = new ScaleController({
      kubeConfig,
      namespace,
      clusterResource: config.clusterResource,
      statefulSet: config.statefulset,
      nodeAdmin: new GrpcNodeAdmin({
        timeoutMs: config.rpcTimeoutMs,
        ...(security === undefined ? {} : { credentials: security.credentials }),
      }),
      logger,
      grpcPortDefault: config.grpcPort,
      resyncMs: config.resyncMs,
      pollMs: config.pollMs,
      metrics: new PrometheusControllerMetrics(registry),
    });
    backups = new BackupController({
      kubeConfig,
      namespace,
      clusterResource: config.clusterResource,
      backupAdmin: new GrpcBackupAdmin({
        backupTimeoutMs: config.backupTimeoutMs,
        ...(security === undefined ? {} : { credentials: security.credentials }),
      }),
      members: statefulSetMemberAddresses({ kubeConfig, namespace, statefulSet: config.statefulset, grpcPortDefault: config.grpcPort }),
      // Retention deletes old sets itself, with the controller's own AWS credentials
      // (the chart's backup.s3.credentialsSecret); it never holds a directory store.
      openStore: (destination) => openBackupStore(destination, { backupDir: '' }),
      logger,
      pollMs: config.backupPollMs,
    });
    backups.start();
    // Not awaited before the signal: the first list retries until the API and RBAC
    // answer, and a SIGTERM meanwhile must still stop the process.
    const started = controller.start().then(() => logger.info({ namespace, statefulSet: config.statefulset, httpPort }, 'scale controller running'));
    const signal = await stopRequested;
    logger.info({ signal }, 'stopping');
    await controller.stop();
    await backups.stop();
    await started;
    return EXIT_OK;
  } catch (error) {
    logger.error({ err: error }, 'controller failed');
    io.stderr.write(`qkv controller: ${isQkvError(error) ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
    await controller?.stop().catch(() => {});
    await backups?.stop().catch(() => {});
    return EXIT_FAILURE;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    certificates?.close();
    await http.close();
  }
}

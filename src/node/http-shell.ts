// The HTTP shell of a node: GET /metrics, /livez and /readyz (src/metrics/metrics-http-server.ts)
// on a port of its own, so scraping and probes never queue behind client traffic. It
// opens first and closes last: /livez answers while the WAL replays, and /readyz says
// why the node is not ready (starting, opening storage, joining, draining).
import type { Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import { MetricsHttpServer } from '../metrics/metrics-http-server.js';

export class HttpShell {
  port = 0;
  private readonly server: MetricsHttpServer;

  /** `unreadyReason` says why the node is not ready, or undefined when it is. */
  constructor(registry: Registry, unreadyReason: () => string | undefined, logger: Logger) {
    this.server = new MetricsHttpServer({
      registry,
      readiness: () => {
        const reason = unreadyReason();
        return reason === undefined ? { ready: true } : { ready: false, reason };
      },
      onError: (error) => logger.error({ err: error }, 'metrics HTTP request failed'),
    });
  }

  async listen(host: string, port: number): Promise<number> {
    this.port = await this.server.listen(host, port);
    return this.port;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

// The node's HTTP port, separate from gRPC so scraping and probes never queue behind
// client traffic: GET /metrics (Prometheus text), /livez (the process answers) and
// /readyz (the node serves requests: storage open, ring built, not draining).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  readonly ready: boolean;
  /** Why not, when not ready; shown in the /readyz body. */
  readonly reason?: string;
}

export interface MetricsHttpServerOptions {
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  readonly onError?: (error: unknown) => void;
}

export class MetricsHttpServer {
  private readonly server: Server;

  constructor(private readonly options: MetricsHttpServerOptions) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        options.onError?.(error);
        if (!response.headersSent) respond(response, 500, 'text/plain', 'internal error\n');
        else response.destroy();
      });
    });
    // Probes and scrapes are short; a stuck client must not hold a socket forever.
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 5_000;
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      respond(response, 405, 'text/plain', 'only GET\n');
      return;
    }
    switch (path) {
      case '/metrics':
        respond(response, 200, this.options.registry.contentType, await this.options.registry.metrics());
        return;
      case '/livez':
        respond(response, 200, 'text/plain', 'ok\n');
        return;
      case '/readyz': {
        const readiness = this.options.readiness();
        if (readiness.ready) respond(response, 200, 'text/plain', 'ready\n');
        else respond(response, 503, 'text/plain', `not ready: ${readiness.reason ?? 'unknown'}\n`);
        return;
      }
      default:
        respond(response, 404, 'text/plain', 'not found; try /metrics, /livez or /readyz\n');
    }
  }
}

function respond(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

// A loopback port for a server a test starts: one the kernel just handed out (bind to
// port 0, then close), and never one this process handed out before. Once the first
// bind is closed the kernel may hand the same ephemeral port to the next, so two servers
// of one test could be given one port (a node's gRPC and HTTP ports both 33329, seen in
// a CI run). Another process can still take a port between here and the server's bind.
import { createServer } from 'node:net';

/** Ports handed out in this process: a server a test started may be holding any of them. */
const handedOut = new Set<number>();
/** Binds tried before giving up: a repeat is rare, so many in a row mean something else is wrong. */
const ATTEMPTS_MAX = 100;

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
    const port = await portFromKernel();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no loopback port in ${ATTEMPTS_MAX} binds that this process had not handed out already`);
}

function portFromKernel(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no TCP address'))));
    });
  });
}

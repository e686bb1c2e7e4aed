/**
 * Picking a port for a Redis we start ourselves. Never 6379: a developer's own Redis usually lives
 * there, and tests must neither read its data nor flush it.
 */
import { createServer } from 'node:net';

/**
 * Asks the OS for a currently free TCP port on 127.0.0.1. The port is released before returning,
 * so another process can still grab it before Redis binds it: callers retry on a bind failure.
 */
export function findFreePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        if (port > 0) resolve(port);
        else reject(new Error('The OS did not report the port it assigned on 127.0.0.1'));
      });
    });
  });
}

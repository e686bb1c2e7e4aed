/** Helpers shared by the harness's own tests. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sendCommand } from '../src/redis/resp.js';

/** Resolves true once connecting to `port` on loopback is refused, false if it still answers after `withinMs`. */
export async function portRefuses(port: number, withinMs = 3000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      await sendCommand({ host: '127.0.0.1', port }, ['PING'], {
        timeoutMs: 500,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const fixture = fileURLToPath(new URL('./fixtures/provision-and-die.ts', import.meta.url));

/** What the fixture reports: the port (every node's, for a cluster) and where Redis came from. */
export interface FixtureReport {
  readonly port: number;
  readonly ports?: readonly number[];
  readonly source: string;
}

/**
 * Runs the fixture under tsx, provisioning a Redis (or a cluster), and resolves with what it
 * reports, plus the child itself.
 */
export function provisionInChild(mode: 'exit' | 'wait-for-kill', kind: 'server' | 'cluster' = 'server') {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode, kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const report = new Promise<FixtureReport>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`fixture exited early with code ${code}`)));
  });
  return { child, report };
}

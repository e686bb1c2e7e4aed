/**
 * Reads `INFO commandstats` over a plain socket: how many times the server ran each command.
 * Used where a counting proxy would sit in the way of what is measured (10,000 renewing locks).
 */
import { connect } from 'node:net';

/** Top-level commands a lock library sends that scripts never run themselves. */
export const TOP_LEVEL_ONLY = ['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'ping'] as const;

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/** Sends the commands, resolves the last reply as text (a bulk string or a status line). */
function request(url: string, commands: readonly (readonly string[])[]): Promise<string> {
  const { hostname, port, username, password } = new URL(url);
  const auth = password
    ? [['AUTH', ...(username ? [decodeURIComponent(username)] : []), decodeURIComponent(password)]]
    : [];
  const all = [...auth, ...commands];
  return new Promise<string>((resolve, reject) => {
    const socket = connect({ host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port || 6379) });
    let buffer = Buffer.alloc(0);
    let replies = 0;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length > 0) {
        const lineEnd = buffer.indexOf('\r\n');
        if (lineEnd === -1) return;
        const head = buffer.toString('latin1', 0, lineEnd);
        let reply: string;
        let consumed: number;
        if (head.startsWith('$')) {
          const length = Number(head.slice(1));
          if (buffer.length < lineEnd + 2 + length + 2) return;
          reply = buffer.toString('utf8', lineEnd + 2, lineEnd + 2 + length);
          consumed = lineEnd + 2 + length + 2;
        } else if (head.startsWith('-')) {
          socket.destroy();
          reject(new Error(head.slice(1)));
          return;
        } else {
          reply = head.slice(1);
          consumed = lineEnd + 2;
        }
        buffer = buffer.subarray(consumed);
        replies += 1;
        if (replies === all.length) {
          socket.end();
          resolve(reply);
          return;
        }
      }
    });
    socket.write(all.map(encode).join(''));
  });
}

/** Calls per command name (lower case), from `INFO commandstats`. */
export async function commandStats(url: string): Promise<Record<string, number>> {
  const info = await request(url, [['INFO', 'commandstats']]);
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    calls[match[1] ?? ''] = Number(match[2]);
  return calls;
}

/** Top-level commands run between two readings (see {@link TOP_LEVEL_ONLY}). */
export function topLevelCommands(before: Record<string, number>, after: Record<string, number>): number {
  return TOP_LEVEL_ONLY.reduce((sum, name) => sum + (after[name] ?? 0) - (before[name] ?? 0), 0);
}

/** The commands that run a script: what a lock library's every step is made of. */
const SCRIPT_CALLS = ['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro'] as const;

/** Script calls (EVALSHA and kin) run between two readings. */
export function scriptCalls(before: Record<string, number>, after: Record<string, number>): number {
  return SCRIPT_CALLS.reduce((sum, name) => sum + (after[name] ?? 0) - (before[name] ?? 0), 0);
}

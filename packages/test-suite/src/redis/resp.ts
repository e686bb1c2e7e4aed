/**
 * A deliberately tiny RESP client over `node:net`. The harness must be able to tell whether a
 * Redis is up without depending on any Redis client library, because the packages under test
 * *are* the Redis client integrations and must not be pulled in by their own test harness.
 *
 * Internal to `@lock/test-suite`: not re-exported from the package entry point.
 */
import { Socket } from 'node:net';

/** Where to reach a Redis server. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

/** Options for {@link sendCommand}. */
export interface SendCommandOptions {
  /** Give up (and destroy the socket) after this many milliseconds. Defaults to 2000. */
  readonly timeoutMs?: number;
}

/** A `-ERR ...` reply from the server, as opposed to a transport failure. */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

const CRLF = '\r\n';

/** Encodes a command as a RESP array of bulk strings, the only form Redis accepts for every command. */
export function encodeCommand(args: readonly string[]): string {
  const parts = args.map((arg) => `$${Buffer.byteLength(arg)}${CRLF}${arg}${CRLF}`);
  return `*${args.length}${CRLF}${parts.join('')}`;
}

/** Result of trying to parse one reply out of a buffer that may still be incomplete. */
type ParseResult = { readonly complete: false } | { readonly complete: true; readonly value: string };

const INCOMPLETE: ParseResult = { complete: false };

/**
 * Parses one scalar reply (simple string, error, integer or bulk string). Arrays are not needed by
 * the harness, so they are rejected rather than half-supported.
 */
export function parseScalarReply(buffer: Buffer): ParseResult {
  const lineEnd = buffer.indexOf(CRLF);
  if (lineEnd === -1) return INCOMPLETE;
  const type = String.fromCharCode(buffer[0] ?? 0);
  const line = buffer.subarray(1, lineEnd).toString('utf8');
  switch (type) {
    case '+':
    case ':':
      return { complete: true, value: line };
    case '-':
      throw new RedisReplyError(line);
    case '$':
      return parseBulkString(buffer, lineEnd, Number(line));
    default:
      throw new Error(`Unsupported RESP reply type ${JSON.stringify(type)}: ${JSON.stringify(line)}`);
  }
}

function parseBulkString(buffer: Buffer, headerEnd: number, length: number): ParseResult {
  // A null bulk string ($-1) is how Redis says "no value", e.g. GET on a missing key.
  if (length < 0) return { complete: true, value: '' };
  const start = headerEnd + CRLF.length;
  const end = start + length;
  if (buffer.length < end + CRLF.length) return INCOMPLETE;
  return {
    complete: true,
    value: buffer.subarray(start, end).toString('utf8'),
  };
}

/**
 * Sends one command on a fresh connection and resolves with its scalar reply, e.g. `PONG` for
 * `['PING']`. Rejects with {@link RedisReplyError} on a `-ERR` reply and with the socket error
 * (e.g. `ECONNREFUSED`) or a timeout error when the server cannot be reached.
 */
export function sendCommand(
  address: RedisAddress,
  args: readonly string[],
  options: SendCommandOptions = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 2000;
  return new Promise<string>((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const finish = (error: Error | undefined, value?: string): void => {
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? '');
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new Error(`Redis at ${address.host}:${address.port} did not answer within ${timeoutMs} ms`)),
    );
    socket.once('error', (error) => finish(error));
    socket.once('close', () =>
      finish(new Error(`Redis at ${address.host}:${address.port} closed the connection before replying`)),
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const result = parseScalarReply(received);
        if (result.complete) finish(undefined, result.value);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.connect(address.port, address.host, () => socket.write(encodeCommand(args)));
  });
}

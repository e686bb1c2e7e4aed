/**
 * The child side of the worker protocol: typed `send`, waiting for one parent message, and turning
 * any crash into a `failed` message so the parent's test fails with the real error.
 */
import type { WorkerFailed } from './protocol.js';

/** Parses the JSON configuration the parent passed as argv[2]. */
export function workerConfig<T>(): T {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('worker started without its JSON configuration in argv[2]');
  return JSON.parse(raw) as T;
}

/** Sends one message to the parent; resolves once it is handed to the IPC channel. */
export function sendToParent<T extends { type: string }>(message: T | WorkerFailed): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error('worker has no IPC channel: start it with child_process.fork'));
      return;
    }
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

/** Resolves with the next message from the parent whose `type` is `type`. */
export function nextFromParent<T extends { type: string }>(type: T['type']): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: T) => {
      if (message?.type !== type) return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
  });
}

/** Runs the worker's body; reports a failure to the parent and exits non-zero. */
export function runWorker(body: () => Promise<void>): void {
  const fail = async (error: unknown) => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await sendToParent({ type: 'failed', error: text }).catch(() => {});
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  body().then(() => {
    // Letting go of the IPC channel is what lets the process end by itself.
    process.disconnect?.();
  }, fail);
}

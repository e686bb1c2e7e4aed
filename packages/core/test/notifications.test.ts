import { describe, expect, it } from 'vitest';
import {
  createReleaseNotifier,
  SUBSCRIBER_CLOSE_TIMEOUT,
  type SubscriberConnection,
} from '../src/port/release-notifier.js';

// The notifier's bookkeeping over a scripted connection: what it waits for, and for how long.
// That the adapters destroy real connections (maxclients, a dead server, an unanswered QUIT) is
// proven against Redis by the subscriber suite in @lock/testing.

/** A promise with its settle functions, for replies a test sends when it chooses. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

const noop = () => {};

/** A connection whose every reply the test controls, recording the calls made on it. */
function scriptedConnection() {
  const calls: string[] = [];
  const subscribes: ReturnType<typeof deferred<void>>[] = [];
  const quit = deferred();
  // A test may fail the QUIT before the notifier sends it.
  quit.promise.catch(noop);
  const connection: SubscriberConnection = {
    subscribe: (channel) => {
      calls.push(`subscribe ${channel}`);
      const reply = deferred();
      subscribes.push(reply);
      return reply.promise;
    },
    unsubscribe: async (channel) => {
      calls.push(`unsubscribe ${channel}`);
    },
    close: () => {
      calls.push('close');
      return quit.promise;
    },
    destroy: () => {
      calls.push('destroy');
    },
  };
  return { connection, calls, subscribes, quit };
}

/** Resolves once `condition` holds, checking after every macrotask (the notifier's own steps). */
async function until(condition: () => boolean, timeout = 2_000): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('createReleaseNotifier (pure logic)', () => {
  it('shares one SUBSCRIBE per channel and resolves every listener once Redis confirmed it', async () => {
    const scripted = scriptedConnection();
    const notifier = createReleaseNotifier(async () => scripted.connection);
    const first = notifier.subscribe('c', noop);
    const second = notifier.subscribe('c', noop);
    await until(() => scripted.subscribes.length === 1);
    scripted.subscribes[0]?.resolve();
    const [unsubscribeFirst, unsubscribeSecond] = await Promise.all([first, second]);
    unsubscribeFirst();
    expect(scripted.calls).toEqual(['subscribe c']);
    unsubscribeSecond();
    await until(() => scripted.calls.length === 2);
    expect(scripted.calls).toEqual(['subscribe c', 'unsubscribe c']);
    scripted.quit.resolve();
    await notifier.close();
  });

  it('rejects a subscription Redis does not confirm within subscribeTimeout', async () => {
    const scripted = scriptedConnection();
    const notifier = createReleaseNotifier(async () => scripted.connection, { subscribeTimeout: 50 });
    const started = performance.now();
    await expect(notifier.subscribe('c', noop)).rejects.toThrow(/within 50 ms/);
    expect(performance.now() - started).toBeLessThan(1_000);
    scripted.quit.resolve();
    await notifier.close();
  });

  it('rejects with the reason once the caller aborts, and drops a SUBSCRIBE confirmed after that', async () => {
    const scripted = scriptedConnection();
    const notifier = createReleaseNotifier(async () => scripted.connection);
    const controller = new AbortController();
    const subscribing = notifier.subscribe('c', noop, controller.signal);
    await until(() => scripted.subscribes.length === 1);
    controller.abort(new Error('wait ended'));
    await expect(subscribing).rejects.toThrow('wait ended');
    expect(scripted.calls).toEqual(['subscribe c']);
    scripted.subscribes[0]?.resolve();
    await until(() => scripted.calls.includes('unsubscribe c'));
    scripted.quit.resolve();
    await notifier.close();
  });

  it('keeps a late-confirmed SUBSCRIBE that another listener joined meanwhile', async () => {
    const scripted = scriptedConnection();
    const notifier = createReleaseNotifier(async () => scripted.connection);
    const controller = new AbortController();
    const gone = notifier.subscribe('c', noop, controller.signal);
    await until(() => scripted.subscribes.length === 1);
    controller.abort(new Error('wait ended'));
    await expect(gone).rejects.toThrow('wait ended');
    const staying = notifier.subscribe('c', noop);
    scripted.subscribes[0]?.resolve();
    const unsubscribe = await staying;
    expect(scripted.calls).toEqual(['subscribe c']);
    unsubscribe();
    scripted.quit.resolve();
    await notifier.close();
  });

  it('an already-aborted signal opens nothing', async () => {
    let opened = 0;
    const notifier = createReleaseNotifier(async () => {
      opened += 1;
      return scriptedConnection().connection;
    });
    await expect(notifier.subscribe('c', noop, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(opened).toBe(0);
  });

  it('close() aborts a connection still opening and resolves at once; pending subscriptions reject', async () => {
    let openSignal: AbortSignal | undefined;
    const notifier = createReleaseNotifier(
      (_onMessage, signal) =>
        new Promise<SubscriberConnection>((_resolve, reject) => {
          openSignal = signal;
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    );
    const subscribing = notifier.subscribe('c', noop);
    await until(() => openSignal !== undefined);
    const started = performance.now();
    await notifier.close();
    expect(performance.now() - started).toBeLessThan(200);
    expect(openSignal?.aborted).toBe(true);
    await expect(subscribing).rejects.toThrow();
    await expect(notifier.subscribe('c', noop)).rejects.toThrow(/closed/);
  });

  it('close() gives an opening that ignores the signal the close timeout, then destroys it when it opens', async () => {
    const scripted = scriptedConnection();
    const opening = deferred<SubscriberConnection>();
    const notifier = createReleaseNotifier(() => opening.promise);
    const subscribing = notifier.subscribe('c', noop).catch(() => 'rejected');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    await notifier.close();
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(SUBSCRIBER_CLOSE_TIMEOUT - 50);
    expect(took).toBeLessThan(SUBSCRIBER_CLOSE_TIMEOUT + 500);
    opening.resolve(scripted.connection);
    await until(() => scripted.calls.includes('destroy'));
    expect(scripted.calls).not.toContain('close');
    expect(await subscribing).toBe('rejected');
  });

  it('close() destroys a connection whose QUIT does not answer within the close timeout', async () => {
    const scripted = scriptedConnection();
    const notifier = createReleaseNotifier(async () => scripted.connection);
    const subscribing = notifier.subscribe('c', noop);
    await until(() => scripted.subscribes.length === 1);
    scripted.subscribes[0]?.resolve();
    (await subscribing)();
    const started = performance.now();
    await notifier.close();
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(SUBSCRIBER_CLOSE_TIMEOUT - 50);
    expect(took).toBeLessThan(SUBSCRIBER_CLOSE_TIMEOUT + 500);
    expect(scripted.calls.slice(-2)).toEqual(['close', 'destroy']);
  });

  it('the idle close destroys a connection whose QUIT fails, and a graceful QUIT is left alone', async () => {
    const failing = scriptedConnection();
    const healthy = scriptedConnection();
    const connections = [failing, healthy];
    const notifier = createReleaseNotifier(async () => (connections.shift() ?? healthy).connection, {
      idleTimeout: 20,
    });
    for (const scripted of [failing, healthy]) {
      const subscribing = notifier.subscribe('c', noop);
      await until(() => scripted.subscribes.length === 1);
      scripted.subscribes[0]?.resolve();
      (await subscribing)();
      if (scripted === failing) scripted.quit.reject(new Error("Stream isn't writeable"));
      else scripted.quit.resolve();
      await until(() => scripted.calls.includes('close'));
    }
    await until(() => failing.calls.includes('destroy'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(healthy.calls).not.toContain('destroy');
    await notifier.close();
  });

  it('the idle close aborts a connection that never opened once its last waiter gave up', async () => {
    let openSignal: AbortSignal | undefined;
    const notifier = createReleaseNotifier(
      (_onMessage, signal) =>
        new Promise<SubscriberConnection>((_resolve, reject) => {
          openSignal = signal;
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      { idleTimeout: 20, subscribeTimeout: 30 },
    );
    await expect(notifier.subscribe('c', noop)).rejects.toThrow(/within 30 ms/);
    await until(() => openSignal?.aborted === true);
    // The next waiter gets a new connection.
    const previous = openSignal;
    const next = notifier.subscribe('c', noop).catch(() => 'rejected');
    await until(() => openSignal !== previous);
    await notifier.close();
    expect(await next).toBe('rejected');
  });

  it('a failed open lets the next waiter open a new connection', async () => {
    const scripted = scriptedConnection();
    let opens = 0;
    const notifier = createReleaseNotifier(async () => {
      opens += 1;
      if (opens === 1) throw new Error('refused');
      return scripted.connection;
    });
    await expect(notifier.subscribe('c', noop)).rejects.toThrow('refused');
    const subscribing = notifier.subscribe('c', noop);
    await until(() => scripted.subscribes.length === 1);
    scripted.subscribes[0]?.resolve();
    (await subscribing)();
    expect(opens).toBe(2);
    scripted.quit.resolve();
    await notifier.close();
  });
});

import { describe, expect, it } from 'vitest';
import { hasReplicaWaiter } from '../src/port/capabilities.js';
import { defineRunner, type OpeningSubscriber } from '../src/port/define-runner.js';
import { ALL_SCRIPTS } from '../src/scripts/index.js';

// What defineRunner adds around an adapter's client shape, over fake clients: the decision rules
// only. That real connections open, close and are destroyed is proven against Redis by the
// subscriber suite in @lock/testing, for both adapters.

const script = ALL_SCRIPTS[0] as (typeof ALL_SCRIPTS)[number];
const evalFunctions = { evalsha: async () => 1, eval: async () => 1 };

/** A subscriber connection whose `ready` the test settles, recording the calls made on it. */
function openingConnection() {
  const calls: string[] = [];
  let open!: () => void;
  let fail!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  const connection: OpeningSubscriber = {
    ready,
    subscribe: async (channel) => calls.push(`subscribe ${channel}`),
    unsubscribe: async (channel) => calls.push(`unsubscribe ${channel}`),
    close: async () => calls.push('close'),
    destroy: () => calls.push('destroy'),
  };
  return { connection, calls, open, fail };
}

describe('defineRunner (pure logic)', () => {
  it('runs scripts with EVALSHA, falling back to EVAL on NOSCRIPT', async () => {
    const sent: string[] = [];
    const runner = defineRunner({
      clientName: 'fake',
      evalFunctions: {
        evalsha: async () => {
          sent.push('evalsha');
          throw new Error('NOSCRIPT No matching script.');
        },
        eval: async (_source, keys, args) => {
          sent.push('eval');
          return [keys, args];
        },
      },
    });
    expect(await runner.run(script, ['k'], [1])).toEqual([['k'], ['1']]);
    expect(sent).toEqual(['evalsha', 'eval']);
  });

  it('describes a runner whose server is unknown unlike any other runner', () => {
    const first = defineRunner({ clientName: 'fake', evalFunctions, describe: () => undefined });
    const second = defineRunner({ clientName: 'fake', evalFunctions });
    const known = defineRunner({ clientName: 'fake', evalFunctions, describe: () => 'host:6379' });
    expect(first.describe()).toMatch(/^fake client #\d+$/);
    expect(second.describe()).toMatch(/^fake client #\d+$/);
    expect(first.describe()).not.toBe(second.describe());
    expect(known.describe()).toBe('host:6379');
  });

  it('offers waitForReplicas only when the client can WAIT', async () => {
    expect(hasReplicaWaiter(defineRunner({ clientName: 'fake', evalFunctions }))).toBe(false);
    const waiting = defineRunner({
      clientName: 'fake',
      evalFunctions,
      waitForReplicas: async (count) => count,
    });
    expect(hasReplicaWaiter(waiting)).toBe(true);
    expect(await waiting.waitForReplicas?.(2, 100)).toBe(2);
  });

  it('subscriptions fail (waiters poll) without a subscriber, and with notifications off', async () => {
    let opened = 0;
    const openSubscriber = () => {
      opened += 1;
      return openingConnection().connection;
    };
    const none = defineRunner({ clientName: 'fake', evalFunctions });
    const off = defineRunner({ clientName: 'fake', evalFunctions, openSubscriber, notifications: false });
    await expect(none.subscribe('c', () => {})).rejects.toThrow(/notifications are off/);
    await expect(off.subscribe('c', () => {})).rejects.toThrow(/notifications are off/);
    expect(opened).toBe(0);
  });

  it('subscribes once the connection is ready, and delivers its messages', async () => {
    const opening = openingConnection();
    let deliver!: (channel: string) => void;
    const runner = defineRunner({
      clientName: 'fake',
      evalFunctions,
      openSubscriber: (onMessage) => {
        deliver = onMessage;
        return opening.connection;
      },
    });
    const heard: string[] = [];
    const subscribed = runner.subscribe('c', () => heard.push('c'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(opening.calls).toEqual([]);
    opening.open();
    const unsubscribe = await subscribed;
    expect(opening.calls).toEqual(['subscribe c']);
    deliver('c');
    expect(heard).toEqual(['c']);
    unsubscribe();
    await runner.close();
  });

  it('destroys a connection still opening when the runner closes, and again should it open later', async () => {
    const opening = openingConnection();
    const runner = defineRunner({
      clientName: 'fake',
      evalFunctions,
      openSubscriber: () => opening.connection,
    });
    const subscribed = runner.subscribe('c', () => {});
    subscribed.catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    await runner[Symbol.asyncDispose]();
    await expect(subscribed).rejects.toThrow();
    expect(opening.calls).toEqual(['destroy']);
    opening.open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(opening.calls.filter((call) => call === 'destroy').length).toBeGreaterThanOrEqual(2);
    expect(opening.calls).not.toContain('subscribe c');
  });

  it('destroys a connection that fails to open; the next subscription opens a new one', async () => {
    const connections = [openingConnection(), openingConnection()];
    let opened = 0;
    const runner = defineRunner({
      clientName: 'fake',
      evalFunctions,
      openSubscriber: () => (connections[opened++] ?? openingConnection()).connection,
    });
    const [first, second] = connections as [(typeof connections)[0], (typeof connections)[0]];
    const failed = runner.subscribe('c', () => {});
    first.fail(new Error('connection refused'));
    await expect(failed).rejects.toThrow('connection refused');
    expect(first.calls).toContain('destroy');
    second.open();
    const unsubscribe = await runner.subscribe('c', () => {});
    expect(second.calls).toEqual(['subscribe c']);
    unsubscribe();
    await runner.close();
  });
});

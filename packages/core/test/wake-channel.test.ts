import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseHandOff } from '../src/deployments/protocol.js';
import { WakeChannel } from '../src/deployments/wake-channel.js';
import type { ReleaseNotifier } from '../src/port/capabilities.js';
import { deferred, flush, useFakeClock } from './fake-clock.js';

// The wake channel's bookkeeping over a scripted notifier: which waiter a message reaches, that a
// message coming before its waiter listens is kept, and when the subscription is made and dropped.
// That releases really hand locks over through it is proven against Redis.

/** A notifier whose subscriptions Redis "confirms" when the test says so. */
function scriptedNotifier() {
  const subscriptions: { channel: string; listener: (message?: string) => void; dropped: boolean }[] = [];
  const confirmations: ReturnType<typeof deferred<void>>[] = [];
  const notifier: ReleaseNotifier = {
    subscribe(channel, listener) {
      const subscription = { channel, listener, dropped: false };
      subscriptions.push(subscription);
      const confirmed = deferred<void>();
      confirmations.push(confirmed);
      return confirmed.promise.then(() => () => {
        subscription.dropped = true;
      });
    },
  };
  const publish = (message?: string) => {
    for (const subscription of subscriptions) if (!subscription.dropped) subscription.listener(message);
  };
  const confirmAll = async () => {
    for (const confirmation of confirmations) confirmation.resolve();
    await flush();
  };
  return { notifier, subscriptions, publish, confirmAll };
}

beforeEach(useFakeClock);
afterEach(() => {
  vi.useRealTimers();
});

describe('WakeChannel', () => {
  it("is named after the Locker's prefix, one id per channel", () => {
    const { notifier } = scriptedNotifier();
    const one = new WakeChannel(notifier, 'app:');
    const other = new WakeChannel(notifier, 'app:');
    expect(one.name).toMatch(/^app:wake:[\w-]{21}$/);
    expect(other.name).not.toBe(one.name);
  });

  it('subscribes once for all its waiters, and is ready only once Redis confirmed', async () => {
    const { notifier, subscriptions, confirmAll } = scriptedNotifier();
    const channel = new WakeChannel(notifier, 'p:');
    const first = channel.listen('a', () => {});
    const second = channel.listen('b', () => {});
    expect(subscriptions).toHaveLength(1);
    expect(channel.ready).toBe(false);
    await confirmAll();
    expect(channel.ready).toBe(true);
    (await first)();
    (await second)();
  });

  it('routes a message to the waiter whose token starts it, with the rest of the message', async () => {
    const { notifier, publish, confirmAll } = scriptedNotifier();
    const channel = new WakeChannel(notifier, 'p:');
    const heardByA: (string | undefined)[] = [];
    const heardByB: (string | undefined)[] = [];
    const listening = [
      channel.listen('a', (m) => heardByA.push(m)),
      channel.listen('b', (m) => heardByB.push(m)),
    ];
    await confirmAll();
    publish('a 7 400 1796400000000');
    publish('b');
    publish('nobody 1 2 3');
    expect(heardByA).toEqual(['7 400 1796400000000']);
    expect(heardByB).toEqual(['']);
    for (const stop of await Promise.all(listening)) stop();
  });

  it('wakes every waiter when the notifier passes no message on', async () => {
    const { notifier, publish, confirmAll } = scriptedNotifier();
    const channel = new WakeChannel(notifier, 'p:');
    const heard: string[] = [];
    const listening = [
      channel.listen('a', () => heard.push('a')),
      channel.listen('b', () => heard.push('b')),
    ];
    await confirmAll();
    publish(undefined);
    expect(heard.sort()).toEqual(['a', 'b']);
    for (const stop of await Promise.all(listening)) stop();
  });

  /**
   * A subscribed channel with another waiter on it; `a`'s attempt is in flight when a hand-off to
   * `a` comes, then settles; `a` listens after `delayMs`. Resolves what `a` heard.
   */
  async function handOffDuringAttempt(delayMs: number) {
    const { notifier, publish, confirmAll } = scriptedNotifier();
    const channel = new WakeChannel(notifier, 'p:');
    const other = channel.listen('other', () => {});
    await confirmAll();
    const settled = channel.attemptStarted('a');
    publish('a 3 400 1796400000000');
    settled();
    if (delayMs > 0) await vi.advanceTimersByTimeAsync(delayMs);
    const heard: (string | undefined)[] = [];
    const stop = await channel.listen('a', (message) => heard.push(message));
    stop();
    (await other)();
    return heard;
  }

  it("keeps a message that comes during a waiter's attempt, before it listens, and gives it when it does", async () => {
    // The reply's continuations run before any timer: that is where a waiter starts listening.
    expect(await handOffDuringAttempt(0)).toEqual(['3 400 1796400000000']);
  });

  it('drops what was kept for an attempt that did not lead to listening (it took the lock)', async () => {
    expect(await handOffDuringAttempt(1)).toEqual([]);
  });

  it('stays subscribed for a second after its last waiter left and its last attempt settled, then unsubscribes', async () => {
    const { notifier, subscriptions, confirmAll } = scriptedNotifier();
    const channel = new WakeChannel(notifier, 'p:');
    const listening = channel.listen('a', () => {});
    await confirmAll();
    (await listening)();
    const settled = channel.attemptStarted('b');
    await vi.advanceTimersByTimeAsync(5_000);
    // An attempt in flight may register a waiter the channel must reach.
    expect(channel.ready).toBe(true);
    settled();
    await vi.advanceTimersByTimeAsync(999);
    expect(channel.ready).toBe(true);
    expect(subscriptions[0]?.dropped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(channel.ready).toBe(false);
    expect(subscriptions[0]?.dropped).toBe(true);
    // The next waiter subscribes again.
    const again = channel.listen('c', () => {});
    expect(subscriptions).toHaveLength(2);
    await confirmAll();
    (await again)();
  });

  it('rejects listen when the subscription fails, and tries again for the next waiter', async () => {
    const failing: ReleaseNotifier = { subscribe: vi.fn(() => Promise.reject(new Error('no pub/sub'))) };
    const channel = new WakeChannel(failing, 'p:');
    await expect(channel.listen('a', () => {})).rejects.toThrow('no pub/sub');
    await expect(channel.listen('b', () => {})).rejects.toThrow('no pub/sub');
    expect(failing.subscribe).toHaveBeenCalledTimes(2);
    expect(channel.ready).toBe(false);
  });
});

describe('parseHandOff', () => {
  it('reads "fence grantedMs serverNow"; fence 0 is no fencing token', () => {
    expect(parseHandOff('7 400 1796400000000')).toEqual({
      fencingToken: 7,
      grantedMs: 400,
      serverTime: 1796400000000,
    });
    expect(parseHandOff('0 400 1796400000000')?.fencingToken).toBeUndefined();
  });

  it('is undefined for a plain wake-up, a missing message, or one that is not a hand-off', () => {
    for (const message of [undefined, '', '7 400', '7 0 1796400000000', 'x y z', '7 400 soon']) {
      expect(parseHandOff(message)).toBeUndefined();
    }
  });
});

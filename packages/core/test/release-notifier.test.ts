import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { monotonicNow } from '../src/clock.js';
import { WaitStop, waitForLock } from '../src/handle/wait.js';
import { resolveLockOptions } from '../src/options.js';
import {
  createReleaseNotifier,
  type OpenSubscriberConnection,
  type ReleaseNotifierOptions,
  SUBSCRIBER_CLOSE_TIMEOUT,
} from '../src/port/release-notifier.js';
import { deferred, flush, track, useFakeClock } from './fake-clock.js';

// The notifier's bookkeeping on a fake clock, over fake subscriber connections: how many
// connections and SUBSCRIBEs many waiters cost, exactly when an idle connection closes, and how
// soon a waiter gives up on a connection that does not open or close. That the adapters destroy
// real connections (maxclients, a dead server, an unanswered QUIT) is proven against Redis by the
// subscriber suite in @lock/testing.

/** How the fake connections answer; every call answers at once unless the test says otherwise. */
interface Server {
  /** Runs while a connection opens; a rejection fails the open. */
  connect?: (signal: AbortSignal) => Promise<void>;
  subscribe?: (channel: string) => Promise<void>;
  unsubscribe?: (channel: string) => Promise<void>;
  quit?: () => Promise<void>;
}

/**
 * A notifier over fake connections, numbered from 1 in the order they are opened. `log` lists every
 * open and every call made on a connection, e.g. `1 subscribe a`.
 */
function fakeNotifier(server: Server = {}, options: ReleaseNotifierOptions = {}) {
  const log: string[] = [];
  const opened: { onMessage: (channel: string) => void; signal: AbortSignal }[] = [];
  const open: OpenSubscriberConnection = async (onMessage, signal) => {
    opened.push({ onMessage, signal });
    const id = opened.length;
    log.push(`open ${id}`);
    await server.connect?.(signal);
    const call = (what: string, reply: () => Promise<void> | undefined) => {
      log.push(`${id} ${what}`);
      return reply() ?? Promise.resolve();
    };
    return {
      subscribe: (channel) => call(`subscribe ${channel}`, () => server.subscribe?.(channel)),
      unsubscribe: (channel) => call(`unsubscribe ${channel}`, () => server.unsubscribe?.(channel)),
      close: () => call('close', () => server.quit?.()),
      destroy: () => {
        log.push(`${id} destroy`);
      },
    };
  };
  const notifier = createReleaseNotifier(open, options);
  /** Delivers a message on the newest connection, as Redis would after a release. */
  const publish = (channel: string) => opened.at(-1)?.onMessage(channel);
  return { notifier, log, opened, publish };
}

/** An open that does not finish until its signal aborts, like a client that cannot connect. */
const neverConnects = (signal: AbortSignal) =>
  new Promise<void>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

beforeEach(useFakeClock);
afterEach(() => {
  vi.useRealTimers();
});

describe('createReleaseNotifier: one connection for many waiters', () => {
  it('opens one connection for any number of waiters and sends one SUBSCRIBE per channel', async () => {
    const { notifier, log } = fakeNotifier();
    const unsubscribes = await Promise.all(
      ['a', 'a', 'b', 'a', 'b', 'c'].map((channel) => notifier.subscribe(channel, vi.fn())),
    );
    expect(log).toEqual(['open 1', '1 subscribe a', '1 subscribe b', '1 subscribe c']);
    for (const unsubscribe of unsubscribes) unsubscribe();
    await notifier.close();
  });

  it('resolves every waiter of a channel once Redis confirmed its one SUBSCRIBE, not before', async () => {
    const confirmed = deferred();
    const { notifier, log } = fakeNotifier({ subscribe: () => confirmed.promise });
    const waiters = [track(notifier.subscribe('a', vi.fn())), track(notifier.subscribe('a', vi.fn()))];
    await vi.advanceTimersByTimeAsync(1_000);
    expect(waiters.map((waiter) => waiter.state)).toEqual(['pending', 'pending']);
    confirmed.resolve();
    await flush();
    expect(waiters.map((waiter) => waiter.state)).toEqual(['resolved', 'resolved']);
    expect(log).toEqual(['open 1', '1 subscribe a']);
    await notifier.close();
  });

  it("delivers a message to every listener of its channel, and to no other channel's", async () => {
    const { notifier, publish } = fakeNotifier();
    const [first, second, other] = [vi.fn(), vi.fn(), vi.fn()];
    await Promise.all([
      notifier.subscribe('a', first),
      notifier.subscribe('a', second),
      notifier.subscribe('b', other),
    ]);
    publish('a');
    publish('nobody listens here');
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
    expect(other).not.toHaveBeenCalled();
    await notifier.close();
  });

  it("stops a listener's messages when it unsubscribes, and sends UNSUBSCRIBE only when the channel's last one leaves", async () => {
    const { notifier, log, publish } = fakeNotifier();
    const [leaving, staying] = [vi.fn(), vi.fn()];
    const unsubscribeLeaving = await notifier.subscribe('a', leaving);
    const unsubscribeStaying = await notifier.subscribe('a', staying);
    unsubscribeLeaving();
    publish('a');
    expect(leaving).not.toHaveBeenCalled();
    expect(staying).toHaveBeenCalledTimes(1);
    await flush();
    expect(log).not.toContain('1 unsubscribe a');
    unsubscribeStaying();
    await flush();
    expect(log.filter((entry) => entry === '1 unsubscribe a')).toHaveLength(1);
    await notifier.close();
  });

  it('unsubscribing twice is harmless: others stay subscribed and the idle close is not put off', async () => {
    const { notifier, log, publish } = fakeNotifier({}, { idleTimeout: 500 });
    const other = vi.fn();
    const unsubscribeTwice = await notifier.subscribe('a', vi.fn());
    const unsubscribeOther = await notifier.subscribe('a', other);
    unsubscribeTwice();
    unsubscribeTwice();
    publish('a');
    expect(other).toHaveBeenCalledTimes(1);
    // Someone is still waiting: no idle close is even armed.
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(log).toEqual(['open 1', '1 subscribe a']);
    unsubscribeOther();
    await vi.advanceTimersByTimeAsync(400);
    // A third call, late: the idle close still comes 500 ms after the last waiter really left.
    unsubscribeTwice();
    await vi.advanceTimersByTimeAsync(100);
    expect(log).toEqual(['open 1', '1 subscribe a', '1 unsubscribe a', '1 close']);
  });

  it('waits for an UNSUBSCRIBE still in flight before subscribing to that channel again', async () => {
    const unsubscribed = deferred();
    const { notifier, log } = fakeNotifier({ unsubscribe: () => unsubscribed.promise });
    (await notifier.subscribe('a', vi.fn()))();
    const again = track(notifier.subscribe('a', vi.fn()));
    await flush();
    expect(log).toEqual(['open 1', '1 subscribe a', '1 unsubscribe a']);
    expect(again.state).toBe('pending');
    unsubscribed.resolve();
    await flush();
    expect(log).toEqual(['open 1', '1 subscribe a', '1 unsubscribe a', '1 subscribe a']);
    expect(again.state).toBe('resolved');
    await notifier.close();
  });

  it('a refused SUBSCRIBE rejects every waiter of it, and the next waiter sends a new one on the same connection', async () => {
    let refuse = true;
    const { notifier, log } = fakeNotifier({
      subscribe: () => (refuse ? Promise.reject(new Error('NOPERM')) : Promise.resolve()),
    });
    const first = track(notifier.subscribe('a', vi.fn()));
    const second = track(notifier.subscribe('a', vi.fn()));
    await flush();
    expect([first.state, second.state]).toEqual(['rejected', 'rejected']);
    expect(second.error).toEqual(new Error('NOPERM'));
    refuse = false;
    await notifier.subscribe('a', vi.fn());
    expect(log).toEqual(['open 1', '1 subscribe a', '1 subscribe a']);
    await notifier.close();
  });
});

describe('createReleaseNotifier: idle close', () => {
  it('closes the connection idleTimeout after the last waiter left, not before', async () => {
    const { notifier, log } = fakeNotifier({}, { idleTimeout: 500 });
    const unsubscribes = await Promise.all([
      notifier.subscribe('a', vi.fn()),
      notifier.subscribe('b', vi.fn()),
    ]);
    for (const unsubscribe of unsubscribes) unsubscribe();
    await vi.advanceTimersByTimeAsync(499);
    expect(log).not.toContain('1 close');
    await vi.advanceTimersByTimeAsync(1);
    expect(log.at(-1)).toBe('1 close');
    await vi.advanceTimersByTimeAsync(10 * SUBSCRIBER_CLOSE_TIMEOUT);
    expect(log).not.toContain('1 destroy');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('idleTimeout is 1000 ms by default', async () => {
    const { notifier, log } = fakeNotifier();
    (await notifier.subscribe('a', vi.fn()))();
    await vi.advanceTimersByTimeAsync(999);
    expect(log).not.toContain('1 close');
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toContain('1 close');
  });

  it('never closes while a waiter is subscribed, and one that comes back in time reuses the connection', async () => {
    const { notifier, log } = fakeNotifier({}, { idleTimeout: 500 });
    const unsubscribe = await notifier.subscribe('a', vi.fn());
    await vi.advanceTimersByTimeAsync(10_000);
    unsubscribe();
    await vi.advanceTimersByTimeAsync(499);
    const back = await notifier.subscribe('a', vi.fn());
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log).toEqual(['open 1', '1 subscribe a', '1 unsubscribe a', '1 subscribe a']);
    back();
    await notifier.close();
  });

  it('after an idle close the next waiter opens a new connection, and only that one delivers to it', async () => {
    const { notifier, log, opened } = fakeNotifier({}, { idleTimeout: 500 });
    (await notifier.subscribe('a', vi.fn()))();
    await vi.advanceTimersByTimeAsync(500);
    const listener = vi.fn();
    await notifier.subscribe('a', listener);
    expect(log.slice(-2)).toEqual(['open 2', '2 subscribe a']);
    opened[0]?.onMessage('a');
    expect(listener).not.toHaveBeenCalled();
    opened[1]?.onMessage('a');
    expect(listener).toHaveBeenCalledTimes(1);
    await notifier.close();
  });

  it('the idle close destroys a connection whose QUIT has not answered SUBSCRIBER_CLOSE_TIMEOUT ms later', async () => {
    const { notifier, log } = fakeNotifier({ quit: () => new Promise(() => {}) }, { idleTimeout: 500 });
    (await notifier.subscribe('a', vi.fn()))();
    await vi.advanceTimersByTimeAsync(500 + SUBSCRIBER_CLOSE_TIMEOUT - 1);
    expect(log.slice(-1)).toEqual(['1 close']);
    await vi.advanceTimersByTimeAsync(1);
    expect(log.slice(-2)).toEqual(['1 close', '1 destroy']);
  });

  it('close() closes at once and cancels a pending idle close', async () => {
    const { notifier, log } = fakeNotifier({}, { idleTimeout: 500 });
    (await notifier.subscribe('a', vi.fn()))();
    await vi.advanceTimersByTimeAsync(100);
    await notifier.close();
    expect(log.filter((entry) => entry === '1 close')).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log.filter((entry) => entry === '1 close')).toHaveLength(1);
  });

  it('an unsubscribe after close() sends nothing and does not throw', async () => {
    const { notifier, log } = fakeNotifier();
    const unsubscribe = await notifier.subscribe('a', vi.fn());
    await notifier.close();
    unsubscribe();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log).toEqual(['open 1', '1 subscribe a', '1 close']);
  });
});

describe('createReleaseNotifier: subscribeTimeout and aborts', () => {
  it('a connection that does not open fails the subscription at subscribeTimeout, then is given up when idle', async () => {
    const { notifier, opened } = fakeNotifier(
      { connect: neverConnects },
      { subscribeTimeout: 300, idleTimeout: 500 },
    );
    const subscribing = track(notifier.subscribe('a', vi.fn()));
    await vi.advanceTimersByTimeAsync(299);
    expect(subscribing.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(subscribing.state).toBe('rejected');
    expect(String(subscribing.error)).toMatch(/within 300 ms/);
    await vi.advanceTimersByTimeAsync(499);
    expect(opened[0]?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(opened[0]?.signal.aborted).toBe(true);
    // The next waiter gets a new connection.
    const next = track(notifier.subscribe('a', vi.fn()));
    await flush();
    expect(opened).toHaveLength(2);
    await notifier.close();
    await flush();
    expect(next.state).toBe('rejected');
  });

  it('subscribeTimeout is 2000 ms by default', async () => {
    const { notifier } = fakeNotifier({ connect: neverConnects });
    const subscribing = track(notifier.subscribe('a', vi.fn()));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(subscribing.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(subscribing.state).toBe('rejected');
    await notifier.close();
  });

  it('a failed open rejects at once with its error, also when the adapter throws instead of rejecting', async () => {
    const refused = new Error('ECONNREFUSED');
    let opens = 0;
    const notifier = createReleaseNotifier(() => {
      opens += 1;
      throw refused;
    });
    const started = monotonicNow();
    await expect(notifier.subscribe('a', vi.fn())).rejects.toBe(refused);
    await expect(notifier.subscribe('a', vi.fn())).rejects.toBe(refused);
    expect(monotonicNow()).toBe(started);
    expect(opens).toBe(2);
    await notifier.close();
  });

  it('after a failed open the next waiter opens a new connection', async () => {
    let refuse = true;
    const { notifier, log } = fakeNotifier({
      connect: async () => {
        if (refuse) throw new Error('ECONNREFUSED');
      },
    });
    await expect(notifier.subscribe('a', vi.fn())).rejects.toThrow('ECONNREFUSED');
    refuse = false;
    (await notifier.subscribe('a', vi.fn()))();
    await flush();
    expect(log).toEqual(['open 1', 'open 2', '2 subscribe a', '2 unsubscribe a']);
    await notifier.close();
  });

  it('an already aborted signal opens nothing', async () => {
    const { notifier, opened } = fakeNotifier();
    await expect(notifier.subscribe('a', vi.fn(), AbortSignal.abort(new Error('gone')))).rejects.toThrow(
      'gone',
    );
    expect(opened).toEqual([]);
  });

  /** A waiter that aborts while its SUBSCRIBE is unconfirmed; `confirmed` answers that SUBSCRIBE. */
  async function abortWhileSubscribing() {
    const confirmed = deferred();
    const fake = fakeNotifier({ subscribe: () => confirmed.promise });
    const controller = new AbortController();
    const aborted = track(fake.notifier.subscribe('a', vi.fn(), controller.signal));
    await flush();
    controller.abort(new Error('the wait ended'));
    await flush();
    return { ...fake, confirmed, aborted };
  }

  it('an abort while waiting for SUBSCRIBE rejects at once with the reason, and the SUBSCRIBE is dropped when confirmed', async () => {
    const { notifier, log, confirmed, aborted } = await abortWhileSubscribing();
    expect(aborted.error).toEqual(new Error('the wait ended'));
    expect(log).toEqual(['open 1', '1 subscribe a']);
    confirmed.resolve();
    await flush();
    expect(log).toEqual(['open 1', '1 subscribe a', '1 unsubscribe a']);
    await notifier.close();
  });

  it('keeps a SUBSCRIBE confirmed after its waiter aborted when another waiter joined it meanwhile', async () => {
    const { notifier, log, confirmed, aborted } = await abortWhileSubscribing();
    expect(aborted.state).toBe('rejected');
    const staying = notifier.subscribe('a', vi.fn());
    confirmed.resolve();
    const unsubscribe = await staying;
    expect(log).toEqual(['open 1', '1 subscribe a']);
    unsubscribe();
    await notifier.close();
  });

  it('fails a SUBSCRIBE that Redis does not confirm within subscribeTimeout, and drops it when confirmed later', async () => {
    const confirmed = deferred();
    const { notifier, log } = fakeNotifier({ subscribe: () => confirmed.promise }, { subscribeTimeout: 300 });
    const subscribing = track(notifier.subscribe('a', vi.fn()));
    await vi.advanceTimersByTimeAsync(299);
    expect(subscribing.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(String(subscribing.error)).toMatch(/within 300 ms/);
    confirmed.resolve();
    await flush();
    expect(log).toEqual(['open 1', '1 subscribe a', '1 unsubscribe a']);
    await notifier.close();
  });

  it('refuses a subscription that Redis confirms while the connection is closing: the waiter polls', async () => {
    const confirmed = deferred();
    const { notifier, log } = fakeNotifier({
      subscribe: () => confirmed.promise,
      quit: () => new Promise(() => {}),
    });
    const subscribing = track(notifier.subscribe('a', vi.fn()));
    await flush();
    const closing = notifier.close();
    await flush();
    expect(log).toEqual(['open 1', '1 subscribe a', '1 close']);
    confirmed.resolve();
    await flush();
    expect(subscribing.state).toBe('rejected');
    expect(String(subscribing.error)).toMatch(/closed/);
    await vi.advanceTimersByTimeAsync(SUBSCRIBER_CLOSE_TIMEOUT);
    await closing;
  });

  it('clears its timeout once Redis confirmed: a subscribed waiter leaves no timer running', async () => {
    const { notifier } = fakeNotifier();
    const unsubscribe = await notifier.subscribe('a', vi.fn());
    expect(vi.getTimerCount()).toBe(0);
    unsubscribe();
    await notifier.close();
  });

  it('an abort while the connection opens rejects at once with the reason; the opening is given up when idle', async () => {
    const { notifier, opened } = fakeNotifier({ connect: neverConnects }, { idleTimeout: 500 });
    const controller = new AbortController();
    const subscribing = track(notifier.subscribe('a', vi.fn(), controller.signal));
    await vi.advanceTimersByTimeAsync(50);
    controller.abort(new Error('the wait ended'));
    await flush();
    expect(subscribing.error).toEqual(new Error('the wait ended'));
    await vi.advanceTimersByTimeAsync(499);
    expect(opened[0]?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(opened[0]?.signal.aborted).toBe(true);
  });

  it('an abort of one waiter leaves the others of its channel subscribed', async () => {
    const confirmed = deferred();
    const { notifier, log, publish } = fakeNotifier({ subscribe: () => confirmed.promise });
    const controller = new AbortController();
    const [gone, staying] = [vi.fn(), vi.fn()];
    const goneSubscribing = track(notifier.subscribe('a', gone, controller.signal));
    const stayingSubscribing = notifier.subscribe('a', staying);
    await flush();
    controller.abort('gone');
    confirmed.resolve();
    const unsubscribe = await stayingSubscribing;
    expect(goneSubscribing.error).toBe('gone');
    publish('a');
    expect(gone).not.toHaveBeenCalled();
    expect(staying).toHaveBeenCalledTimes(1);
    expect(log).toEqual(['open 1', '1 subscribe a']);
    unsubscribe();
    await notifier.close();
  });
});

describe('createReleaseNotifier: close()', () => {
  it('aborts a connection still opening and resolves at once; pending and later subscriptions reject', async () => {
    const { notifier, opened } = fakeNotifier({ connect: neverConnects });
    const subscribing = track(notifier.subscribe('a', vi.fn()));
    await flush();
    const started = monotonicNow();
    await notifier.close();
    expect(monotonicNow()).toBe(started);
    expect(opened[0]?.signal.aborted).toBe(true);
    await flush();
    expect(subscribing.state).toBe('rejected');
    await expect(notifier.subscribe('a', vi.fn())).rejects.toThrow(/closed/);
  });

  it('gives an opening that ignores the signal SUBSCRIBER_CLOSE_TIMEOUT, then destroys it when it opens', async () => {
    const connected = deferred();
    const { notifier, log, opened } = fakeNotifier({ connect: () => connected.promise });
    const subscribing = track(notifier.subscribe('a', vi.fn()));
    await flush();
    const closing = track(notifier.close());
    await vi.advanceTimersByTimeAsync(SUBSCRIBER_CLOSE_TIMEOUT - 1);
    expect(closing.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(closing.state).toBe('resolved');
    expect(opened[0]?.signal.aborted).toBe(true);
    connected.resolve();
    await flush();
    expect(log).toContain('1 destroy');
    expect(log).not.toContain('1 close');
    expect(subscribing.state).toBe('rejected');
  });

  it('destroys a connection whose QUIT has not answered within SUBSCRIBER_CLOSE_TIMEOUT', async () => {
    const { notifier, log } = fakeNotifier({ quit: () => new Promise(() => {}) });
    (await notifier.subscribe('a', vi.fn()))();
    const closing = track(notifier.close());
    await vi.advanceTimersByTimeAsync(SUBSCRIBER_CLOSE_TIMEOUT - 1);
    expect([closing.state, log.at(-1)]).toEqual(['pending', '1 close']);
    await vi.advanceTimersByTimeAsync(1);
    expect(closing.state).toBe('resolved');
    expect(log.slice(-2)).toEqual(['1 close', '1 destroy']);
  });

  it('destroys a connection whose QUIT fails, and leaves one whose QUIT answers alone', async () => {
    let quitFails = true;
    const { notifier, log } = fakeNotifier(
      { quit: () => (quitFails ? Promise.reject(new Error("Stream isn't writeable")) : Promise.resolve()) },
      { idleTimeout: 20 },
    );
    (await notifier.subscribe('a', vi.fn()))();
    await vi.advanceTimersByTimeAsync(20);
    quitFails = false;
    (await notifier.subscribe('a', vi.fn()))();
    await vi.advanceTimersByTimeAsync(20 + 10 * SUBSCRIBER_CLOSE_TIMEOUT);
    expect(log.filter((entry) => /close|destroy/.test(entry))).toEqual(['1 close', '1 destroy', '2 close']);
  });
});

describe('createReleaseNotifier with waitForLock', () => {
  /** A wait for `job` that never acquires, polling every 100 ms, woken through `notifier`. */
  function waitThrough(notifier: ReturnType<typeof fakeNotifier>['notifier'], retryCount: number) {
    const attempts: number[] = [];
    const startedAt = monotonicNow();
    const result = track(
      waitForLock({
        lockName: 'job',
        options: resolveLockOptions({}, { retryCount, retryDelay: 100, retryJitter: 0 }),
        stop: new WaitStop(undefined),
        attempt: async () => {
          attempts.push(monotonicNow() - startedAt);
          return false;
        },
        onAbandonedAttempt: () => {},
        subscribeToReleases: (listener) => notifier.subscribe('job', listener),
      }),
    );
    return { attempts, result };
  }

  it('a waiter whose subscriber connection does not open polls on schedule, before and after subscribeTimeout', async () => {
    const { notifier } = fakeNotifier({ connect: neverConnects }, { subscribeTimeout: 250 });
    const { attempts, result } = waitThrough(notifier, 5);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempts).toEqual([0, 100, 200, 300, 400, 500]);
    expect(result.value?.attempts).toBe(6);
    await notifier.close();
  });

  it('a release published on the shared connection wakes the waiter at once', async () => {
    const { notifier, publish } = fakeNotifier();
    const { attempts } = waitThrough(notifier, 5);
    await vi.advanceTimersByTimeAsync(30);
    publish('job');
    await flush();
    expect(attempts).toEqual([0, 30]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempts).toEqual([0, 30, 130, 230, 330, 430]);
    await notifier.close();
  });
});

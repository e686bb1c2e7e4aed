import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LockRedisError, RedisCallTimeout } from '../src/errors.js';
import { armDeadline, Deadline, disarmDeadline, withDeadline } from '../src/handle/deadline.js';
import { deferred, flush, track, useFakeClock } from './fake-clock.js';

class Recorded extends Deadline {
  constructor(
    readonly name: string,
    readonly log: string[],
  ) {
    super();
  }

  expire(): void {
    this.log.push(`${this.name}@${performance.now()}`);
  }
}

describe('deadlines', () => {
  beforeEach(() => useFakeClock());
  afterEach(() => vi.useRealTimers());

  it('rejects a call that misses its deadline with REDIS_TIMEOUT and a RedisCallTimeout cause', async () => {
    const call = track(withDeadline(deferred<number>().promise, 100, 'acquire'));
    await vi.advanceTimersByTimeAsync(99);
    expect(call.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(call.state).toBe('rejected');
    expect(LockRedisError.isInstance(call.error)).toBe(true);
    expect((call.error as LockRedisError).code).toBe('REDIS_TIMEOUT');
    expect((call.error as LockRedisError).cause).toBeInstanceOf(RedisCallTimeout);
    expect(((call.error as LockRedisError).cause as RedisCallTimeout).timeout).toBe(100);
  });

  it('settles like the call when it answers in time, and leaves no timer behind', async () => {
    const reply = deferred<number>();
    const call = track(withDeadline(reply.promise, 100, 'release'));
    reply.resolve(7);
    await flush();
    expect(call).toMatchObject({ state: 'resolved', value: 7 });
    await vi.advanceTimersByTimeAsync(200);
    expect(call.state).toBe('resolved');
    expect(vi.getTimerCount()).toBeLessThanOrEqual(1); // at most the list's timer, which then finds nothing
    await vi.advanceTimersByTimeAsync(1);
  });

  it('expires deadlines in due order whatever order they were armed in', async () => {
    const log: string[] = [];
    const start = performance.now();
    armDeadline(new Recorded('long', log), 300, true);
    armDeadline(new Recorded('short', log), 100, true);
    armDeadline(new Recorded('middle', log), 200, true);
    await vi.advanceTimersByTimeAsync(300);
    expect(log).toEqual([`short@${start + 100}`, `middle@${start + 200}`, `long@${start + 300}`]);
  });

  it('never expires a disarmed deadline, also one that got a timer of its own', async () => {
    const log: string[] = [];
    const many = Array.from({ length: 40 }, (_, index) => new Recorded(`late${index}`, log));
    for (const deadline of many) armDeadline(deadline, 1_000, true);
    // Far ahead of the end of a long list: armed on a timer of its own.
    const early = new Recorded('early', log);
    armDeadline(early, 10, true);
    const cancelled = new Recorded('cancelled', log);
    armDeadline(cancelled, 10, true);
    disarmDeadline(cancelled);
    for (const deadline of many.slice(1)) disarmDeadline(deadline);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log.map((entry) => entry.split('@')[0])).toEqual(['early', 'late0']);
  });

  it('keeps both lists apart: background deadlines expire too', async () => {
    const log: string[] = [];
    armDeadline(new Recorded('renewal', log), 50, false);
    armDeadline(new Recorded('call', log), 60, true);
    await vi.advanceTimersByTimeAsync(60);
    expect(log.map((entry) => entry.split('@')[0])).toEqual(['renewal', 'call']);
  });
});

import { describe, expect, it } from 'vitest';
import { LockOptionError, LockRedisError } from '../src/errors.js';
import { Locker } from '../src/locker.js';
import type { ReleaseNotifier } from '../src/notifications.js';
import { majorityView, quorumOf, RedlockServers } from '../src/redlock.js';
import type { ScriptRunner } from '../src/runner.js';

// Pure decision rules of Redlock, on scripted runners. Behaviour against real servers (and both
// adapters) is in packages/safety/test/redlock.test.ts.

type Reply = unknown | Error;

/** A runner that answers each script by name, from `replies`, and records what it ran. */
function scripted(replies: Record<string, Reply>, description?: string) {
  const calls: string[] = [];
  const runner: ScriptRunner & { describe?: () => string } = {
    async run(script) {
      calls.push(script.name);
      const reply = replies[script.name];
      if (reply instanceof Error) throw reply;
      return reply;
    },
  };
  if (description !== undefined) runner.describe = () => description;
  return { runner, calls };
}

const taken = { acquire: [1, 1, 0], release: 0, extend: 1_000 };
const heldElsewhere = { acquire: [0, 5_000], release: -1, extend: -2 };
const failing = (message: string) => ({
  acquire: new Error(message),
  release: new Error(message),
  extend: new Error(message),
});

describe('Redlock decisions (scripted runners)', () => {
  it('quorum is a strict majority', () => {
    expect([1, 2, 3, 4, 5].map(quorumOf)).toEqual([1, 2, 2, 3, 3]);
  });

  it('acquires on a majority, without a fencing token, and never asks a server to mint one', async () => {
    const servers = [scripted(taken), scripted(taken), scripted(heldElsewhere)];
    const lock = new Locker(servers.map((server) => server.runner)).createLock('a');
    expect(await lock.acquire()).toBe(true);
    expect(lock.fencingToken).toBeUndefined();
    expect(lock.options.fencing).toBe(false);
  });

  it('a majority held elsewhere is "not acquired"; what it took is released, and only there', async () => {
    const servers = [scripted(taken), scripted(heldElsewhere), scripted(heldElsewhere)];
    const lock = new Locker(servers.map((server) => server.runner)).createLock('a');
    expect(await lock.acquire()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(servers.map((server) => server.calls)).toEqual([['acquire', 'release'], ['acquire'], ['acquire']]);
  });

  it('failures that cost the majority throw a LockRedisError naming each failed server', async () => {
    const servers = [
      scripted(failing('ECONNREFUSED'), '10.0.0.1:6379'),
      scripted(taken),
      scripted(failing('Command timed out')),
    ];
    const lock = new Locker(servers.map((server) => server.runner)).createLock('a');
    const error = await lock.acquire().catch((caught: unknown) => caught);
    expect(LockRedisError.isInstance(error)).toBe(true);
    const redisError = error as LockRedisError;
    expect(redisError.code).toBe('REDIS_ERROR');
    expect(redisError.failures?.map(({ index, server }) => ({ index, server }))).toEqual([
      { index: 0, server: '10.0.0.1:6379' },
      { index: 2, server: undefined },
    ]);
    expect(redisError.message).toContain('on 2 of 3 servers');
    expect(redisError.message).toContain('server 0 (10.0.0.1:6379): ECONNREFUSED');
    expect(redisError.message).toContain('server 2: Command timed out');
    expect(redisError.cause).toBeInstanceOf(AggregateError);
  });

  it('a failed minority does not matter', async () => {
    const servers = [scripted(failing('down')), scripted(taken), scripted(taken)];
    const lock = new Locker(servers.map((server) => server.runner)).createLock('a');
    expect(await lock.acquire()).toBe(true);
    expect(await lock.extend(1_000)).toBe(true);
    expect(await lock.release()).toBe(true);
  });

  it('an extend that a majority refuses loses the lock', async () => {
    const servers = [scripted(taken), scripted(taken), scripted(taken)];
    const lock = new Locker(servers.map((server) => server.runner)).createLock('a');
    expect(await lock.acquire()).toBe(true);
    Object.assign(servers[0]?.runner ?? {}, scripted(heldElsewhere).runner);
    Object.assign(servers[1]?.runner ?? {}, scripted(heldElsewhere).runner);
    expect(await lock.extend(1_000)).toBe(false);
    expect(lock.state).toBe('lost');
  });

  it('majorityView: the owner of a majority, its quorum-th longest time, or unknown', () => {
    const hold = (owner: string, remaining: number) => ({ owner, remaining, holdCount: 1 });
    expect(majorityView([hold('a', 100), hold('a', 300), hold('a', 200)], 0, 2)).toMatchObject({
      owner: 'a',
      remaining: 200,
    });
    expect(majorityView([hold('a', 100), hold('b', 300), undefined], 0, 2)).toBeUndefined();
    expect(majorityView([hold('a', 100), undefined], 1, 2)).toBe('unknown');
    expect(majorityView([undefined, undefined], 1, 2)).toBeUndefined();
  });

  it('subscribes on every runner that offers notifications; any one confirmation is enough', async () => {
    const events: string[] = [];
    const notifying = (label: string, fails = false): ScriptRunner & ReleaseNotifier => ({
      run: async () => null,
      subscribe: async (channel) => {
        if (fails) throw new Error('down');
        events.push(`${label}:on:${channel}`);
        return () => events.push(`${label}:off`);
      },
    });
    const { notifier } = new RedlockServers([notifying('a'), scripted({}).runner, notifying('c', true)]);
    const unsubscribe = await notifier.subscribe?.('ch', () => {});
    await new Promise((resolve) => setTimeout(resolve, 0));
    unsubscribe?.();
    expect(events).toEqual(['a:on:ch', 'a:off']);
    const none = new RedlockServers([notifying('x', true), notifying('y', true)]).notifier;
    await expect(none.subscribe?.('ch', () => {})).rejects.toBeInstanceOf(AggregateError);
    expect(new RedlockServers([scripted({}).runner, scripted({}).runner]).notifier.subscribe).toBeUndefined();
  });

  it('rejects what a quorum cannot do, and runners given twice or not at all', () => {
    const { runner } = scripted(taken);
    const others = [scripted(taken).runner, scripted(taken).runner];
    expect(() => new Locker([runner, ...others], { fair: true })).toThrow(LockOptionError);
    expect(() => new Locker([runner, ...others], { fencing: true })).toThrow(LockOptionError);
    expect(() => new Locker([runner, ...others]).createLock('a', { fair: true })).toThrow(LockOptionError);
    expect(() => new Locker([runner, runner, ...others])).toThrow(LockOptionError);
    expect(() => new Locker([])).toThrow(LockOptionError);
    expect(() => new Locker([runner, {} as ScriptRunner])).toThrow(LockOptionError);
    // One runner in an array is that runner: fencing and fair work as usual.
    expect(() => new Locker([runner], { fair: true, fencing: true })).not.toThrow();
  });
});

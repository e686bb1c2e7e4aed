import { describe, expect, it } from 'vitest';
import { majorityView, quorumOf, RedlockServers } from '../src/deployments/redlock.js';
import { LockOptionError, LockRedisError, RedisCallTimeout } from '../src/errors.js';
import { Locker } from '../src/locker.js';
import type { ReleaseNotifier } from '../src/port/capabilities.js';
import type { ScriptArg, ScriptRunner } from '../src/port/runner.js';

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

  it('refuses runners that describe the same server: it would count that server twice', () => {
    const server = (description: string) => scripted(taken, description).runner;
    let error: unknown;
    try {
      new Locker([server('10.0.0.1:6379'), server('10.0.0.2:6379'), server('10.0.0.1:6379')]);
    } catch (caught) {
      error = caught;
    }
    expect(LockOptionError.isInstance(error)).toBe(true);
    expect((error as LockOptionError).option).toBe('runner');
    expect((error as LockOptionError).message).toMatch(/0 and 2 .*10\.0\.0\.1:6379/);

    expect(() => new Locker([server('a:1'), server('b:1'), server('c:1')])).not.toThrow();
    // Runners that cannot describe their server (or fail to) are taken on trust.
    const mute = scripted(taken).runner;
    const broken: ScriptRunner & { describe: () => string } = Object.assign(scripted(taken).runner, {
      describe: () => {
        throw new Error('not connected');
      },
    });
    expect(() => new Locker([mute, scripted(taken).runner, broken, server('a:1')])).not.toThrow();
  });
});

/**
 * A runner whose replies the test gives by hand (`answer`), or at once from `auto` by script name;
 * records every call with its arguments.
 */
function controlled(auto: Record<string, Reply> = {}) {
  const calls: Array<{
    readonly script: string;
    readonly args: readonly ScriptArg[];
    readonly answer: (reply: Reply) => void;
  }> = [];
  const runner: ScriptRunner = {
    run: (script, _keys, args) =>
      new Promise((resolve, reject) => {
        const answer = (reply: Reply) => (reply instanceof Error ? reject(reply) : resolve(reply));
        calls.push({ script: script.name, args, answer });
        if (script.name in auto) answer(auto[script.name]);
      }),
  };
  const scripts = () => calls.map((call) => call.script);
  return { runner, calls, scripts };
}

const runnersOf = (servers: ReadonlyArray<{ readonly runner: ScriptRunner }>) =>
  servers.map((server) => server.runner);
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('Redlock decides as soon as it can (scripted runners)', () => {
  it('acquires, extends and releases on a majority without waiting for a server that never answers', async () => {
    const silent = controlled();
    const servers = [controlled(taken), controlled(taken), silent];
    const lock = new Locker(runnersOf(servers)).createLock('a', { commandTimeout: 10_000 });
    const startedAt = performance.now();
    expect(await lock.acquire()).toBe(true);
    expect(await lock.extend(1_000)).toBe(true);
    expect(await lock.release()).toBe(true);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    // The silent server's lane: the acquire in flight; the extend, queued behind it, was dropped
    // once decided; the release is sent once the server answers (every holder must be told).
    expect(silent.scripts()).toEqual(['acquire']);
    silent.calls[0]?.answer([1, 1, 0]);
    await settle();
    expect(silent.scripts()).toEqual(['acquire', 'release']);
  });

  it('a failed attempt is given back without a notification, also where the reply comes after the decision', async () => {
    const late = controlled();
    const servers = [late, controlled(heldElsewhere), controlled(heldElsewhere)];
    const lock = new Locker(runnersOf(servers)).createLock('a', { commandTimeout: 10_000 });
    expect(await lock.acquire()).toBe(false); // decided by the two that are held elsewhere
    expect(late.scripts()).toEqual(['acquire']);
    late.calls[0]?.answer([1, 1, 0]); // it had taken it after all
    await settle();
    expect(late.scripts()).toEqual(['acquire', 'release']);
    // Token, count 0, and no channel: nothing is published that could wake this very waiter.
    expect(late.calls[1]?.args).toEqual([lock.token, 0, '']);
  });

  it('the next attempt on a server is sent after the give-back of the previous one there (same token)', async () => {
    const slow = controlled();
    const servers = [slow, controlled(heldElsewhere), controlled(heldElsewhere)];
    const lock = new Locker(runnersOf(servers)).createLock('a', {
      commandTimeout: 10_000,
      waitTimeout: 10_000,
      retryDelay: 5,
      retryJitter: 0,
    });
    const acquiring = lock.acquire();
    await new Promise((resolve) => setTimeout(resolve, 50)); // several attempts, decided by 1 and 2
    expect(slow.scripts()).toEqual(['acquire']);
    slow.calls[0]?.answer([1, 1, 0]);
    await settle();
    // The give-back first; the attempts made meanwhile were decided without this server.
    expect(slow.scripts().slice(0, 2)).toEqual(['acquire', 'release']);
    void lock.release();
    await acquiring.catch(() => {});
  });

  it('servers that never answer cost the quorum after commandTimeout: REDIS_TIMEOUT listing both', async () => {
    const servers = [controlled(taken), controlled(), controlled()];
    const lock = new Locker(runnersOf(servers)).createLock('a', { commandTimeout: 60 });
    const startedAt = performance.now();
    const error = await lock.acquire().catch((caught: unknown) => caught);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(LockRedisError.isInstance(error) && error.code).toBe('REDIS_TIMEOUT');
    const failures = (error as LockRedisError).failures ?? [];
    expect(failures.map((failure) => failure.index)).toEqual([1, 2]);
    for (const failure of failures) expect(failure.error).toBeInstanceOf(RedisCallTimeout);
    await settle();
    // What it took is given back, without a notification, ahead of the handle's own clean-up
    // release (which then finds nothing of its token there to delete, so publishes nothing).
    expect(servers[0]?.calls.slice(0, 2)).toMatchObject([
      { script: 'acquire' },
      { script: 'release', args: [lock.token, 0, ''] },
    ]);
  });

  it('failures that cost the quorum are known before the server still pending answers', async () => {
    const servers = [controlled(failing('down')), controlled(failing('down')), controlled()];
    const lock = new Locker(runnersOf(servers)).createLock('a', { commandTimeout: 10_000 });
    const error = await lock.acquire().catch((caught: unknown) => caught);
    expect(LockRedisError.isInstance(error) && error.failures?.map((failure) => failure.index)).toEqual([
      0, 1,
    ]);
  });

  it('extend and renewal ask each server to re-take a lost key with the same token and hold count', async () => {
    const servers = [controlled(taken), controlled(taken), controlled(taken)];
    const lock = new Locker(runnersOf(servers)).createLock('a', { reentrant: true });
    expect(await lock.acquire()).toBe(true);
    expect(await lock.acquire()).toBe(true);
    expect(await lock.extend(1_000, { replace: true })).toBe(true);
    // ARGV: token, ms, replace, re-take if absent, the hold count to re-take it with.
    expect(servers.map((server) => server.calls.at(-1)?.args)).toEqual(
      Array.from({ length: 3 }, () => [lock.token, 1_000, 1, 1, 2]),
    );
  });

  it('a majority that had lost the key is a lost lock even where the extend re-took it; the re-takes are given back', async () => {
    const servers = [
      controlled({ ...taken, extend: -3 }),
      controlled({ ...taken, extend: -3 }),
      controlled(taken),
    ];
    const lock = new Locker(runnersOf(servers)).createLock('a');
    expect(await lock.acquire()).toBe(true);
    expect(await lock.extend(1_000)).toBe(false);
    expect(lock.state).toBe('lost');
    await settle();
    for (const server of servers)
      expect(server.calls.at(-1)).toMatchObject({ script: 'release', args: [lock.token, 0, ''] });
  });

  it('inspect is decided by two agreeing servers while the third never answers', async () => {
    const servers = [
      controlled({ inspect: ['owner-1', 900, 1, null, null] }),
      controlled({ inspect: ['owner-1', 800, 1, null, null] }),
      controlled(),
    ];
    const report = await new Locker(runnersOf(servers), { commandTimeout: 10_000 }).inspect('a');
    expect(report).toMatchObject({ owner: 'owner-1', remaining: 800, holdCount: 1, fencingToken: null });
  });

  it('majorityView waits only while the pending servers could change the answer', () => {
    const hold = (owner: string, remaining: number) => ({ owner, remaining, holdCount: 1 });
    // holds, failed, quorum, pending
    expect(majorityView([hold('a', 100), hold('a', 200)], 0, 2, 1)).toMatchObject({
      owner: 'a',
      remaining: 100,
    });
    expect(majorityView([hold('a', 100)], 0, 2, 2)).toBe('pending');
    expect(majorityView([undefined, undefined], 0, 2, 1)).toBeUndefined(); // 1 pending cannot make 2
    expect(majorityView([hold('a', 100)], 1, 2, 1)).toBe('pending'); // held by a, or unknown
    expect(majorityView([hold('a', 100), undefined], 2, 3, 1)).toBe('unknown'); // 1 + 1 < 3, 1 + 2 >= 3
    expect(majorityView([undefined, undefined], 2, 3, 1)).toBe('pending'); // free, or unknown
  });
});

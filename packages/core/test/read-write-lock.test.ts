import { describe, expect, it } from 'vitest';
import { Locker } from '../src/locker.js';
import { expectRefused, scriptedRunner } from './scripted-runner.js';

describe('ReadWriteLock options (pure logic, scripted runner)', () => {
  it('is refused on a Redlock Locker and with replicas or reentrancy; nothing is sent', () => {
    const { runner, calls } = scriptedRunner(() => 0);
    const others = [scriptedRunner(() => 0).runner, scriptedRunner(() => 0).runner];
    expectRefused(() => new Locker([runner, ...others]).readWriteLock('catalog'), 'runner');
    const replicas = { count: 1, timeout: 100 };
    expectRefused(() => new Locker(runner, { replicas }).readWriteLock('catalog'), 'replicas');
    expectRefused(() => new Locker(runner).readWriteLock('catalog', { replicas } as never), 'replicas');
    expectRefused(
      () => new Locker(runner).readWriteLock('catalog', { reentrant: true } as never),
      'reentrant',
    );
    expectRefused(() => new Locker(runner).readWriteLock('catalog', { fair: true } as never), 'fair');
    const catalog = new Locker(runner).readWriteLock('catalog');
    expectRefused(() => catalog.createReadLock({ replicas } as never), 'replicas');
    expectRefused(() => catalog.createWriteLock({ replicas } as never), 'replicas');
    expect(calls).toEqual([]);
  });
});

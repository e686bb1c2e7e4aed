/**
 * Runs every example in order against one Redis and narrates what happens. Each example checks its
 * own outcome; this exits non-zero if any failed, and always stops the Redis it started.
 *
 * Redis comes from REDIS_URL if set, else a throwaway redis-server on a free loopback port, else
 * testcontainers (see `provisionRedis()` in @lock/testing).
 *
 * Run: `pnpm demo` at the repository root (builds the packages first), or
 * `pnpm --filter @lock/examples demo` once they are built.
 */
import * as manual from './01-manual-acquire-release.js';
import * as awaitUsing from './02-await-using.js';
import * as withLock from './03-with-lock.js';
import * as lockedWrapper from './04-locked-wrapper.js';
import * as lockedDecorator from './05-locked-decorator.js';
import * as tryAcquire from './06-try-acquire.js';
import * as reentrant from './07-reentrant.js';
import * as status from './08-status.js';
import * as swapClients from './09-swap-clients.js';
import * as scheduledTask from './10-scheduled-task.js';
import * as inventory from './11-inventory.js';
import * as cacheStampede from './12-cache-stampede.js';
import * as jobProcessing from './13-job-processing.js';
import * as autoRenewal from './14-auto-renewal.js';
import * as lockConflict from './15-lock-conflict.js';
import * as manualExtend from './16-manual-extend.js';
import * as lostLock from './17-lost-lock.js';
import * as fencing from './18-fencing.js';
import * as semaphore from './19-semaphore.js';
import * as readWriteLock from './20-read-write-lock.js';
import * as fairLock from './21-fair-lock.js';
import { type Example, runExample, warnIfStillRunning, withRedis } from './shared.js';

const EXAMPLES: readonly Example[] = [
  manual,
  awaitUsing,
  withLock,
  lockedWrapper,
  lockedDecorator,
  tryAcquire,
  reentrant,
  status,
  swapClients,
  scheduledTask,
  inventory,
  cacheStampede,
  jobProcessing,
  autoRenewal,
  lockConflict,
  manualExtend,
  lostLock,
  fencing,
  semaphore,
  readWriteLock,
  fairLock,
];

const started = performance.now();
const failed: string[] = [];
try {
  await withRedis(async (redis) => {
    console.log(`@lock examples: ${EXAMPLES.length} examples on ${redis.url} (${redis.source})`);
    for (const [index, example] of EXAMPLES.entries()) {
      const heading = `${String(index + 1).padStart(2, '0')}  ${example.title}`;
      console.log(`\n── ${heading} ${'─'.repeat(Math.max(3, 96 - heading.length))}`);
      try {
        const ms = await runExample(example, redis.url);
        console.log(`  ✓ ok (${Math.round(ms)} ms)`);
      } catch (error) {
        // Keep going: one broken example should not hide whether the others still work.
        failed.push(example.title);
        console.error('  ✗ FAILED:', error);
      }
    }
  });
} catch (error) {
  failed.push('setting up Redis');
  console.error(error);
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failed.length === 0) {
  console.log(`\nAll ${EXAMPLES.length} examples passed in ${seconds} s.`);
} else {
  console.error(
    `\n${failed.length} failed (${seconds} s):\n${failed.map((title) => `  - ${title}`).join('\n')}`,
  );
  process.exitCode = 1;
}
warnIfStillRunning();

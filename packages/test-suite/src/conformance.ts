/**
 * The adapter conformance suite: one set of behavioural tests, written once, that every adapter
 * runs unchanged against a real Redis. Passing it is what "swap clients by changing one line"
 * means. Each concern is a module under `conformance/`; this file provisions the Redis and
 * composes them.
 *
 * Timing tests use short ttls with generous margins so they hold on a loaded 2-core machine.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import type { AdapterUnderTest, ConnectedClient } from './adapter-under-test.js';
import { describeAdapter } from './conformance/adapter.js';
import { describeCallChain } from './conformance/call-chain.js';
import { describeCluster } from './conformance/cluster.js';
import { describeErrors } from './conformance/errors.js';
import { describeFencing } from './conformance/fencing.js';
import { describeHandOff } from './conformance/hand-off.js';
import { describeHandOffCommands } from './conformance/hand-off-commands.js';
import { describeInspection } from './conformance/inspection.js';
import { describeLockSets } from './conformance/lock-sets.js';
import { describeLostSignal } from './conformance/lost-signal.js';
import { describeManualControl } from './conformance/manual-control.js';
import { describeMutualExclusion } from './conformance/mutual-exclusion.js';
import { describeOwnership } from './conformance/ownership.js';
import { describeReentrancy } from './conformance/reentrancy.js';
import { describeRenewal } from './conformance/renewal.js';
import { describeScopedUse } from './conformance/scoped-use.js';
import { describeScripts } from './conformance/scripts.js';
import { describeWaiting } from './conformance/waiting.js';
import { describeWrappedFunctions } from './conformance/wrapped-functions.js';
import {
  clusterTarget,
  type SuiteContext,
  type SuiteTarget,
  singleServerTarget,
  suiteContext,
} from './context.js';
import { startRedisCluster } from './redis/redis-cluster.js';
import { provisionRedis } from './redis/redis-server.js';

/** One module of the suite: registers its `describe`/`it` blocks with the suite's context. */
export type SuiteModule = (ctx: SuiteContext) => void;

/** Every module of {@link runConformanceSuite}, in the order they run. */
export const conformanceModules: readonly SuiteModule[] = [
  describeScripts,
  describeOwnership,
  describeWaiting,
  describeRenewal,
  describeManualControl,
  describeScopedUse,
  describeWrappedFunctions,
  describeReentrancy,
  describeMutualExclusion,
  describeErrors,
  describeLostSignal,
  describeFencing,
  describeHandOff,
  describeHandOffCommands,
  describeCallChain,
  describeInspection,
  describeLockSets,
  describeAdapter,
  describeCluster,
];

/**
 * Registers the whole conformance suite for `adapter`. Call it at the top level of a test file;
 * it provisions its own Redis (or cluster, with `adapter.cluster`) for that file, and closes every
 * client it connected afterwards.
 */
export function runConformanceSuite(adapter: AdapterUnderTest): void {
  describe(`conformance: ${adapter.name}`, () => {
    const state: { target?: SuiteTarget; client?: ConnectedClient; extraClients: ConnectedClient[] } = {
      extraClients: [],
    };

    beforeAll(async () => {
      state.target = adapter.cluster
        ? clusterTarget(await startRedisCluster())
        : singleServerTarget(await provisionRedis(), (args) => ctx.command(...args));
      state.client = await adapter.connect(state.target.url);
    }, 60_000);

    afterAll(async () => {
      await Promise.all(state.extraClients.map((extra) => extra.close()));
      await state.client?.close();
      await state.target?.stop();
    });

    const ctx = suiteContext(adapter, state);
    for (const module of conformanceModules) module(ctx);
  });
}

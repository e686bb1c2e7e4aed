/**
 * A preload (`node --import`) that skews this process's wall clock by `LOCK_TEST_CLOCK_SKEW_MS`
 * milliseconds (positive: ahead, negative: behind): `Date.now()`, `new Date()` and `Date()` all
 * read the shifted time, as on a machine whose clock is off. The monotonic clock
 * (`performance.now()`, `process.hrtime`) is left alone, as a wrong wall clock leaves it.
 *
 * Used by the semaphore safety test to show that no client's wall clock decides expiry.
 */
const skew = Number(process.env.LOCK_TEST_CLOCK_SKEW_MS ?? '0');
if (!Number.isSafeInteger(skew)) {
  throw new Error(`LOCK_TEST_CLOCK_SKEW_MS must be an integer number of ms, got ${String(skew)}`);
}

const RealDate = Date;
const skewedNow = () => RealDate.now() + skew;

globalThis.Date = new Proxy(RealDate, {
  construct(target, args, newTarget) {
    return Reflect.construct(target, args.length === 0 ? [skewedNow()] : args, newTarget);
  },
  apply() {
    return new RealDate(skewedNow()).toString();
  },
  get(target, property, receiver) {
    return property === 'now' ? skewedNow : Reflect.get(target, property, receiver);
  },
});

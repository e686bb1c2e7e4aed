/**
 * Libraries that auto-renew only inside a callback (`using(routine)`) are turned into a held lock
 * here: the routine runs, and so the lock is renewed, until `release()` is called.
 */
import type { RenewingHeld } from './types.js';

export type UsingCall = (routine: (signal: AbortSignal) => Promise<void>) => Promise<void>;

/** Resolves once `using` holds the lock; rejects if it could not take it. */
export function holdWithUsing(using: UsingCall): Promise<RenewingHeld> {
  return new Promise<RenewingHeld>((resolve, reject) => {
    let finish: () => void = () => {};
    const finished = new Promise<void>((done) => {
      finish = done;
    });
    const outcome = using(async (signal) => {
      resolve({
        get lost() {
          return signal.aborted;
        },
        release: async () => {
          finish();
          await outcome;
        },
      });
      await finished;
    });
    outcome.catch(reject);
  });
}

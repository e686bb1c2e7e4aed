import { LockError } from '@lock/core';

/**
 * Runs `operation` and classifies its outcome: a value, or a typed LockError. Anything else (an
 * untyped error) is rethrown, failing the test: under faults every call must end one of these ways.
 */
export async function settleTyped<T>(
  operation: () => Promise<T>,
): Promise<{ value: T } | { error: LockError }> {
  try {
    return { value: await operation() };
  } catch (error) {
    if (!LockError.isInstance(error)) throw error;
    return { error };
  }
}

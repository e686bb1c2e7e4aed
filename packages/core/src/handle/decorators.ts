/**
 * The shape of `Locker.locked()`'s result: one function that is a plain wrapper, a standard
 * (TC39) method decorator, and a legacy (`experimentalDecorators`) method decorator. The three are
 * told apart by their arguments at runtime, so one build serves projects in either mode.
 */

import { LockOptionError } from '../errors.js';

/** What a call of the wrapped function resolves to (`undefined` too when it may skip). */
type LockedResult<Result, MayResolveUndefined extends boolean> = Promise<
  Awaited<Result> | (MayResolveUndefined extends true ? undefined : never)
>;

/** A function wrapped by `locked()`: same `this` and arguments, always async. */
type LockedFunction<This, Args extends unknown[], Result, MayResolveUndefined extends boolean> = (
  this: This,
  ...args: Args
) => LockedResult<Result, MayResolveUndefined>;

/**
 * Wraps a function so that each call runs under the lock; also a TypeScript method decorator in
 * both modes: standard decorators (the default since TypeScript 5) and legacy
 * `experimentalDecorators` (the default of NestJS and TypeORM projects). With `onLocked: 'skip'`
 * the wrapped function may resolve `undefined`, so a decorated method must declare it
 * (`Promise<T | undefined>`).
 *
 * @example
 * ```ts
 * const run = locker.locked('daily-report')(generateReport); // a plain wrapper
 *
 * class Jobs {
 *   @locker.locked() // standard decorators, or with "experimentalDecorators": true
 *   async rebuildIndex(): Promise<void> { ... }
 * }
 * ```
 */
export interface LockedWrapper<MayResolveUndefined extends boolean> {
  /** As a wrapper (`locked()(fn)`) or a standard method decorator (`(value, context)`). */
  <This, Args extends unknown[], Result>(
    fn: (this: This, ...args: Args) => Result,
    context?: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Result>,
  ): LockedFunction<This, Args, Result, MayResolveUndefined>;
  /** As a legacy `experimentalDecorators` method decorator (`(target, propertyKey, descriptor)`). */
  <This, Args extends unknown[], Result>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<(this: This, ...args: Args) => Result>,
  ): TypedPropertyDescriptor<LockedFunction<This, Args, Result, MayResolveUndefined>>;
}

/**
 * Makes the dual-mode function behind {@link LockedWrapper} from `wrap`, which wraps one function
 * given the name its lock defaults to (the function's or method's name).
 */
export function lockedWrapper<MayResolveUndefined extends boolean>(
  wrap: (fn: (...args: unknown[]) => unknown, defaultName: string) => (...args: unknown[]) => unknown,
): LockedWrapper<MayResolveUndefined> {
  function decorate(fn: unknown, context?: unknown, descriptor?: unknown): unknown {
    if (isLegacyMethodCall(context, descriptor)) {
      const method = descriptor.value;
      if (typeof method !== 'function') {
        throw new LockOptionError('fn', `locked() decorates methods; ${String(context)} is not one.`);
      }
      return { ...descriptor, value: wrap(method as (...args: unknown[]) => unknown, String(context)) };
    }
    if (typeof fn !== 'function') throw new LockOptionError('fn', 'locked() wraps a function.');
    if (context === undefined) return wrap(fn as (...args: unknown[]) => unknown, fn.name);
    const { kind, name } = context as DecoratorContext;
    if (kind !== 'method') {
      throw new LockOptionError('fn', `locked() decorates methods, not a ${kind} (${String(name)}).`);
    }
    return wrap(fn as (...args: unknown[]) => unknown, String(name));
  }
  return decorate as LockedWrapper<MayResolveUndefined>;
}

/**
 * A legacy decorator gets the property key and its descriptor; a standard one gets a context
 * object and nothing third, and the plain wrapper neither.
 */
function isLegacyMethodCall(key: unknown, descriptor: unknown): descriptor is PropertyDescriptor {
  return (
    (typeof key === 'string' || typeof key === 'symbol') &&
    typeof descriptor === 'object' &&
    descriptor !== null
  );
}

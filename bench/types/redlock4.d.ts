/**
 * redlock 4 ships no types; this declares the part of its API the benchmark calls. Its clients
 * only need callback-style `eval`/`evalsha`, which ioredis provides.
 */
declare module 'redlock' {
  interface RedlockSettings {
    driftFactor?: number;
    retryCount?: number;
    retryDelay?: number;
    retryJitter?: number;
  }

  namespace Redlock {
    interface Lock {
      unlock(): PromiseLike<void>;
      extend(ttl: number): PromiseLike<Lock>;
    }
  }

  class Redlock {
    constructor(clients: readonly object[], settings?: RedlockSettings);
    lock(resource: string, ttl: number): PromiseLike<Redlock.Lock>;
    on(event: 'clientError', listener: (error: Error) => void): this;
  }

  export = Redlock;
}

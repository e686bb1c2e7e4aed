/**
 * Every Lua script @lock runs. Each is one `.lua` file beside this one, named after the script and
 * stating its KEYS, ARGV and reply in its header; `lib/` holds the Lua functions they share.
 * `tools/generate-scripts.ts` compiles them into `scripts.generated.ts` (sources and SHA-1s),
 * which the core build regenerates and a unit test keeps in step. Each script is one atomic step
 * on the server, so every operation of every primitive costs one round trip.
 *
 * Mutex: a Redis hash at `${prefix}{${name}}` with `owner` (the holder's token, a nanoid per lock
 * handle), `count` (how many times that holder has entered it; 1 unless reentrant) and `fence`
 * (the fencing token minted when this hold began; 0 when fencing is off). Its PTTL is the lock's
 * remaining time. Companion keys share the `{name}` hash tag: `…:fence`, the fencing counter (it
 * never expires, so tokens never go backwards), `…:waiters` and `…:waiter-deadlines` (registered
 * waiters by arrival and by when their registration lapses), and the `…:released` channel a
 * Redlock release publishes on. Acquire and release take the count the holder should have *after* the call rather
 * than a +1/-1, so resending a call whose reply was lost is harmless.
 *
 * Fair mutex: the mutex's hash (so extend, inspect and the fencing counter are the mutex's own
 * scripts) plus a queue in the same slot: `…:queue`, waiting tokens scored by arrival, and
 * `…:queue-deadlines`, the same tokens scored by the server time (ms) at which their place lapses
 * unless they try again, so a crashed waiter never blocks those behind it for longer than that. A
 * free lock goes to the head of the queue only.
 *
 * Hand-off (both mutexes): a waiter registers its terms beside the queue (`…:waiters:terms` or
 * `…:queue:terms`: ttl, claim window, fencing, whether it may be handed the lock, its Locker's
 * wake channel `${prefix}wake:<id>`), and a full release takes the lock for the head of the queue
 * in the same script (lib/hand-to-head.lua) and publishes that on the head's channel.
 *
 * Semaphore, apart from the mutex of the same name: `…:semaphore`, a sorted set with one member
 * `<token>:<i>` per permit out, scored by the server time at which that hold expires, its own
 * expiry kept at the latest deadline; `…:semaphore:fence`, the fencing counter; and
 * `…:semaphore:waiters`, waiting tokens scored by the server time at which their registration
 * lapses, with `…:semaphore:arrivals` (the same by arrival) and `…:semaphore:waiters:terms` (their
 * hand-off terms, as the mutex's plus the permits). A release, or an attempt that finds permits
 * free while others wait (they expired), hands the free permits to the longest-waiting waiters
 * in the same script (lib/hand-permits.lua), keeping each minted fencing token in
 * `…:semaphore:fences` for an attempt of that waiter already on its way.
 *
 * Read-write lock, with a `:rw` suffix so it never meets a mutex of the same name: `…:rw`, the
 * writer's hash (`owner`, `fence`); `…:rw:readers`, reader tokens scored by the server time at which
 * each read hold expires; `…:rw:writers-waiting`, waiting writers' marks scored by the server time
 * at which each lapses; `…:rw:fence`. Writer preference: while any mark is live no new read hold is
 * granted; a mark lasts a little longer than the writer's longest sleep between attempts, so it
 * lapses by itself when a writer crashes. Releases publish on `…:rw:released`. A writer's extend
 * is the mutex's `extend` on the writer's hash.
 *
 * Every expiry of a holder or waiter that is kept in a sorted set is the server's `TIME`, never a
 * client's clock.
 */
export * from './scripts.generated.js';

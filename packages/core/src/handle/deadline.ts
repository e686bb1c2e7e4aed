/**
 * Deadlines on Redis calls. The client's own timeouts are the user's to choose (and both clients
 * default to waiting for a very long time), so core bounds every call itself: a call that has not
 * answered by its deadline rejects with a `REDIS_TIMEOUT` {@link LockRedisError}, while the call
 * itself keeps running in the client; whoever set the deadline cleans up after it.
 *
 * Every call gets a deadline, and almost every call answers long before it: a timer per call
 * would be armed and cleared thousands of times a second. Deadlines are kept instead in two
 * queues ordered by due time (one that keeps the process alive, one that does not), each with one
 * timer armed for its earliest deadline. The calls of a Locker share `commandTimeout`, so a new
 * deadline nearly always goes at the end of its queue, and a call that answers just unlinks its
 * entry; the timer stays armed (without keeping the process alive once its queue is empty), and
 * wakes about once per deadline span to expire the ones that passed.
 *
 * @internal
 */
import { monotonicNow } from '../clock.js';
import { LockRedisError, RedisCallTimeout } from '../errors.js';

/**
 * The longest delay Node's timers honour (2^31 − 1 ms, about 24.8 days). Longer delays fire after
 * 1 ms with a warning, so every duration option is capped at this.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * How far from its list's end a new deadline is looked for its place. Deadlines that land further
 * back (a short one among many long ones in flight) get a timer of their own instead.
 */
const MAX_PLACE_STEPS = 16;

/**
 * Something that must happen once `ms` have passed unless disarmed first: arm it with
 * {@link armDeadline}, disarm it with {@link disarmDeadline}. A subclass, so that the object that
 * owns the deadline (a call's state) is its own list entry.
 */
export abstract class Deadline {
  /** @internal When it is due, on the monotonic clock. */
  due = 0;
  /** @internal */
  prev: Deadline | undefined = undefined;
  /** @internal */
  next: Deadline | undefined = undefined;
  /** @internal The queue it is in, or `undefined` when not armed (or armed on its own timer). */
  list: DeadlineQueue | Expiring | undefined = undefined;
  /** @internal Its own timer, when it did not fit in a list. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined;

  /** True from {@link armDeadline} until it expires or is disarmed. */
  get armed(): boolean {
    return this.list !== undefined || this.timer !== undefined;
  }

  /** Called once when it is due (not after {@link disarmDeadline}). */
  abstract expire(): void;
}

/** Where a deadline that is due is until its expiry is called: disarming it there cancels it. */
interface Expiring {
  remove(deadline: Deadline): void;
}

const EXPIRING: Expiring = {
  remove(deadline) {
    deadline.list = undefined;
  },
};

/**
 * Deadlines ordered by due time, with one timer for the earliest. Deadlines of similar lengths
 * share a queue, so that a new one nearly always goes at the end. @internal
 */
class DeadlineQueue {
  head: Deadline | undefined;
  tail: Deadline | undefined;
  readonly #keepsAlive: boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  // When the timer fires, and which `setTimeout` armed it: a timer armed by another one (fake
  // timers installed or removed since, in tests) may never fire, so it is armed again.
  #timerDue = 0;
  #armedWith: typeof setTimeout | undefined;
  #clearWith: typeof clearTimeout = clearTimeout;
  readonly #fire = () => this.#expire();

  constructor(keepsAlive: boolean) {
    this.#keepsAlive = keepsAlive;
  }

  /**
   * Calls `deadline.expire()` once `ms` have passed, unless {@link disarmDeadline} comes first.
   * Arming an armed deadline moves it.
   */
  arm(deadline: Deadline, ms: number): void {
    disarmDeadline(deadline);
    deadline.due = monotonicNow() + ms;
    if (this.#insert(deadline)) return;
    const timer = setTimeout(expireAlone, Math.min(ms, MAX_TIMER_MS), deadline);
    if (!this.#keepsAlive) timer.unref?.();
    deadline.timer = timer;
  }

  /** Links `deadline` in due order; false when its place is too far from the end. */
  #insert(deadline: Deadline): boolean {
    const wasEmpty = this.head === undefined;
    let after = this.tail;
    for (let steps = 0; after !== undefined && after.due > deadline.due; steps++) {
      if (steps === MAX_PLACE_STEPS) return false;
      after = after.prev;
    }
    deadline.list = this;
    deadline.prev = after;
    deadline.next = after === undefined ? this.head : after.next;
    if (deadline.next === undefined) this.tail = deadline;
    else deadline.next.prev = deadline;
    if (after === undefined) this.head = deadline;
    else after.next = deadline;
    const timer = this.#timer;
    if (timer === undefined || this.#armedWith !== setTimeout || deadline.due < this.#timerDue) {
      this.#arm(deadline.due);
    } else if (wasEmpty && this.#keepsAlive) {
      timer.ref?.();
    }
    return true;
  }

  remove(deadline: Deadline): void {
    const { prev, next } = deadline;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    deadline.prev = undefined;
    deadline.next = undefined;
    deadline.list = undefined;
    // The timer stays armed for the next deadline (it wakes early at worst, and looks again), but
    // an empty list must not keep the process alive.
    if (this.head === undefined && this.#keepsAlive) this.#timer?.unref?.();
  }

  #arm(due: number): void {
    if (this.#timer !== undefined) this.#clearWith(this.#timer);
    const delay = Math.min(Math.max(0, Math.ceil(due - monotonicNow())), MAX_TIMER_MS);
    const timer = setTimeout(this.#fire, delay);
    if (!this.#keepsAlive) timer.unref?.();
    this.#timer = timer;
    this.#timerDue = due;
    this.#armedWith = setTimeout;
    this.#clearWith = clearTimeout;
  }

  #expire(): void {
    this.#timer = undefined;
    const now = monotonicNow();
    // Taken out first, then expired: an expiry may arm deadlines again (also already due ones,
    // which wait for the next turn) or disarm others of this batch (which then do not expire).
    const due: Deadline[] = [];
    for (let deadline = this.head; deadline !== undefined && deadline.due <= now; deadline = this.head) {
      this.remove(deadline);
      deadline.list = EXPIRING;
      due.push(deadline);
    }
    for (const deadline of due) {
      if (deadline.list !== EXPIRING) continue;
      deadline.list = undefined;
      deadline.expire();
    }
    if (this.head !== undefined && this.#timer === undefined) this.#arm(this.head.due);
  }
}

// Made at load: a queue costs nothing until a deadline is armed on it.
const foreground = new DeadlineQueue(true);
const background = new DeadlineQueue(false);

/**
 * Calls `deadline.expire()` once `ms` have passed, unless {@link disarmDeadline} comes first.
 * `keepsAlive: false`: it does not keep the process alive (renewals). Arming an armed deadline
 * moves it.
 */
export function armDeadline(deadline: Deadline, ms: number, keepsAlive: boolean): void {
  (keepsAlive ? foreground : background).arm(deadline, ms);
}

/** Cancels an armed deadline; does nothing to one that is not armed (or already expired). */
export function disarmDeadline(deadline: Deadline): void {
  if (deadline.list !== undefined) deadline.list.remove(deadline);
  else if (deadline.timer !== undefined) {
    clearTimeout(deadline.timer);
    deadline.timer = undefined;
  }
}

function expireAlone(deadline: Deadline): void {
  deadline.timer = undefined;
  deadline.expire();
}

/** The deadline of one {@link withDeadline} call, and the settle functions of its promise. */
class CallDeadline extends Deadline {
  readonly #script: string;
  readonly #timeout: number;
  resolve: (value: never) => void = ignore;
  reject: (error: unknown) => void = ignore;

  constructor(script: string, timeout: number) {
    super();
    this.#script = script;
    this.#timeout = timeout;
  }

  expire(): void {
    this.reject(new LockRedisError(this.#script, new RedisCallTimeout(this.#timeout)));
  }
}

function ignore(): void {}

// The executor of every withDeadline promise (it runs synchronously, inside the constructor):
// one function for all calls rather than a closure per call.
let settling: CallDeadline | undefined;
function takeSettlers(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  if (settling === undefined) return;
  settling.resolve = resolve;
  settling.reject = reject;
}

/**
 * Settles like `operation`, or rejects with a `REDIS_TIMEOUT` {@link LockRedisError} naming
 * `script` once `ms` have passed without an answer. `operation` is not cancelled (a sent command
 * cannot be taken back): the caller still holds it and must clean up after it if it times out.
 * `background`: the deadline does not keep the process alive (renewals); otherwise it does, as
 * the call it bounds would.
 */
export function withDeadline<T>(
  operation: Promise<T>,
  ms: number,
  script: string,
  options?: { readonly background?: boolean },
): Promise<T> {
  if (ms === Number.POSITIVE_INFINITY) return operation;
  const timeout = Math.max(0, Math.ceil(ms));
  const deadline = new CallDeadline(script, timeout);
  settling = deadline;
  const bounded = new Promise<T>(takeSettlers);
  settling = undefined;
  armDeadline(deadline, timeout, options?.background !== true);
  operation.then(
    (value) => {
      disarmDeadline(deadline);
      (deadline.resolve as (value: T) => void)(value);
    },
    (error: unknown) => {
      disarmDeadline(deadline);
      deadline.reject(error);
    },
  );
  return bounded;
}

/**
 * `@lock/core/internal`: constants and helpers the workspace's tests, benchmarks and tools share
 * with core. Visible inside the workspace only: the published package has no such entry (its
 * `publishConfig.exports` leaves it out), so nothing here is public API.
 *
 * @packageDocumentation
 */

export { lockKey } from './keys.js';
export { DEFAULTS, MIN_TTL, WAIT_TIMEOUT_MARGIN } from './options.js';
export { SUBSCRIBER_CLOSE_TIMEOUT } from './port/release-notifier.js';
export { ALL_SCRIPTS } from './scripts/index.js';

import type { LuaScript } from '../port/runner.js';

/**
 * Names a script and pins its SHA-1. The SHA-1 is written beside the source rather than computed,
 * so core needs no crypto at runtime; a conformance test checks every one against `SCRIPT LOAD`,
 * and `pnpm --filter @lock/core sync-sha1` rewrites them after a script changes.
 */
export function defineScript(name: string, source: string, sha1: string): LuaScript {
  return Object.freeze({ name, source: source.trim(), sha1 });
}

/**
 * Lua that sets `now` to the server's clock in ms. Primitives whose holders or waiters expire
 * one by one (semaphore permits, read holds, fair-queue places) keep those deadlines in server
 * time, so that no client's clock, however skewed, decides who expired.
 */
export const SERVER_NOW_MS = `
local serverTime = redis.call('TIME')
local now = tonumber(serverTime[1]) * 1000 + math.floor(tonumber(serverTime[2]) / 1000)
`;

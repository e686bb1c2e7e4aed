/**
 * What the documentation's snippets use without defining: the objects a reader already has from
 * the README's quick start, and the application's own functions the examples call. Only
 * scripts/check-snippets.ts reads this file.
 */

declare const redis: import('ioredis').Redis;
declare const client: ReturnType<typeof import('redis').createClient>;
declare const runner: import('@lock/ioredis').IoredisRunner;
declare const locker: import('@lock/core').Locker;

interface WithSignal {
  readonly signal?: AbortSignal;
}

declare function chargeCustomer(id: string, options: WithSignal): Promise<number>;
declare function charge(options: WithSignal): Promise<void>;
declare function decrementStock(sku: string, quantity?: number): Promise<void>;
declare function migrateStep(step: number): Promise<void>;
declare function buildReport(options: WithSignal): Promise<string[]>;
declare function readCachedHomepage(): Promise<string>;
declare function rebuildHomepage(): Promise<string>;
declare function mailSubscribers(day: string): Promise<number>;
declare function reindex(): Promise<void>;
declare function deleteExpiredRows(): Promise<number>;
declare function subtractBalance(account: string, amount: number): Promise<void>;
declare function credit(account: string, amount: number): Promise<void>;
declare const catalogChunks: readonly string[];
declare function importChunk(chunk: string): Promise<void>;
declare function runAsLeader(options: WithSignal): Promise<void>;
declare function print(): Promise<void>;
declare function callPartner(options: WithSignal): Promise<string>;
declare function exportAll(options: WithSignal): Promise<void>;
declare function loadPrices(options?: WithSignal): Promise<Map<string, number>>;
declare function savePrices(
  prices: Map<string, number>,
  options: { fence: number | undefined },
): Promise<void>;
declare const next: Map<string, number>;
declare function renderDashboard(): Promise<void>;
declare function doWork(options?: WithSignal): Promise<void>;
declare const metrics: { timing(name: string, ms: number, tags: Record<string, string>): void };

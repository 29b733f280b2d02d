/** Runs `work` while no other tab of the site runs work under the same lock. */
export type TabLock = (work: () => Promise<void>) => Promise<void>;

/**
 * The lock `name` of the Web Locks API (`navigator.locks`), where there is one (all current browsers; Safari
 * from 15.4). Without it, `work` runs at once, and tabs may send an event twice, which ClickHouse collapses.
 */
export function createTabLock(name: string, locks: Pick<LockManager, 'request'> | undefined): TabLock {
  // `request` resolves with what `work` resolves with (nothing); its DOM typing says a promise of a promise.
  return (work) => (locks ? (locks.request(name, work) as Promise<never>) : work());
}

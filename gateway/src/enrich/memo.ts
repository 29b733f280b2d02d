/**
 * Remembers `compute`'s result per key, for at most `size` keys; cleared when full rather than LRU: simple
 * and bounded. For User-Agent work: a visitor's events arrive in many requests with one User-Agent, and
 * parsing it (ua-parser) or matching it (isbot's one large regular expression) is the costliest step of
 * normalization — isbot alone was a third of the gateway's CPU before it was remembered (node --cpu-prof).
 */
export function memoize<T>(compute: (key: string) => T, size = 2000): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = compute(key);
      if (cache.size >= size) cache.clear();
      cache.set(key, value);
    }
    return value;
  };
}

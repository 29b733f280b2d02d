import { type Config, loadConfig } from './config.js';

/**
 * The embedded gateway the route tests build: chDB in `chdbPath`, the projects `shop` (write key `key-shop`) and
 * `blog` (`key-blog`), no logs. `extra` adds settings or replaces these.
 */
export function embeddedConfig(chdbPath: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    TIDEMARK_MODE: 'embedded',
    TIDEMARK_CHDB_PATH: chdbPath,
    TIDEMARK_LOG_LEVEL: 'silent',
    TIDEMARK_WRITE_KEYS: 'key-shop:shop,key-blog:blog',
    ...extra,
  });
}

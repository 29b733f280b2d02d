/** A command line split into positionals and `--name value` options, in order; a name may repeat. */
export interface ParsedArgs {
  positionals: string[];
  options: [name: string, value: string][];
  /** Options given without a value (`--help`). */
  flags: Set<string>;
}

/** Options that never take a value. */
const valueless = new Set(['help', 'h']);

/** Thrown for a command line that cannot be read; the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  /** Whether the usage text helps: not for a missing token, which no command line fixes. */
  readonly showUsage: boolean;

  constructor(message: string, opts: { showUsage?: boolean } = {}) {
    super(message);
    this.name = 'UsageError';
    this.showUsage = opts.showUsage ?? true;
  }
}

/**
 * Reads `--name value`, `--name=value`, `-h` and positionals; `--` ends the options. Not node:util's
 * parseArgs: `tidemark query` takes any parameter the ready query has as `--<param>`, which a fixed option
 * list cannot describe.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [], options: [], flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    const option = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(arg);
    if (!option?.[1]) {
      parsed.positionals.push(arg);
      continue;
    }
    const name = option[1];
    if (valueless.has(name)) {
      parsed.flags.add(name === 'h' ? 'help' : name);
      continue;
    }
    let value = option[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      i += 1;
    }
    parsed.options.push([name, value]);
  }
  return parsed;
}

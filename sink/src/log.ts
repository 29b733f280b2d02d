/** Structured logging, small enough to swap for pino or a test collector. */
export type Logger = {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
};

/** One JSON object per line on stdout (info) or stderr (warn, error), the shape log collectors expect. */
export function createConsoleLogger(name = 'tidemark-sink'): Logger {
  const write = (level: string, msg: string, fields?: Record<string, unknown>) => {
    const line = `${JSON.stringify({ time: new Date().toISOString(), level, name, msg, ...fields })}\n`;
    (level === 'info' ? process.stdout : process.stderr).write(line);
  };
  return {
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}

/** The message of any thrown value, for logs. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

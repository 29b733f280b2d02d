import { createInterface } from 'node:readline';
import { formats } from './output.js';
import { EXIT_OK, runAndPrint, type Session } from './session.js';

const PROMPT = 'tidemark> ';
const CONTINUE = '       -> ';

const help = `Statements end with ; and may span lines. Up and down arrows recall earlier statements.
  \\q            quit (also: exit, quit, Ctrl-D)
  \\format NAME  print as ${formats.join(', ')}
  \\c            clear the statement being typed (also: Ctrl-C)
  \\?            this help
`;

/**
 * The interactive prompt of `tidemark sql`: reads statements ending in `;` (over as many lines as they take),
 * runs each with POST /v1/sql and prints it. With stdin not a terminal (a pipe, a file), it runs the statements
 * it is fed without prompts or banner, so scripts and tests see only results. Answers the worst exit code seen.
 */
export async function runPrompt(session: Session): Promise<number> {
  const { io } = session;
  // Newest first, as readline keeps it: it uses the array it is given as the history itself.
  const history: string[] = [];
  const rl = createInterface({
    input: io.stdin,
    output: io.stdout,
    terminal: io.interactive,
    // Line history for the arrow keys lives as long as the prompt, in memory: nothing is written to disk.
    history,
    historySize: 1000,
    prompt: PROMPT,
  });
  let buffer: string[] = [];
  let worst = EXIT_OK;
  const prompt = () => {
    if (!io.interactive) return;
    rl.setPrompt(buffer.length > 0 ? CONTINUE : PROMPT);
    rl.prompt();
  };
  const run = async (statement: string) => {
    const code = await runAndPrint(session, () => session.api.sql(statement));
    worst = Math.max(worst, code);
  };

  rl.on('SIGINT', () => {
    if (buffer.length === 0) {
      rl.close();
      return;
    }
    buffer = [];
    io.stdout.write('\n');
    prompt();
  });

  if (io.interactive) {
    io.stdout.write(`Tidemark SQL at ${session.url}. End a statement with ; — \\? for help, \\q to quit.\n`);
  }
  prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (buffer.length === 0) {
      if (text === '') {
        prompt();
        continue;
      }
      if (text === '\\q' || text === 'exit' || text === 'quit') break;
      if (text.startsWith('\\')) {
        command(session, text);
        prompt();
        continue;
      }
    } else if (text === '\\c') {
      buffer = [];
      prompt();
      continue;
    }
    buffer.push(line);
    if (text.endsWith(';')) {
      const statement = buffer.join('\n');
      joinHistory(history, buffer);
      buffer = [];
      await run(statement);
    }
    prompt();
  }
  rl.close();
  // Fed from a file or a pipe, a last statement without its ';' is still meant to run.
  const rest = buffer.join('\n').trim();
  if (rest !== '') await run(rest);
  if (io.interactive) io.stdout.write('\n');
  return worst;
}

/** The backslash commands. */
function command(session: Session, text: string): void {
  const [name, arg] = text.split(/\s+/, 2);
  switch (name) {
    case '\\?':
    case '\\h':
      session.io.stdout.write(help);
      return;
    case '\\c':
      return;
    case '\\format': {
      const format = formats.find((f) => f === arg);
      if (format) session.format = format;
      else session.io.stderr.write(`tidemark: \\format takes one of ${formats.join(', ')}\n`);
      return;
    }
    default:
      session.io.stderr.write(`tidemark: unknown command ${name}; \\? lists them\n`);
  }
}

/**
 * Replaces the history entries of a statement typed over several lines with one entry holding all of it, so
 * that the up arrow recalls the whole statement (as psql does), not its last line. Leaves the history alone
 * when its newest entries are not exactly those lines.
 */
export function joinHistory(history: string[], lines: readonly string[]): void {
  // readline records every line that is not blank.
  const typed = lines.filter((line) => line.trim() !== '');
  if (typed.length < 2) return;
  const newest = history.slice(0, typed.length);
  if (newest.some((entry, i) => entry !== typed[typed.length - 1 - i])) return;
  history.splice(0, typed.length, typed.map((line) => line.trim()).join(' '));
}

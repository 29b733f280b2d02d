import { readFileSync } from 'node:fs';

/** A tenant: its events carry `project_id = id`, and any of its write keys may send them. */
export interface Project {
  /** Stored as `project_id` on every row. */
  id: string;
  /** Keys accepted in the body's `writeKey` or as the HTTP Basic user. */
  writeKeys: string[];
  /**
   * Origins (`https://shop.example`) whose pages may send with this key; `['*']` or absent allows any.
   * Checked only when the request carries an `Origin` header: server-side senders have none.
   */
  allowedOrigins?: string[];
  /** Requests per minute for each of its write keys; the gateway-wide default when absent, 0 = no limit. */
  rateLimitPerMinute?: number;
}

/** The project used when embedded mode starts with no keys configured, so `pnpm start` works as is. */
export const DEMO_PROJECT: Project = { id: 'demo', writeKeys: ['demo-write-key'], allowedOrigins: ['*'] };

/** Parses `TIDEMARK_WRITE_KEYS` (`key1:project1,key2:project2`); pushes problems instead of throwing. */
export function parseWriteKeys(value: string, problems: string[]): Project[] {
  const byId = new Map<string, Project>();
  for (const pair of value.split(',')) {
    const entry = pair.trim();
    if (entry === '') continue;
    const colon = entry.lastIndexOf(':');
    const key = entry.slice(0, colon).trim();
    const id = entry.slice(colon + 1).trim();
    if (colon < 0 || key === '' || id === '') {
      problems.push(`TIDEMARK_WRITE_KEYS: "${entry}" is not "writeKey:projectId"`);
      continue;
    }
    const project = byId.get(id) ?? { id, writeKeys: [] };
    project.writeKeys.push(key);
    byId.set(id, project);
  }
  return [...byId.values()];
}

/**
 * Reads `TIDEMARK_PROJECTS_FILE`:
 * `{ "projects": [ { "id", "writeKeys": [], "allowedOrigins"?: [], "rateLimitPerMinute"?: n } ] }`.
 */
export function readProjectsFile(path: string, problems: string[]): Project[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(`TIDEMARK_PROJECTS_FILE: cannot read ${path} as JSON (${(error as Error).message})`);
    return [];
  }
  const list = (parsed as { projects?: unknown } | null)?.projects;
  if (!Array.isArray(list)) {
    problems.push(`TIDEMARK_PROJECTS_FILE: ${path} has no "projects" array`);
    return [];
  }
  const projects: Project[] = [];
  for (const [i, item] of list.entries()) {
    const p = item as Partial<Project> | null;
    const where = `TIDEMARK_PROJECTS_FILE: projects[${i}]`;
    if (typeof p?.id !== 'string' || p.id === '') {
      problems.push(`${where} needs a non-empty "id"`);
    } else if (!isStringList(p.writeKeys) || p.writeKeys.length === 0) {
      problems.push(`${where} needs "writeKeys": a non-empty list of strings`);
    } else if (p.allowedOrigins !== undefined && !isStringList(p.allowedOrigins)) {
      problems.push(`${where} "allowedOrigins" must be a list of strings`);
    } else if (
      p.rateLimitPerMinute !== undefined &&
      !(Number.isInteger(p.rateLimitPerMinute) && p.rateLimitPerMinute >= 0)
    ) {
      problems.push(`${where} "rateLimitPerMinute" must be a whole number ≥ 0`);
    } else {
      const project: Project = { id: p.id, writeKeys: p.writeKeys };
      if (p.allowedOrigins) project.allowedOrigins = p.allowedOrigins;
      if (p.rateLimitPerMinute !== undefined) project.rateLimitPerMinute = p.rateLimitPerMinute;
      projects.push(project);
    }
  }
  return projects;
}

/** Flags a write key that would name two projects: which one an event belongs to must never be a guess. */
export function checkUniqueKeys(projects: Project[], problems: string[]): void {
  const owner = new Map<string, string>();
  for (const project of projects) {
    for (const key of project.writeKeys) {
      const other = owner.get(key);
      if (other !== undefined && other !== project.id) {
        problems.push(`write key "${key}" is configured for both "${other}" and "${project.id}"`);
      }
      owner.set(key, project.id);
    }
  }
}

/** Write key → project, built once at start. */
export function indexProjects(projects: Project[]): Map<string, Project> {
  const index = new Map<string, Project>();
  for (const project of projects) for (const key of project.writeKeys) index.set(key, project);
  return index;
}

/** Whether a page on `origin` may send events for `project` (DESIGN §2: 403 otherwise). */
export function originAllowed(project: Project, origin: string | undefined): boolean {
  if (origin === undefined || project.allowedOrigins === undefined) return true;
  return project.allowedOrigins.includes('*') || project.allowedOrigins.includes(origin);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '');
}

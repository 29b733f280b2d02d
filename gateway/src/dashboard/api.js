// The read API as the page uses it: the admin token of this tab, ready queries by name, one SQL statement, and
// refusals as errors with the server's stable code (errors are data, not message text).

const tokenKey = 'tidemark.dashboard.token';

/** The admin token this tab signed in with (sessionStorage: this tab only, gone when it closes), or null. */
let token = sessionStorage.getItem(tokenKey);
/** Called when the server stops accepting the token mid-session (see `revoked`). */
let onRevoked = () => {};

/** A request the server refused, with its stable code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const signedIn = () => token !== null;

/** Uses `next` for every request from now on; `remember` keeps it in this tab's sessionStorage. */
export function useToken(next, remember = false) {
  token = next;
  if (next === null) sessionStorage.removeItem(tokenKey);
  else if (remember) sessionStorage.setItem(tokenKey, next);
}

/** The Authorization header for a request the page makes itself (the live feed's fetch). */
export const authorization = () => ({ authorization: `Bearer ${token}` });

/** What to do when the token stops working: the entry module signs out, saying why. */
export function whenRevoked(handler) {
  onRevoked = handler;
}

/** A 401 mid-session means the token changed on the server: true (and the page signs out) for that error. */
export function revoked(e) {
  if (e instanceof ApiError && e.code === 'invalid_admin_token') {
    onRevoked();
    return true;
  }
  return false;
}

export async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { ...init.headers, ...authorization() },
    cache: 'no-store',
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.code ?? 'http_error', body.message ?? response.statusText);
  }
  return response.json();
}

/** A ready query's rows; an array parameter is sent as the name repeated, as the read API reads it. */
export function query(name, params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
  }
  return api(`/v1/queries/${name}?${search}`).then((answer) => answer.rows);
}

/** One read statement through POST /v1/sql: `{ columns, rows, elapsedMs, rowsRead }`. */
export const sql = (statement) =>
  api('/v1/sql', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: statement });

/** A refusal as the page shows it under a panel: the server's code and reason, or what went wrong locally. */
export const describe = (e) => (e instanceof ApiError ? `${e.code}: ${e.message}` : e.message);

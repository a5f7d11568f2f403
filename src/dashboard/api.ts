// Calls of the hub's /v1 API with the signed-in token (an Authorization header, never the URL).
// The token lives in this tab's sessionStorage only.
const KEY = 'swarm.token';

export function savedToken(): string | null {
  return sessionStorage.getItem(KEY);
}
export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}
export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const token = savedToken() ?? '';
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/v1${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    cache: 'no-store',
    credentials: 'omit',
  });
  const text = await res.text();
  if (!res.ok) {
    let code = 'http_error';
    let detail = `${res.status} ${res.statusText}`;
    try {
      const p = JSON.parse(text) as { code?: string; detail?: string };
      code = p.code ?? code;
      detail = p.detail ?? detail;
    } catch {
      // not a problem document
    }
    throw new ApiError(res.status, code, detail);
  }
  return JSON.parse(text) as T;
}

/**
 * The few numbers of the hub's Prometheus text (/metrics, public like /healthz) the health charts
 * draw, summed over their labels; null when /metrics is not served here (blocked by a proxy).
 */
export async function metricSums(names: string[]): Promise<Map<string, number> | null> {
  const res = await fetch('/metrics', { cache: 'no-store', credentials: 'omit' });
  const sums = new Map<string, number>(names.map((n) => [n, 0]));
  if (!res.ok) return null;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_:]+)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || !sums.has(m[1] as string)) continue;
    const v = Number(m[2]);
    if (Number.isFinite(v)) sums.set(m[1] as string, (sums.get(m[1] as string) ?? 0) + v);
  }
  return sums;
}

// The console's calls: every route is under /console/api, authenticated by the session cookie; writes
// carry the session's CSRF token. FC's error JSON becomes an ApiError.

let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

export async function call(method, path, body, { raw = false, headers = {} } = {}) {
  const h = { ...headers };
  if (method !== 'GET' && csrf) h['X-Ferric-Csrf'] = csrf;
  let payload = body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers: h, body: payload, credentials: 'same-origin' });
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, json?.ErrorCode ?? `HTTP ${response.status}`, json?.ErrorMessage ?? text);
  }
  return json;
}

/** An FC API call (`/2016-08-15/...` or `/ferric/v1/...`) behind the session. */
export function fc(method, path, body, opts) {
  return call(method, `/console/api/fc${path}`, body, opts);
}

export const enc = encodeURIComponent;

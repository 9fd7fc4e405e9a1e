// The public API through the gateway (contracts/openapi.json), and nothing else.

export type State = 'PENDING_UNREAD' | 'UNREAD' | 'PENDING_READ' | 'READ';
export const stateOrder: Record<State, number> = { PENDING_UNREAD: 1, UNREAD: 2, PENDING_READ: 3, READ: 4 };

export interface User { id: string; first_name: string; second_name: string; birthdate: string; biography: string; city: string }
export interface Post { id: string; text: string; author_user_id: string; created_at?: string }
export interface Message { id: string; from: string; to: string; text: string; state: State; created_at: string }
export interface Unread { total: number; dialogs: { user_id: string; count: number }[] }
export interface DialogEvent {
  event: 'sent' | 'counted' | 'read' | 'read_counted' | 'rejected';
  author_id: string; recipient_id: string; message_ids: string[]; state: State | null;
}

/** A failed call: `status` 0 when the server was not reached (connection lost). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
  /** The request field a 400's message is about (the server starts such a message with its name). */
  field(): string | undefined {
    return this.status === 400 ? /^([a-z_]+) /.exec(this.message)?.[1] : undefined;
  }
}

export interface Session { token: string; userId: string }
const key = 'sn.session';
export const session = {
  get(): Session | null { const s = sessionStorage.getItem(key); return s ? (JSON.parse(s) as Session) : null; },
  set(s: Session | null) { if (s) sessionStorage.setItem(key, JSON.stringify(s)); else sessionStorage.removeItem(key); },
};

/** Told about every call's outcome, so the page can show and clear a lost-connection banner. */
export let onReachability: (reached: boolean) => void = () => {};
export function watchReachability(f: (reached: boolean) => void) { onReachability = f; }

async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = {};
  const s = session.get();
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    onReachability(false);
    throw new ApiError(0, 'The server cannot be reached');
  }
  onReachability(res.status < 500);
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, json?.message ?? res.statusText);
  return json as T;
}

const q = encodeURIComponent;
export const api = {
  register: (u: Omit<User, 'id'> & { password: string }) => call<{ user_id: string }>('POST', '/user/register', u),
  login: (id: string, password: string) => call<{ token: string }>('POST', '/login', { id, password }),
  whoami: () => call<{ user_id: string }>('GET', '/auth/whoami'),
  user: (id: string) => call<User>('GET', `/user/get/${q(id)}`),
  search: (first: string, last: string, signal: AbortSignal) =>
    call<User[]>('GET', `/user/search?first_name=${q(first)}&last_name=${q(last)}&limit=20`, undefined, signal),
  addFriend: (id: string) => call<unknown>('PUT', `/friend/set/${q(id)}`),
  removeFriend: (id: string) => call<unknown>('PUT', `/friend/delete/${q(id)}`),
  createPost: (text: string) => call<string>('POST', '/post/create', { text }),
  updatePost: (id: string, text: string) => call<unknown>('PUT', '/post/update', { id, text }),
  deletePost: (id: string) => call<unknown>('PUT', `/post/delete/${q(id)}`),
  post: (id: string) => call<Post>('GET', `/post/get/${q(id)}`),
  feed: (offset: number, limit: number) => call<Post[]>('GET', `/post/feed?offset=${offset}&limit=${limit}`),
  unread: () => call<Unread>('GET', '/counters/unread'),
  messages: (peer: string, limit: number, before?: string) =>
    call<Message[]>('GET', `/dialog/${q(peer)}/list?limit=${limit}${before ? `&before=${q(before)}` : ''}`),
  read: (peer: string) => call<{ marked: number }>('POST', `/dialog/${q(peer)}/read`),
  send: (peer: string, text: string) => call<Message>('POST', `/dialog/${q(peer)}/send`, { text }),
};

/** A WebSocket of a live channel that reconnects by itself (bounded back-off) until closed. */
export function live<T>(path: string, onMessage: (m: T) => void, onUp: (up: boolean) => void): () => void {
  let socket: WebSocket | null = null;
  let closed = false;
  let delay = 250;
  let timer: number | undefined;
  const open = () => {
    const s = session.get();
    if (!s || closed) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}?token=${q(s.token)}`;
    socket = new WebSocket(url);
    socket.onopen = () => { delay = 250; onUp(true); };
    socket.onmessage = (e) => onMessage(JSON.parse(e.data as string) as T);
    socket.onclose = () => {
      if (closed) return;
      onUp(false);
      timer = window.setTimeout(open, delay);
      delay = Math.min(delay * 2, 4000);
    };
  };
  open();
  return () => { closed = true; window.clearTimeout(timer); socket?.close(); };
}

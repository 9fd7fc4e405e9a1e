import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { api, ApiError, stateOrder, type Message, type State, type Unread } from './api';
import { dialogEvents, reconnected } from './events';
import { Author } from './feed';
import { Card } from './fields';
import { remember, remembered } from './store';

/** Conversations: everyone with unread messages, then everyone this browser wrote to or follows. */
export function Dialogs(props: { me: string; unread: Unread }) {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => dialogEvents.on((e) => {
    if (e.recipient_id === props.me) { remember(props.me, 'peers', e.author_id); bump(0); }
  }), [props.me]);
  const counts = new Map(props.unread.dialogs.map((d) => [d.user_id, d.count]));
  const peers = [...new Set([...props.unread.dialogs.map((d) => d.user_id), ...remembered(props.me, 'peers'), ...remembered(props.me, 'friends')])];
  return (
    <Card title="Dialogs">
      {peers.length === 0 && <p>No conversations yet: find someone under <a href="#/search">People</a>.</p>}
      <ul class="list" data-testid="dialogs">
        {peers.map((id) => (
          <li key={id}>
            <a href={`#/dialog/${id}`} data-testid={`dialog-${id}`}><Author id={id} /></a>
            <span class="badge" data-testid={`badge-${id}`} aria-label={`${counts.get(id) ?? 0} unread`} hidden={!counts.get(id)}>{counts.get(id) ?? 0}</span>
          </li>
        ))}
      </ul>
    </Card>
  );
}

/** Saga states told live, by message id: they may arrive before the send's own answer does. */
const liveStates = new Map<string, State>();
const later = (a: State, b: State | undefined): State => (b && stateOrder[b] > stateOrder[a] ? b : a);

interface Outgoing { key: number; text: string; status: 'sending' | 'failed'; error?: ApiError; known: Set<string> }
const pageSize = 20;

export function Conversation(props: { me: string; peer: string }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [outgoing, setOutgoing] = useState<Outgoing[]>([]);
  const [older, setOlder] = useState(true);
  const [text, setText] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const current = useRef<Message[]>([]);
  current.current = messages;
  const nextKey = useRef(1);

  const merge = (page: Message[], prepend = false) => setMessages((old) => {
    const byId = new Map(old.map((m) => [m.id, m]));
    for (const m of page) byId.set(m.id, m);
    const all = [...byId.values()];
    all.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1));
    void prepend;
    return all;
  });
  // Listing marks only what dialogs has moved to UNREAD already; what is still being counted is
  // marked by the explicit read, which flags it to be read as soon as it is counted.
  const loadNewest = () => api.messages(props.peer, pageSize).then((page) => {
    merge(page); setError(null);
    if (page.some((m) => m.from === props.peer && (m.state === 'PENDING_UNREAD' || m.state === 'UNREAD'))) {
      void api.read(props.peer).catch(() => {});
    }
    return page;
  });

  useEffect(() => {
    setMessages([]); setOutgoing([]); setOlder(true);
    remember(props.me, 'peers', props.peer);
    loadNewest().then((p) => setOlder(p.length === pageSize)).catch((e) => setError(e as ApiError));
  }, [props.peer]);

  useEffect(() => dialogEvents.on((e) => {
    const mine = e.author_id === props.me && e.recipient_id === props.peer;
    const theirs = e.author_id === props.peer && e.recipient_id === props.me;
    if (!mine && !theirs) return;
    if (e.state === null) {  // rejected: dialogs compensates; ask again once it has
      for (const id of e.message_ids) liveStates.delete(id);
      setTimeout(() => void loadNewest().catch(() => {}), 500);
      return;
    }
    for (const id of e.message_ids) liveStates.set(id, later(e.state, liveStates.get(id)));
    if (e.event === 'sent' && !e.message_ids.every((id) => current.current.some((m) => m.id === id))) {
      void loadNewest().catch(() => {});  // a new message (listing it marks it read)
    }
    bump(0);
  }), [props.peer, props.me]);
  useEffect(() => reconnected.on(() => void loadNewest().catch(() => {})), [props.peer]);

  const loadOlder = async () => {
    try {
      const page = await api.messages(props.peer, pageSize, messages[0]?.id);
      merge(page, true); setOlder(page.length === pageSize);
    } catch (e) { setError(e as ApiError); }
  };

  const attempt = async (o: Outgoing) => {
    setOutgoing((all) => all.map((x) => (x.key === o.key ? { ...o, status: 'sending', error: undefined } : x)));
    try {
      const m = await api.send(props.peer, o.text);
      merge([m]);
      setOutgoing((all) => all.filter((x) => x.key !== o.key));
    } catch (e) {
      setOutgoing((all) => all.map((x) => (x.key === o.key ? { ...o, status: 'failed', error: e as ApiError } : x)));
    }
  };

  // The send call has no idempotency key: a failure whose outcome is unknown (no answer, 5xx) may
  // still have stored the message. Retry looks for it among the newest messages first and sends
  // again only when it is not there.
  const retry = async (o: Outgoing) => {
    const unknownOutcome = !o.error || o.error.status === 0 || o.error.status >= 500;
    if (unknownOutcome) {
      try {
        const page = await loadNewest();
        const stored = page.find((m) => m.from === props.me && m.text === o.text && !o.known.has(m.id));
        if (stored) { setOutgoing((all) => all.filter((x) => x.key !== o.key)); return; }
      } catch (e) {
        setOutgoing((all) => all.map((x) => (x.key === o.key ? { ...o, error: e as ApiError } : x)));
        return;  // still unreachable: sending again now could not be checked either
      }
    }
    await attempt(o);
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    const o: Outgoing = { key: nextKey.current++, text: t, status: 'sending', known: new Set(messages.map((m) => m.id)) };
    setOutgoing((all) => [...all, o]);
    setText('');
    void attempt(o);
  };

  return (
    <Card title="Conversation">
      <p><a href="#/dialogs">← Dialogs</a> · with <Author id={props.peer} /></p>
      {error && <p class="error" role="alert">{error.message}</p>}
      {older && messages.length > 0 && <button type="button" onClick={() => void loadOlder()}>Older messages</button>}
      <ol class="messages" aria-live="polite" data-testid="messages">
        {messages.map((m) => {
          const own = m.from === props.me;
          const state = later(m.state, liveStates.get(m.id));
          return (
            <li key={m.id} class={own ? 'own' : 'theirs'} data-testid={own ? 'own-message' : 'their-message'} data-state={own ? state : undefined}>
              <span class="text">{m.text}</span>
              {own && <Ticks state={state} />}
            </li>
          );
        })}
        {outgoing.map((o) => (
          <li key={`o${o.key}`} class="own" data-testid="own-message" data-state={o.status}>
            <span class="text">{o.text}</span>
            {o.status === 'sending' ? <Ticks state="sending" /> : (
              <span class="failed" role="alert">
                Not sent{o.error ? `: ${o.error.message}` : ''}{' '}
                <button type="button" onClick={() => void retry(o)}>Retry</button>
              </span>
            )}
          </li>
        ))}
      </ol>
      <form class="send" onSubmit={submit}>
        <label for="message-text" class="visually-hidden">Message</label>
        <input id="message-text" value={text} maxLength={4000} onInput={(e) => setText((e.target as HTMLInputElement).value)} placeholder="Write a message" />
        <button type="submit">Send</button>
      </form>
    </Card>
  );
}

const tickLabels: Record<State | 'sending', string> = {
  sending: 'sending', PENDING_UNREAD: 'accepted', UNREAD: 'delivered (counted)', PENDING_READ: 'delivered, being read', READ: 'read',
};
function Ticks(props: { state: State | 'sending' }) {
  const s = props.state;
  const glyph = s === 'sending' ? '◷' : s === 'PENDING_UNREAD' ? '✓' : '✓✓';
  return <span class={`ticks ${s === 'READ' ? 'read' : ''}`} title={tickLabels[s]} aria-label={tickLabels[s]} data-testid="ticks">{glyph}</span>;
}

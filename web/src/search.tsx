import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type User } from './api';
import { Card } from './fields';
import { forget, remember, remembered } from './store';

/** Search as you type: 250 ms after the last key, the previous request aborted. */
export function Search(props: { me: string }) {
  const [first, setFirst] = useState('');
  const [last, setLast] = useState('');
  const [found, setFound] = useState<User[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [friends, setFriends] = useState(remembered(props.me, 'friends'));

  useEffect(() => {
    if (!first.trim() || !last.trim()) { setFound(null); return; }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      api.search(first.trim(), last.trim(), abort.signal).then((u) => { setFound(u); setError(null); })
        .catch((e: Error) => { if (e.name !== 'AbortError') setError(e as ApiError); });
    }, 250);
    return () => { clearTimeout(timer); abort.abort(); };
  }, [first, last]);

  const toggle = async (u: User) => {
    try {
      if (friends.includes(u.id)) { await api.removeFriend(u.id); forget(props.me, 'friends', u.id); }
      else { await api.addFriend(u.id); remember(props.me, 'friends', u.id); remember(props.me, 'peers', u.id); }
      setFriends(remembered(props.me, 'friends'));
    } catch (e) { setError(e as ApiError); }
  };

  return (
    <Card title="People">
      <form class="row" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field"><label for="s-first">First name starts with</label>
          <input id="s-first" value={first} onInput={(e) => setFirst((e.target as HTMLInputElement).value)} /></div>
        <div class="field"><label for="s-last">Last name starts with</label>
          <input id="s-last" value={last} onInput={(e) => setLast((e.target as HTMLInputElement).value)} /></div>
      </form>
      {error && <p class="error" role="alert">{error.message}</p>}
      {found && found.length === 0 && <p>Nobody found.</p>}
      <ul class="list" aria-live="polite" data-testid="search-results">
        {found?.filter((u) => u.id !== props.me).map((u) => (
          <li key={u.id}>
            <span><strong>{u.first_name} {u.second_name}</strong> <small>{u.city}</small></span>
            <span class="actions">
              <button type="button" onClick={() => toggle(u)}>{friends.includes(u.id) ? 'Unfollow' : 'Follow'}</button>
              <a class="button" href={`#/dialog/${u.id}`} onClick={() => remember(props.me, 'peers', u.id)}>Message</a>
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}

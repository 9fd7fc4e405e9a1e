import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Post } from './api';
import { postEvents, reconnected } from './events';
import { Card, Field, FormError } from './fields';
import { forget, remember, remembered } from './store';

const pageSize = 10;

export function Feed(props: { me: string }) {
  const [posts, setPosts] = useState<Post[]>([]);
  const [more, setMore] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);

  const load = async (offset: number) => {
    try {
      const page = await api.feed(offset, pageSize);
      setPosts((p) => merge(offset === 0 ? [] : p, page));
      setMore(page.length === pageSize);
    } catch (e) { setError(e as ApiError); }
  };
  useEffect(() => { void load(0); }, [props.me]);
  useEffect(() => postEvents.on((p) => setPosts((old) => merge([{ id: p.postId, text: p.postText, author_user_id: p.author_user_id }], old))), []);
  useEffect(() => reconnected.on(() => void load(0)), []);

  return (
    <>
      <MyPosts me={props.me} />
      <Card title="Feed">
        {error && <p class="error" role="alert">{error.message}</p>}
        {posts.length === 0 && <p>No posts of people you follow yet.</p>}
        <ul class="posts" aria-live="polite" data-testid="feed">
          {posts.map((p) => <li key={p.id}><Author id={p.author_user_id} /><p>{p.text}</p></li>)}
        </ul>
        {more && posts.length > 0 && <button type="button" onClick={() => void load(posts.length)}>Older posts</button>}
      </Card>
    </>
  );
}

function merge(a: Post[], b: Post[]): Post[] {
  const seen = new Set<string>();
  return [...a, ...b].filter((p) => (seen.has(p.id) ? false : (seen.add(p.id), true)));
}

const names = new Map<string, Promise<string>>();
export function nameOf(id: string): Promise<string> {
  if (!names.has(id)) names.set(id, api.user(id).then((u) => `${u.first_name} ${u.second_name}`, () => id.slice(0, 8)));
  return names.get(id)!;
}
export function Author(props: { id: string }) {
  const [name, setName] = useState(props.id.slice(0, 8));
  useEffect(() => { void nameOf(props.id).then(setName); }, [props.id]);
  return <strong class="author">{name}</strong>;
}

/** Own posts (the API has no list of them: this browser remembers the ids it created). */
function MyPosts(props: { me: string }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [mine, setMine] = useState<Post[]>([]);
  const [editing, setEditing] = useState<{ id: string; text: string } | null>(null);

  const reload = () => Promise.all(remembered(props.me, 'posts').slice(0, 20).map((id) => api.post(id).catch(() => null)))
    .then((ps) => setMine(ps.filter((p): p is Post => p !== null)));
  useEffect(() => { void reload(); }, [props.me]);

  const create = async (e: Event) => {
    e.preventDefault();
    try { const id = await api.createPost(text); remember(props.me, 'posts', id); setText(''); setError(null); await reload(); }
    catch (x) { setError(x as ApiError); }
  };
  const save = async (e: Event) => {
    e.preventDefault();
    try { await api.updatePost(editing!.id, editing!.text); setEditing(null); setError(null); await reload(); }
    catch (x) { setError(x as ApiError); }
  };
  const remove = async (id: string) => {
    try { await api.deletePost(id); forget(props.me, 'posts', id); await reload(); } catch (x) { setError(x as ApiError); }
  };

  return (
    <Card title="Your posts">
      <form onSubmit={create}>
        <Field name="text" label="New post" multiline value={text} onInput={setText} error={editing ? null : error} />
        <FormError error={editing ? null : error} fields={['text']} />
        <button type="submit">Post</button>
      </form>
      <ul class="posts" data-testid="my-posts">
        {mine.map((p) => (
          <li key={p.id}>
            {editing?.id === p.id ? (
              <form onSubmit={save}>
                <Field name="text" label="Edit post" multiline value={editing.text} onInput={(t) => setEditing({ id: p.id, text: t })} error={error} />
                <button type="submit">Save</button> <button type="button" onClick={() => setEditing(null)}>Cancel</button>
              </form>
            ) : (
              <>
                <p>{p.text}</p>
                <span class="actions">
                  <button type="button" onClick={() => setEditing({ id: p.id, text: p.text })}>Edit</button>
                  <button type="button" onClick={() => void remove(p.id)}>Delete</button>
                </span>
              </>
            )}
          </li>
        ))}
      </ul>
    </Card>
  );
}

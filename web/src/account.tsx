import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Session, type User } from './api';
import { Card, Field, FormError } from './fields';

export function Login(props: { onSignedIn: (s: Session) => void }) {
  const [id, setId] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const { token } = await api.login(id.trim(), password);
      props.onSignedIn({ token, userId: id.trim() });
    } catch (x) { setError(x as ApiError); }
  };
  return (
    <Card title="Log in">
      <form onSubmit={submit}>
        <Field name="id" label="User id" value={id} onInput={setId} error={error} required autocomplete="username" />
        <Field name="password" label="Password" type="password" value={password} onInput={setPassword} error={error} required autocomplete="current-password" />
        <FormError error={error} fields={['id', 'password']} />
        <button type="submit">Log in</button>
      </form>
      <p>No account? <a href="#/register">Register</a></p>
    </Card>
  );
}

export function Register(props: { onSignedIn: (s: Session) => void }) {
  const [form, setForm] = useState({ first_name: '', second_name: '', birthdate: '', biography: '', city: '', password: '' });
  const [error, setError] = useState<ApiError | null>(null);
  const set = (k: keyof typeof form) => (v: string) => setForm({ ...form, [k]: v });
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const { user_id } = await api.register(form);
      const { token } = await api.login(user_id, form.password);
      props.onSignedIn({ token, userId: user_id });
    } catch (x) { setError(x as ApiError); }
  };
  return (
    <Card title="Register">
      <form onSubmit={submit} noValidate>
        <Field name="first_name" label="First name" value={form.first_name} onInput={set('first_name')} error={error} autocomplete="given-name" />
        <Field name="second_name" label="Last name" value={form.second_name} onInput={set('second_name')} error={error} autocomplete="family-name" />
        <Field name="birthdate" label="Birth date" type="date" value={form.birthdate} onInput={set('birthdate')} error={error} />
        <Field name="city" label="City" value={form.city} onInput={set('city')} error={error} />
        <Field name="biography" label="About you" multiline value={form.biography} onInput={set('biography')} error={error} />
        <Field name="password" label="Password (8 or more characters)" type="password" value={form.password} onInput={set('password')} error={error} autocomplete="new-password" />
        <FormError error={error} fields={Object.keys(form)} />
        <button type="submit">Register</button>
      </form>
      <p>Have an account? <a href="#/login">Log in</a></p>
    </Card>
  );
}

export function Profile(props: { me: string; onLogout: () => void }) {
  const [user, setUser] = useState<User | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => { api.user(props.me).then(setUser, setError); }, [props.me]);
  return (
    <Card title="Profile">
      {error && <p class="error" role="alert">{error.message}</p>}
      {user && (
        <dl class="profile">
          <dt>Name</dt><dd data-testid="profile-name">{user.first_name} {user.second_name}</dd>
          <dt>Your id (to log in)</dt><dd><code data-testid="profile-id">{user.id}</code></dd>
          <dt>Birth date</dt><dd>{user.birthdate}</dd>
          <dt>City</dt><dd>{user.city}</dd>
          <dt>About</dt><dd>{user.biography}</dd>
        </dl>
      )}
      <button type="button" onClick={props.onLogout}>Log out</button>
    </Card>
  );
}

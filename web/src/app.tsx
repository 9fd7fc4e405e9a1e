import { useEffect, useRef, useState } from 'preact/hooks';
import { api, live, session, watchReachability, type DialogEvent, type Session, type Unread } from './api';
import { dialogEvents, postEvents, reconnected, type PostPosted } from './events';
import { Conversation, Dialogs } from './dialogs';
import { Feed } from './feed';
import { Login, Register, Profile } from './account';
import { Search } from './search';

/** The part of the address after '#': "/dialog/<id>", "/feed", ... */
function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || '/feed');
  useEffect(() => {
    const on = () => setRoute(location.hash.slice(1) || '/feed');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function App() {
  const [me, setMe] = useState<Session | null>(session.get());
  const [offline, setOffline] = useState({ http: false, feed: false, dialogs: false });
  const [unread, setUnread] = useState<Unread>({ total: 0, dialogs: [] });
  const route = useRoute();
  const refresh = useRef<number>();

  useEffect(() => watchReachability((reached) => setOffline((o) => ({ ...o, http: !reached }))), []);

  const loadUnread = () => {
    window.clearTimeout(refresh.current);
    refresh.current = window.setTimeout(() => { api.unread().then(setUnread).catch(() => {}); }, 50);
  };

  useEffect(() => {
    if (!me) return;
    loadUnread();
    let wasDown = { feed: false, dialogs: false };
    const up = (which: 'feed' | 'dialogs') => (ok: boolean) => {
      setOffline((o) => ({ ...o, [which]: !ok }));
      if (ok && wasDown[which]) { reconnected.emit(); loadUnread(); }
      wasDown = { ...wasDown, [which]: !ok };
    };
    const stopDialogs = live<DialogEvent>('/dialog/live', (e) => {
      if (e.recipient_id === me.userId) loadUnread();
      dialogEvents.emit(e);
    }, up('dialogs'));
    const stopFeed = live<PostPosted>('/post/feed/posted', (p) => postEvents.emit(p), up('feed'));
    return () => { stopDialogs(); stopFeed(); };
  }, [me?.userId]);

  useEffect(() => { document.title = unread.total > 0 ? `(${unread.total}) Social` : 'Social'; }, [unread.total]);

  const signedIn = (s: Session) => { session.set(s); setMe(s); location.hash = '#/feed'; };
  const logout = () => { session.set(null); setMe(null); setUnread({ total: 0, dialogs: [] }); location.hash = '#/login'; };
  const lost = offline.http || offline.feed || offline.dialogs;

  let page;
  if (!me) {
    page = route === '/register' ? <Register onSignedIn={signedIn} /> : <Login onSignedIn={signedIn} />;
  } else if (route.startsWith('/dialog/')) {
    page = <Conversation me={me.userId} peer={route.slice('/dialog/'.length)} />;
  } else if (route === '/dialogs') {
    page = <Dialogs me={me.userId} unread={unread} />;
  } else if (route === '/search') {
    page = <Search me={me.userId} />;
  } else if (route === '/profile') {
    page = <Profile me={me.userId} onLogout={logout} />;
  } else {
    page = <Feed me={me.userId} />;
  }

  return (
    <div class="app">
      <header>
        <strong class="brand">Social</strong>
        {me && (
          <nav aria-label="Main">
            <a href="#/feed" aria-current={route === '/feed' ? 'page' : undefined}>Feed</a>
            <a href="#/dialogs" aria-current={route === '/dialogs' ? 'page' : undefined}>
              Dialogs{' '}
              <span class="badge" data-testid="total-unread" aria-label={`${unread.total} unread`} hidden={unread.total === 0}>{unread.total}</span>
            </a>
            <a href="#/search" aria-current={route === '/search' ? 'page' : undefined}>People</a>
            <a href="#/profile" aria-current={route === '/profile' ? 'page' : undefined}>Profile</a>
          </nav>
        )}
      </header>
      {lost && <div class="banner" role="alert" data-testid="offline">Connection lost — reconnecting…</div>}
      <main>{page}</main>
    </div>
  );
}


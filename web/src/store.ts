// What the API has no call for, remembered in this browser: people one follows or wrote to, own posts.
const read = (k: string): string[] => JSON.parse(localStorage.getItem(k) ?? '[]') as string[];
const write = (k: string, v: string[]) => localStorage.setItem(k, JSON.stringify(v));

export function remembered(me: string, what: 'friends' | 'peers' | 'posts'): string[] { return read(`sn.${me}.${what}`); }
export function remember(me: string, what: 'friends' | 'peers' | 'posts', id: string) {
  const k = `sn.${me}.${what}`; const v = read(k).filter((x) => x !== id); v.unshift(id); write(k, v.slice(0, 200));
}
export function forget(me: string, what: 'friends' | 'peers' | 'posts', id: string) {
  const k = `sn.${me}.${what}`; write(k, read(k).filter((x) => x !== id));
}

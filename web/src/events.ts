import type { DialogEvent } from './api';

export type Listener<T> = (m: T) => void;
/** Live events fanned out to whichever views listen now. */
export class Hub<T> {
  private listeners = new Set<Listener<T>>();
  on(f: Listener<T>) { this.listeners.add(f); return () => { this.listeners.delete(f); }; }
  emit(m: T) { for (const f of this.listeners) f(m); }
}
export interface PostPosted { postId: string; postText: string; author_user_id: string }
export const dialogEvents = new Hub<DialogEvent>();
export const postEvents = new Hub<PostPosted>();
/** A live channel came back after a loss: views fetch what they may have missed. */
export const reconnected = new Hub<void>();

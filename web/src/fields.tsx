import type { ComponentChildren } from 'preact';
import { ApiError } from './api';

/** A labelled input with its 400 message (if the server named this field) right below it. */
export function Field(props: { name: string; label: string; error?: ApiError | null; type?: string; value: string;
  onInput: (v: string) => void; required?: boolean; autocomplete?: string; multiline?: boolean }) {
  const id = `f-${props.name}`;
  const err = props.error && props.error.field() === props.name ? props.error.message : null;
  const common = {
    id, name: props.name, value: props.value, required: props.required, 'aria-invalid': err ? true : undefined,
    'aria-describedby': err ? `${id}-error` : undefined,
    onInput: (e: Event) => props.onInput((e.target as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? <textarea {...common} rows={3} /> : <input {...common} type={props.type ?? 'text'} autocomplete={props.autocomplete} />}
      {err && <p class="error" id={`${id}-error`} data-testid={`error-${props.name}`}>{err}</p>}
    </div>
  );
}

/** An error no field owns (or any error when the form has no such field). */
export function FormError(props: { error: ApiError | null; fields: string[] }) {
  const e = props.error;
  if (!e || (e.field() && props.fields.includes(e.field()!))) return null;
  return <p class="error" role="alert" data-testid="form-error">{e.message}</p>;
}

export function Card(props: { children: ComponentChildren; title: string }) {
  return <section class="card" aria-label={props.title}><h1>{props.title}</h1>{props.children}</section>;
}

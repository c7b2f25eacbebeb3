import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n';
import { asProblem, type Problem } from './problem';

/** Loads `load()` whenever `deps` change; stale answers (from an earlier navigation) are dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ value?: T; error?: Problem; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (value) => mine === generation.current && setState({ value, loading: false }),
      (error) => mine === generation.current && setState({ error: asProblem(error), loading: false }),
    );
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/** Runs an action from a button or form: busy while it runs, its problem kept for the form to show. */
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<unknown>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Problem | undefined>();
  const run = async (...args: A): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await action(...args);
      return true;
    } catch (e) {
      setError(asProblem(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(undefined) };
}

export const ErrorBox = ({ error }: { error?: Problem }) =>
  error ? (
    <div class="alert error" role="alert">
      {error.text}
    </div>
  ) : null;

export const Notice = ({ children }: { children: ComponentChildren }) => (
  <div class="alert ok" role="status">
    {children}
  </div>
);

export const Loading = () => (
  <p class="muted" role="status" aria-live="polite">
    {t('common.loading')}
  </p>
);

export const Empty = ({ children }: { children?: ComponentChildren }) => <p class="empty">{children ?? t('common.empty')}</p>;

type InputProps = InputHTMLAttributes<HTMLInputElement> & { label: string; name: string; error?: Problem; hint?: string };

/** A labelled input; the API's validation message for the same field shows under it. */
export function Field({ label, name, error, hint, id: given, ...input }: InputProps) {
  const message = error?.field(name);
  const id = given ?? `f-${name}`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} name={name} aria-invalid={message ? true : undefined} aria-describedby={message ? `${id}-e` : undefined} {...input} />
      {hint && <small class="muted">{hint}</small>}
      {message && (
        <small id={`${id}-e`} class="field-error">
          {message}
        </small>
      )}
    </div>
  );
}

/** A button that asks before it acts (deleting, disabling): a native modal dialog, so focus and Escape just work. */
export function Confirm(props: { label: string; question: string; onConfirm: () => void; danger?: boolean; disabled?: boolean }) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" class={props.danger ? 'danger' : ''} disabled={props.disabled} onClick={() => dialog.current?.showModal()}>
        {props.label}
      </button>
      <dialog ref={dialog} aria-label={props.label}>
        <p>{props.question}</p>
        <div class="row">
          <button type="button" onClick={() => dialog.current?.close()}>
            {t('common.cancel')}
          </button>
          <button
            type="button"
            class={props.danger ? 'danger' : 'primary'}
            onClick={() => {
              dialog.current?.close();
              props.onConfirm();
            }}
          >
            {props.label}
          </button>
        </div>
      </dialog>
    </>
  );
}

/** Form submit without a page load, with the form's values as strings. */
export const submit =
  (handler: (values: Record<string, string>, form: HTMLFormElement) => void) => (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const values: Record<string, string> = {};
    new FormData(form).forEach((v, k) => (values[k] = String(v)));
    handler(values, form);
  };

export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Dashboard Analytics`;
  }, [title]);
}

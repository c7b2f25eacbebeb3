import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import { t } from './i18n';
import { ErrorBox, submit, useAction } from './ui';

/**
 * A "New …" button and the dialog it opens: a form whose submit runs `create(values, form)`, its problem shown
 * above the fields, Cancel and Create below them. The dialog closes when `create` succeeds (it usually navigates).
 * `fields` receives the action's problem so each field can show its own.
 */
export function CreateDialog(props: {
  id: string;
  title: string;
  create: (values: Record<string, string>, form: HTMLFormElement) => Promise<unknown>;
  fields: (error: ReturnType<typeof useAction>['error']) => ComponentChildren;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const action = useAction(async (values: Record<string, string>, form: HTMLFormElement) => {
    await props.create(values, form);
    dialog.current?.close();
  });
  return (
    <>
      <button type="button" class="primary" onClick={() => (action.clear(), dialog.current?.showModal())}>
        {props.title}
      </button>
      <dialog ref={dialog} aria-labelledby={`${props.id}-title`}>
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        <form class="stack" onSubmit={submit((v, f) => void action.run(v, f))}>
          <ErrorBox error={action.error} />
          {props.fields(action.error)}
          <div class="row">
            <button type="button" onClick={() => dialog.current?.close()}>
              {t('common.cancel')}
            </button>
            <button class="primary" disabled={action.busy}>
              {t('common.create')}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

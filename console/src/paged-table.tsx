import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { t } from './i18n';
import type { Problem } from './problem';
import { Empty, ErrorBox, Loading } from './ui';

interface Page<T> {
  value?: { data: T[]; nextCursor?: string | null };
  error?: Problem;
  loading: boolean;
}

/** Keyset paging: the cursors of the pages before this one, so "previous" goes back without offsets. */
export function usePager() {
  const [cursors, setCursors] = useState<string[]>([]);
  return { cursors, setCursors, cursor: cursors[cursors.length - 1], restart: () => setCursors([]) };
}

/**
 * A keyset-paged list as the users and audit pages show it: the problem, a loading or empty state, the table with
 * its column heads, and Previous / Next. The caller keeps the pager (`usePager`), so a filter change can start over.
 */
export function PagedTable<T>(props: {
  page: Page<T>;
  empty: string;
  columns: string[];
  row: (item: T) => ComponentChildren;
  pager: ReturnType<typeof usePager>;
}) {
  const { page } = props;
  const { cursors, setCursors } = props.pager;
  return (
    <>
      <ErrorBox error={page.error} />
      {page.loading && !page.value && <Loading />}
      {page.value?.data.length === 0 && <Empty>{props.empty}</Empty>}
      {page.value && page.value.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                {props.columns.map((c) => (
                  <th scope="col">{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>{page.value.data.map(props.row)}</tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label={t('common.pages')}>
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          {t('common.previous')}
        </button>
        <button type="button" disabled={!page.value?.nextCursor} onClick={() => setCursors([...cursors, page.value!.nextCursor!])}>
          {t('common.next')}
        </button>
      </nav>
    </>
  );
}

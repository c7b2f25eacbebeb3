/**
 * CSV for spreadsheets (contract §11): RFC 4180 (CRLF line ends; a field holding a quote, comma, semicolon, tab, CR or
 * LF is quoted, its quotes doubled), and a cell whose value starts with `=`, `+`, `-`, `@`, a tab or a carriage return
 * gets `'` in front of its value (inside the quotes when quoted), so no spreadsheet evaluates it as a formula.
 *
 * Spreadsheets in locales whose list separator is `;` (most of Europe), and tab-separated imports, split a line where
 * this file has no separator, and they honour quotes only at the start of what they see as a field: `5,"x;=cmd…"`
 * becomes the cells `5,"x` and `=cmd…`. So text that would start a formula right after a `;`, a tab or a line break
 * inside a value gets `'` in front of it too (before any quotes), and such values are quoted as well.
 */
export type Cell = string | number | boolean | null;

const FORMULA = /^[=+\-@\t\r]/;
/** A split point some spreadsheet sees inside a value, followed by (quotes and) a formula's first character. */
const INNER_FORMULA = /([;\t\r\n])(?="*[=+\-@\t\r])/g;
const NEEDS_QUOTES = /[",;\t\r\n]/;

export function csvCell(value: Cell): string {
  if (value === null) return '';
  let text = String(value).replace(INNER_FORMULA, "$1'");
  if (FORMULA.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvRow = (cells: Cell[]) => `${cells.map(csvCell).join(',')}\r\n`;

/**
 * A streamed CSV body: the header, then page after page from `next(after)` until it returns fewer than `pageSize`
 * rows. Each page is pulled only when the client has taken the previous one, so memory holds one page whatever
 * the row count. `done` runs once, on the end, an error or the client going away.
 */
export function csvStream<R>(opts: {
  header: string[];
  first: R[];
  pageSize: number;
  next: (last: R) => Promise<R[]>;
  cells: (row: R) => Cell[];
  done: () => void;
}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let page: R[] | null = opts.first;
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      opts.done();
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(csvRow(opts.header)));
      },
      async pull(controller) {
        try {
          if (page === null) {
            finish();
            controller.close();
            return;
          }
          const rows = page;
          controller.enqueue(encoder.encode(rows.map((r) => csvRow(opts.cells(r))).join('')));
          page = rows.length < opts.pageSize ? null : await opts.next(rows[rows.length - 1]!);
        } catch (error) {
          finish();
          controller.error(error);
        }
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: 1 },
  );
}

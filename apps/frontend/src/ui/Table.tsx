import type { ReactNode } from 'react';

/** A column heading: plain text, or `num()` for a right-aligned figure column. */
export type Column = string | { label: ReactNode; num: boolean };

/** A right-aligned (figure) column heading. */
export function num(label: ReactNode): Column {
  return { label, num: true };
}

/** The heading row of a table, one `<th scope="col">` per column. */
export function TableHead({ columns }: { columns: readonly Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column, i) =>
          typeof column === 'string' ? (
            <th key={i} scope="col">
              {column}
            </th>
          ) : (
            <th key={i} scope="col" className={column.num ? 'num' : undefined}>
              {column.label}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

/**
 * A table that scrolls sideways on narrow screens: a focusable, labelled region (so keyboard users
 * can scroll it) around a table with the given headings and body rows. The role gives the focus
 * stop a name to announce: on a plain <div> (role generic) aria-label is not allowed and is ignored.
 */
export function ScrollTable({ label, columns, children }: { label: string; columns: readonly Column[]; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" tabIndex={0} aria-label={label}>
      <table>
        <TableHead columns={columns} />
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A figure cell, marked as a failure when `bad` (e.g. a count of lost orders above zero). */
export function NumCell({ bad = false, testId, children }: { bad?: boolean; testId?: string; children: ReactNode }) {
  return (
    <td className={bad ? 'num fail' : 'num'} data-testid={testId}>
      {children}
    </td>
  );
}

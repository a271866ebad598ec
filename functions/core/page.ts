/**
 * A page of a list read with one row more than asked for: the extra row is not shown, it only says
 * that another page exists (`has_more`), so no count query is needed.
 */
export function pageOf<Row, View>(rows: Row[], limit: number, view: (row: Row) => View) {
  return { data: rows.slice(0, limit).map(view), has_more: rows.length > limit };
}

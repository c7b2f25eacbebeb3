/** Placeholder replaced when the export route (§11) is on main. */
export function ExportUsers(_props: { filters: Record<string, string | undefined> }) {
  return null;
}

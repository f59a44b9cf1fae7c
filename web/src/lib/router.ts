/* Routing through wouter (https://github.com/molefrog/wouter): the address bar is the one source of
 * the current page and its query (wouter listens to popstate and to history.pushState/replaceState),
 * App matches the paths with its <Switch>, and these helpers move between pages or record a running
 * job's ids in the query so a reload or a return visit restores its screen. */
import { navigate as historyNavigate } from 'wouter/use-browser-location'

/** In-app navigation to `to` (a path with its query; App starts the new page at the top). */
export const go = (to: string): void => historyNavigate(to)

/** Put query parameters into the address bar without navigating (so a reload or a return
 * visit can restore a running job's screen); null removes one. */
export function setQuery(params: Record<string, string | null>): void {
  const q = new URLSearchParams(location.search)
  for (const [k, v] of Object.entries(params)) { if (v === null) q.delete(k); else q.set(k, v) }
  const qs = q.toString()
  history.replaceState(history.state, '', location.pathname + (qs ? '?' + qs : ''))
}

/* Form state that survives a reload of the tab (sessionStorage): typed text and the ids of
 * chosen files. Per tab and gone when it closes, so nothing lingers on a shared machine. */
import { useEffect, useState } from 'react'

export function readSession<T>(key: string, initial: T): T {
  try {
    const raw = sessionStorage.getItem('vcs:' + key)
    return raw === null ? initial : (JSON.parse(raw) as T)
  } catch { return initial }
}

export function writeSession(key: string, value: unknown): void {
  try {
    if (value === null || value === undefined || value === '') sessionStorage.removeItem('vcs:' + key)
    else sessionStorage.setItem('vcs:' + key, JSON.stringify(value))
  } catch { /* private mode / quota: the form just is not restored */ }
}

/** useState that is read from and written to sessionStorage under `key`. */
export function useSessionState<T>(key: string, initial: T): [T, (v: T | ((old: T) => T)) => void] {
  const [v, setV] = useState<T>(() => readSession(key, initial))
  useEffect(() => { writeSession(key, v) }, [key, v])
  return [v, setV]
}

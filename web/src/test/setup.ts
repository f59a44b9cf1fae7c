/* Vitest setup: unmount rendered components, empty the server-state cache (lib/queries.ts) and
 * the tab's kept form state (lib/session.ts) after each test, so no test sees another's answers. */
import { afterEach } from 'vitest'
import { cleanup } from '@testing-library/react'
import { queryClient } from '../lib/queries'
afterEach(() => { cleanup(); queryClient.clear(); globalThis.sessionStorage?.clear() })   // none in the node environment

/* Vitest setup: unmount rendered components after each test. */
import { afterEach } from 'vitest'
import { cleanup } from '@testing-library/react'
afterEach(() => cleanup())

/* Routing (wouter) in jsdom: every URL the app had still opens its page, a deep link with a
 * trailing slash too, an unknown path says so, a job id in the path is decoded, and an in-app link
 * changes the address without reloading and marks the current page in the navigation. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent, waitFor } from '@testing-library/react'
import { App, Routes } from './App'
import { json } from './test/fakes'

beforeEach(() => {
  vi.stubGlobal('fetch', vi.fn(async (u: string) =>
    u === '/api/models' ? json(200, { status: 'success', models: [] })
      : u === '/api/voices' ? json(200, { status: 'success', voices: [] })
        : u === '/api/jobs' ? json(200, { jobs: [] })
          : json(404, { status: 'error', error_code: 'NOT_FOUND', message: 'no endpoint ' + u })))
  vi.stubGlobal('EventSource', class { addEventListener() {} close() {} })
})
afterEach(() => { vi.unstubAllGlobals(); history.replaceState(null, '', '/') })

describe('routes', () => {
  it.each([
    ['/', 'Clone your voice in minutes'],
    ['/models', 'Your voice models'],
    ['/models/', 'Your voice models'],
    ['/convert?model=model_a', 'Convert'],
  ])('%s opens its page', async (url, heading) => {
    history.replaceState(null, '', url)
    render(<Routes />)
    expect(await screen.findByRole('heading', { level: 1, name: heading }, { timeout: 4000 })).toBeTruthy()
  })
  it('an unknown path says there is nothing there', () => {
    history.replaceState(null, '', '/nowhere')
    render(<Routes />)
    expect(screen.getByRole('heading', { name: 'Page not found' })).toBeTruthy()
    expect(screen.getByText(/There is nothing at \/nowhere/)).toBeTruthy()
  })
  it('decodes the job id of /training/{job_id}', async () => {
    history.replaceState(null, '', '/training/job%20x')
    render(<Routes />)
    await waitFor(() => expect((fetch as ReturnType<typeof vi.fn>).mock.calls.some(([u]) => u === '/api/jobs/job%20x')).toBe(true), { timeout: 4000 })
  })
})

describe('navigation', () => {
  it('a nav link changes the address in place and marks the current page', async () => {
    history.replaceState(null, '', '/')
    render(<App />)
    const nav = screen.getByRole('navigation', { name: 'Main' })
    const models = Array.from(nav.querySelectorAll('a')).find((a) => a.textContent === 'Models')!
    expect(models.getAttribute('href')).toBe('/models')
    expect(models.getAttribute('aria-current')).toBeNull()
    fireEvent.click(models)
    expect(location.pathname).toBe('/models')
    expect(await screen.findByRole('heading', { level: 1, name: 'Your voice models' }, { timeout: 4000 })).toBeTruthy()
    expect(models.getAttribute('aria-current')).toBe('page')
    await waitFor(() => expect(document.title).toBe('Models · VoiceClone Studio'))
  })
})

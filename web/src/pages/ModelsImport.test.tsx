/* Model import (Models page) against a stubbed server, coded to the contract
 * multipart POST /api/models/import with fields name, model (.pth file), index (.index
 * file, optional): the form data sent, client checks, server errors inline, a server
 * without the endpoint, and the library reloaded after a success. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { cleanup, render, screen, fireEvent, waitFor } from '@testing-library/react'
import { json, router, type Route } from '../test/fakes'
import { Models } from './Models'
import { api, importProblem } from '../lib/api'

let library: { model_id: string; name: string }[] = []
const list: Route = (u, i) => (u === '/api/models' && (i?.method ?? 'GET') === 'GET' ? json(200, { status: 'success', models: library }) : undefined)
const importOk: Route = (u, i) => {
  if (u !== '/api/models/import' || i?.method !== 'POST') return undefined
  const fd = i.body as FormData
  const m = { model_id: 'model_new', name: String(fd.get('name')), kind: 'rvc', created_at: '2026-01-01T00:00:00Z', quality_grade: '',
    training_duration_minutes: 0, final_loss: null, training_audio_duration_seconds: null, file_size_mb: 1, version: 'v2', sample_rate: 40000,
    f0: true, has_index: false }
  library = [...library, m]
  return json(201, { ...m, status: 'success' })   // the Model schema, as the server answers
}
let fetchMock: ReturnType<typeof vi.fn>
const imports = () => fetchMock.mock.calls.filter(([u, i]) => u === '/api/models/import' && i?.method === 'POST')

beforeEach(() => {
  library = []
  fetchMock = vi.fn(router(list, importOk))
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => vi.unstubAllGlobals())

const pth = (name = 'alto.pth') => new File([new Uint8Array([80, 75, 3, 4, 1, 2, 3])], name)
const idx = (name = 'alto.index') => new File([new Uint8Array([1, 2, 3])], name)

async function fillForm(name: string, model: File | null, index?: File) {
  render(<Models />)
  await screen.findByTestId('models-empty')
  expect((screen.getByTestId('import') as HTMLDetailsElement).open).toBe(true)   // empty library: opened for you
  fireEvent.change(screen.getByLabelText('Model name'), { target: { value: name } })
  if (model) fireEvent.change(screen.getByLabelText('Model weights (.pth or .zip)'), { target: { files: [model] } })
  if (index) fireEvent.change(screen.getByLabelText('Feature index (.index, optional)'), { target: { files: [index] } })
  fireEvent.click(screen.getByRole('button', { name: 'Import' }))
}

describe('Model import', () => {
  it('sends name, model and index as multipart fields, then shows the new model', async () => {
    await fillForm('  Alto  ', pth(), idx())
    await waitFor(() => expect(imports()).toHaveLength(1))
    const fd = imports()[0][1].body as FormData
    expect(fd).toBeInstanceOf(FormData)
    expect(fd.get('name')).toBe('Alto')
    expect((fd.get('file') as File).name).toBe('alto.pth')
    expect((fd.get('index') as File).name).toBe('alto.index')
    expect((imports()[0][1].headers as Record<string, string>)['Content-Type']).toBeUndefined()   // the browser sets the boundary
    expect((await screen.findByTestId('import-done')).textContent).toMatch(/Imported Alto/)
    expect(screen.getByRole('link', { name: 'Use it to convert audio' }).getAttribute('href')).toBe('/convert?model=model_new')
    await screen.findByRole('heading', { name: 'Alto' })   // library reloaded
    // the library is no longer empty, but the form stays open so the success stays visible
    expect((screen.getByTestId('import') as HTMLDetailsElement).open).toBe(true)
    expect(screen.getByTestId('import-done')).toBeTruthy()
    expect((screen.getByLabelText('Model name') as HTMLInputElement).value).toBe('')
  })

  it('leaves the index field out when no index is chosen', async () => {
    await fillForm('Alto', pth())
    await waitFor(() => expect(imports()).toHaveLength(1))
    const fd = imports()[0][1].body as FormData
    expect(fd.has('index')).toBe(false)
    expect([...fd.keys()].sort()).toEqual(['file', 'name'])
  })

  it('checks name and file types before uploading', async () => {
    await fillForm('', pth())
    expect((await screen.findByTestId('import-error')).textContent).toBe('Give the model a name.')
    fireEvent.change(screen.getByLabelText('Model name'), { target: { value: 'Alto' } })
    fireEvent.change(screen.getByLabelText('Model weights (.pth or .zip)'), { target: { files: [pth('alto.wav')] } })
    fireEvent.click(screen.getByRole('button', { name: 'Import' }))
    await waitFor(() => expect(screen.getByTestId('import-error').textContent).toMatch(/alto\.wav is not a \.pth or \.zip file/))
    expect(imports()).toHaveLength(0)
    expect(importProblem({ name: 'x', model: null })).toBe('Choose the model weights file (.pth).')
    expect(importProblem({ name: 'x', model: pth(), index: idx('a.txt') })).toMatch(/a\.txt is not a \.index file/)
    expect(importProblem({ name: 'x', model: pth('A.PTH'), index: idx() })).toBeNull()
    expect(importProblem({ name: 'x', model: pth('voice.zip') })).toBeNull() /* a .zip holding .pth + .index */
  })

  it('shows the server user_message inline when the server refuses the file', async () => {
    fetchMock.mockImplementation(router(list, (u) => (u === '/api/models/import' ? json(400, { status: 'error', error_code: 'INVALID_MODEL',
      message: 'not an RVC v2 checkpoint', user_message: 'This file is not an RVC v2 model.' }) : undefined)))
    await fillForm('Alto', pth())
    const err = await screen.findByTestId('import-error')
    expect(err.getAttribute('role')).toBe('alert')
    expect(err.textContent).toBe('This file is not an RVC v2 model.')
    expect(screen.getByRole('button', { name: 'Import' })).toHaveProperty('disabled', false)
  })

  it('a server without the endpoint (405 on /api/models/import) says import is not available yet', async () => {
    fetchMock.mockImplementation(router(list, (u) => (u === '/api/models/import' ? json(405, { status: 'error', error_code: 'INVALID_REQUEST',
      message: 'method POST not allowed on /api/models/import' }) : undefined)))
    await fillForm('Alto', pth())
    expect((await screen.findByTestId('unavailable')).textContent).toMatch(/Model import isn't available on this server yet/)
  })

  it('a reload keeps the typed name (the files must be chosen again)', async () => {
    render(<Models />)
    await screen.findByTestId('models-empty')
    fireEvent.change(screen.getByLabelText('Model name'), { target: { value: 'Half-typed' } })
    cleanup()
    render(<Models />)
    await screen.findByTestId('models-empty')
    expect((screen.getByLabelText('Model name') as HTMLInputElement).value).toBe('Half-typed')
  })

  it('api.importModel returns the Model the server answers (201)', async () => {
    fetchMock.mockImplementation(async () => json(201, { model_id: 'model_x', name: 'X' }))
    expect((await api.importModel({ name: 'X', model: pth() })).model_id).toBe('model_x')
  })
})

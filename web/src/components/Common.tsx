/* Small shared pieces: system banner (weights missing), "not available yet" state,
 * loading skeletons and a two-step confirmation button (no window.confirm, so it is
 * keyboard- and screen-reader-friendly). */
import { Component, useState, type ErrorInfo, type ReactNode } from 'react'
import { useApp, missingWeights } from '../lib/store'

export function SystemBanner({ need }: { need?: string[] }) {
  const system = useApp((s) => s.system)
  const systemError = useApp((s) => s.systemError)
  if (systemError) return <div className="banner error" role="alert">Cannot read the server status: {systemError}</div>
  const missing = missingWeights(system, need)
  if (!system || missing.length === 0) return null
  const pack = need?.some((n) => n.startsWith('f5') || n.startsWith('vocos')) ? ' f5tts' : need ? ' rvc' : ''
  return (
    <div className="banner warn" role="status" data-testid="weights-banner">
      <strong>Voice models are not installed</strong> ({missing.join(', ')}). Run{' '}
      <code>voiceclone models pull{pack}</code> on the server, then reload this page.
    </div>
  )
}

/** The licences of the installed weights a page uses (from /api/system), e.g. F5-TTS's
 * CC-BY-NC-4.0: people must know before they publish what they make with them. */
export function LicenceNote({ names }: { names: string[] }) {
  const system = useApp((s) => s.system)
  const used = (system?.weights ?? []).filter((w) => names.includes(w.name) && w.installed && w.licence)
  if (used.length === 0) return null
  return (
    <p className="muted small-print" data-testid="licence-note">
      {used.map((w) => (
        <span key={w.name}>
          {w.purpose}: licence <strong>{w.licence}</strong>{w.licence_note ? ` — ${w.licence_note}.` : '.'}{' '}
        </span>
      ))}
    </p>
  )
}

export function Unavailable({ what }: { what: string }) {
  return (
    <div className="banner info" role="status" data-testid="unavailable">
      <strong>{what} isn't available on this server yet.</strong> This server version does not provide
      this feature; everything else keeps working.
    </div>
  )
}

/** Inline answer to a 503 WEIGHTS_MISSING from a start request: what is missing, the exact
 * install command, and the server's own detail. Never a blank screen. */
export function WeightsMissing({ what, command, detail }: { what: string; command: string; detail?: string }) {
  return (
    <div className="banner error" role="alert" data-testid="weights-missing">
      <strong>{what} needs voice models that are not installed on this server.</strong>{' '}
      Run <code>{command}</code> on the server, then try again.
      {detail && <p className="muted small-print">Server said: {detail}</p>}
    </div>
  )
}

export function Skeleton({ count = 3 }: { count?: number }) {
  return (
    <div className="skeletons" aria-busy="true" aria-label="Loading">
      {Array.from({ length: count }, (_, i) => <div key={i} className="skeleton card" />)}
    </div>
  )
}

export function ConfirmButton(props: { label: string; confirmLabel: string; question: string; onConfirm: () => void; ariaLabel?: string }) {
  const [asking, setAsking] = useState(false)
  if (!asking) return <button type="button" className="danger" aria-label={props.ariaLabel} onClick={() => setAsking(true)}>{props.label}</button>
  return (
    <span className="confirm" role="group" aria-label={props.question}>
      <span>{props.question}</span>
      <button type="button" className="danger" autoFocus onClick={() => { setAsking(false); props.onConfirm() }}>{props.confirmLabel}</button>
      <button type="button" onClick={() => setAsking(false)}>Keep</button>
    </span>
  )
}

export function Link(props: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  const navigate = useApp((s) => s.navigate)
  return (
    <a href={props.to} className={props.className} aria-current={props.current ? 'page' : undefined}
      onClick={(e) => { if (e.button === 0 && !e.metaKey && !e.ctrlKey) { e.preventDefault(); navigate(props.to) } }}>
      {props.children}
    </a>
  )
}

/** Last line of defence against a blank screen: a page that throws while rendering is
 * replaced by a message (the header, navigation and jobs panel stay). Keyed by route in
 * App, so navigating elsewhere starts afresh. */
export class PageErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state: { error: Error | null } = { error: null }
  static getDerivedStateFromError(error: Error) { return { error } }
  componentDidCatch(error: Error, info: ErrorInfo) { console.error('page crashed', error, info.componentStack) }
  render() {
    if (!this.state.error) return this.props.children
    return (
      <div className="banner error" role="alert" data-testid="page-error">
        <h1>Something went wrong on this page</h1>
        <p>{this.state.error.message || String(this.state.error)}</p>
        <p><button type="button" onClick={() => location.reload()}>Reload the page</button> or <a href="/">go home</a>.</p>
      </div>
    )
  }
}

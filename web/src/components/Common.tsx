/* Small shared pieces: system banner (weights missing), "not available yet" state,
 * loading skeletons and a two-step confirmation button (no window.confirm, so it is
 * keyboard- and screen-reader-friendly). */
import { Component, useState, type ErrorInfo, type ReactNode } from 'react'
import { Link as RouterLink } from 'wouter'
import { missingWeightInfo } from '../lib/store'
import { useSystem } from '../lib/queries'
import { packOf, type Pack, type WeightInfo } from '../lib/api'
import { DownloadPack } from './DownloadPack'

/** How to install packs: the exact `models pull` command(s), where they land, the offline way. */
export function InstallHelp({ packs }: { packs: Pack[] }) {
  return (
    <>
      Download them here, or run {packs.map((p, i) => <span key={p}>{i > 0 && ' and '}<code>voiceclone models pull {p} --data DIR</code></span>)} on
      the server (<code>DIR</code>: the folder the server was started with, <code>./data</code> by default), then reload this
      page. On a machine without internet, copy the files over and run{' '}
      <code>voiceclone models import FILE --to FOLDER --data DIR</code> (docs/MODELS.md lists them).
    </>
  )
}

/** Missing weights, named with the packs that install them. Home shows it at the top; a page that
 * needs them shows it as a <BlockedNotice> next to the button they block instead. */
export function SystemBanner({ need }: { need?: string[] }) {
  const { system, error: systemError } = useSystem()
  if (systemError) return <div className="banner error" role="alert">Cannot read the server status: {systemError}</div>
  const missing = missingWeightInfo(system, need)
  if (!system || missing.length === 0) return null
  return (
    <div className="banner warn" role="status" data-testid="weights-banner">
      <strong>Voice models are not installed</strong> ({missing.map((w) => w.name).join(', ')}).{' '}
      <InstallHelp packs={packsOf(missing)} />
      {packsOf(missing).map((p) => <DownloadPack key={p} pack={p} compact />)}
    </div>
  )
}

const packsOf = (ws: WeightInfo[]): Pack[] => [...new Set(ws.map(packOf))]

/** Next to the button a missing base model blocks (Generate, Convert, Start training): what is
 * missing, what it stops and the exact command. `soft` weights only make the result worse. */
export function BlockedNotice({ need, what, soft }: { need: string[]; what: string; soft?: string[] }) {
  const { system } = useSystem()
  const missing = missingWeightInfo(system, need)
  const weak = soft ? missingWeightInfo(system, soft) : []
  if (missing.length === 0 && weak.length === 0) return null
  return (
    <div className={`banner ${missing.length ? 'error' : 'warn'} blocked`} role="status" data-testid="blocked-notice">
      {missing.length > 0
        ? <><strong>{what} needs voice models that are not installed</strong> ({missing.map((w) => w.name).join(', ')}).{' '}</>
        : <><strong>{weak.map((w) => w.name).join(', ')} not installed:</strong> {what} still works, from scratch and with lower quality.{' '}</>}
      <InstallHelp packs={packsOf(missing.length ? missing : weak)} />
      {packsOf(missing.length ? missing : weak).map((p) => <DownloadPack key={p} pack={p} compact />)}
    </div>
  )
}

/** The licences of the installed weights a page uses (from /api/system), e.g. F5-TTS's
 * CC-BY-NC-4.0: people must know before they publish what they make with them. */
export function LicenceNote({ names }: { names: string[] }) {
  const { system } = useSystem()
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

/** Inline answer to a 503 WEIGHTS_MISSING from a start request, shown next to the button: what is
 * missing, the exact install command, and the server's own detail. Never a blank screen. */
export function WeightsMissing({ what, command, detail }: { what: string; command: string; detail?: string }) {
  const pack = (command.match(/pull ([a-z0-9-]+)/)?.[1] ?? 'rvc') as Pack
  return (
    <div className="banner error" role="alert" data-testid="weights-missing">
      <strong>{what} needs voice models that are not installed on this server.</strong>{' '}
      <InstallHelp packs={[pack]} />
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

/** An in-app link (wouter's: a plain left click navigates without reloading, modified clicks open
 * a tab as usual; App starts the new page at the top). */
export function Link(props: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  return (
    <RouterLink href={props.to} className={props.className} aria-current={props.current ? 'page' : undefined}>
      {props.children}
    </RouterLink>
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

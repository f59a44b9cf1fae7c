/* Shell: header navigation, skip link, the routed page, the jobs panel (every page) and
 * the toast host. Routing is wouter's <Switch> over the browser's address (lib/router.ts; the
 * server serves index.html for unknown paths, so deep links work). Home is in the main bundle;
 * every other page is its own chunk loaded on first visit (the waveform and plotting code only
 * loads where it is used), with a skeleton while it arrives. */
import { lazy, Suspense, useEffect, useRef } from 'react'
import { Toaster } from 'react-hot-toast'
import { Route, Switch, useLocation } from 'wouter'
import { refreshSystem } from './lib/queries'
import { Link, PageErrorBoundary, Skeleton } from './components/Common'
import { JobsPanel } from './components/JobsPanel'
import { Home } from './pages/Home'

const QuickClone = lazy(() => import('./pages/QuickClone').then((m) => ({ default: m.QuickClone })))
const ProTraining = lazy(() => import('./pages/ProTraining').then((m) => ({ default: m.ProTraining })))
const Training = lazy(() => import('./pages/Training').then((m) => ({ default: m.Training })))
const Models = lazy(() => import('./pages/Models').then((m) => ({ default: m.Models })))
const Convert = lazy(() => import('./pages/Convert').then((m) => ({ default: m.Convert })))
const Compare = lazy(() => import('./pages/Compare').then((m) => ({ default: m.Compare })))

export const NAV: [string, string][] = [['/', 'Home'], ['/quick', 'Quick clone'], ['/train', 'Pro training'], ['/models', 'Models'], ['/convert', 'Convert']]

/** The page for the current address (a trailing slash matches too: /models/ is /models). */
export function Routes() {
  const [path] = useLocation()
  return (
    <Switch>
      <Route path="/"><Home /></Route>
      <Route path="/quick"><QuickClone /></Route>
      <Route path="/train"><ProTraining /></Route>
      <Route path="/training/:jobId">{(p) => <Training jobId={decodeURIComponent(p.jobId)} />}</Route>
      <Route path="/models"><Models /></Route>
      <Route path="/convert"><Convert /></Route>
      <Route path="/compare"><Compare /></Route>
      <Route><h1>Page not found</h1><p>There is nothing at {path}. <Link to="/">Go home</Link>.</p></Route>
    </Switch>
  )
}

export function App() {
  const [path] = useLocation()
  useEffect(() => { void refreshSystem() }, [])
  // after an in-app navigation, the new page starts at the top and focus moves to its heading
  // (screen readers announce it, Tab continues from there); not on the first load, where the
  // browser's own order applies
  const firstRender = useRef(true)
  useEffect(() => {
    if (firstRender.current) { firstRender.current = false; return }
    window.scrollTo?.(0, 0)
    let tries = 0
    let raf = 0
    const focusHeading = () => {
      const h = document.querySelector<HTMLElement>('main h1')
      if (h) { if (!h.hasAttribute('tabindex')) h.setAttribute('tabindex', '-1'); h.focus() }
      else if (tries++ < 120) raf = requestAnimationFrame(focusHeading)   // a lazy page is still loading
    }
    raf = requestAnimationFrame(focusHeading)
    return () => cancelAnimationFrame(raf)
  }, [path])
  useEffect(() => {
    const title = NAV.find(([p]) => p === path)?.[1]
    document.title = title && path !== '/' ? `${title} · VoiceClone Studio` : 'VoiceClone Studio'
  }, [path])
  return (
    <>
      <a href="#main" className="skip">Skip to content</a>
      <header className="top">
        <Link to="/" className="logo">VoiceClone Studio</Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([p, label]) => (
              <li key={p}><Link to={p} current={path === p}>{label}</Link></li>
            ))}
            <li><a href="/api/docs">API docs</a></li>
          </ul>
        </nav>
      </header>
      <div className="layout">
        <main id="main" tabIndex={-1}>
          <PageErrorBoundary key={path}><Suspense fallback={<Skeleton />}><Routes /></Suspense></PageErrorBoundary>
        </main>
        <JobsPanel />
      </div>
      <Toaster position="bottom-right" toastOptions={{ duration: 6000, ariaProps: { role: 'status', 'aria-live': 'polite' } }} />
    </>
  )
}

/* Home (brief §2.2): the two paths with their time/quality expectations, a way back to
 * existing models, and the weights banner from /api/system. The times are what this CPU-only
 * studio measures on a small machine (docs/PERFORMANCE.md: ≈ 5 min for a sentence of quick clone at
 * 32 steps on 2 cores; the default training fits ≈ 2 h of measured steps), not the GPU figures of
 * the original projects; each page gives the time expected here before anything starts. */
import { Link, SystemBanner } from '../components/Common'

export function Home() {
  return (
    <>
      <SystemBanner />
      <section className="hero">
        <h1>Clone your voice in minutes</h1>
        <p className="lead">Two paths to a synthetic voice, both running on this machine.</p>
      </section>
      <div className="paths">
        <article className="card path">
          <h2>Quick clone</h2>
          <ul className="facts">
            <li><strong>10–30 s</strong> of your voice</li>
            <li><strong>Minutes</strong> per sentence on a CPU (about 5 on 2 cores; you see the expected time first)</li>
            <li><strong>Good</strong> quality (F5-TTS)</li>
          </ul>
          <Link to="/quick" className="button primary">Try quick clone</Link>
        </article>
        <article className="card path">
          <h2>Pro training</h2>
          <ul className="facts">
            <li><strong>5–10 min</strong> of clean speech</li>
            <li>About <strong>2 hours</strong> of training, timed on this machine (stop early and keep the model any time)</li>
            <li><strong>Excellent</strong> quality (RVC)</li>
          </ul>
          <Link to="/train" className="button primary">Start training</Link>
        </article>
      </div>
      <p className="center">Already have a voice model? <Link to="/models" className="button">Browse models</Link></p>
    </>
  )
}

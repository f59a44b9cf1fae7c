/* Live training-loss plot as plain SVG (no chart library): a polyline over step, y scaled
 * to the observed loss range, with a text alternative for screen readers. */
export interface LossPoint { step: number; loss: number }

export function lossPath(points: LossPoint[], w: number, h: number): string {
  if (points.length === 0) return ''
  const xs = points.map((p) => p.step), ys = points.map((p) => p.loss)
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys)
  const sx = (x: number) => (x1 > x0 ? ((x - x0) / (x1 - x0)) * w : 0)
  const sy = (y: number) => (y1 > y0 ? h - ((y - y0) / (y1 - y0)) * h : h / 2)
  return points.map((p, i) => `${i ? 'L' : 'M'}${sx(p.step).toFixed(1)},${sy(p.loss).toFixed(1)}`).join(' ')
}

export function LossPlot({ points }: { points: LossPoint[] }) {
  const last = points[points.length - 1]
  const label = last ? `Training loss, latest ${last.loss.toFixed(4)} at step ${last.step}` : 'Training loss: no data yet'
  return (
    <figure className="loss-plot">
      <svg viewBox="0 0 400 120" role="img" aria-label={label} preserveAspectRatio="none">
        <rect x="0" y="0" width="400" height="120" className="plot-bg" />
        <path d={lossPath(points, 400, 120)} className="plot-line" fill="none" />
      </svg>
      <figcaption>{label}</figcaption>
    </figure>
  )
}

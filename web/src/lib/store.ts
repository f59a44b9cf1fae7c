/* Helpers over the /api/system answer (lib/queries.ts useSystem): which base models are missing. */
import type { SystemInfo, WeightInfo } from './api'

/** Names of weights the server reports missing, for banners. */
export const missingWeights = (s: SystemInfo | null, prefix?: string[]): string[] =>
  (s?.weights ?? []).filter((w) => !w.installed && (!prefix || prefix.some((p) => w.name.startsWith(p)))).map((w) => w.name)
/** The missing weights themselves (name, pack, purpose). */
export const missingWeightInfo = (s: SystemInfo | null, prefix?: string[]): WeightInfo[] =>
  (s?.weights ?? []).filter((w) => !w.installed && (!prefix || prefix.some((p) => w.name.startsWith(p))))

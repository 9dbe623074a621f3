// Summarises a V8 .cpuprofile (from --cpu-prof): top functions by self time and self time per package.
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

export interface ProfileTop {
  totalMs: number
  functions: Array<{ name: string, where: string, selfMs: number, pct: number }>
  packages: Array<{ name: string, selfMs: number, pct: number }>
}

function packageOf (url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : rest[0] ?? url
  }
  if (url.startsWith('node:')) return 'node core'
  const src = /\/(src|dist\/src)\/(.*)$/.exec(url)
  return src ? `src/${src[2]?.split('/')[0] ?? ''}` : url
}

export function profileTop (path: string, n = 25): ProfileTop {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map<number, ProfileNode>()
  for (const node of p.nodes) byId.set(node.id, node)
  const self = new Map<number, number>()
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)))
  const fns = new Map<string, { name: string, where: string, us: number }>()
  const pkgs = new Map<string, number>()
  let total = 0
  for (const [id, us] of self) {
    const f = byId.get(id)?.callFrame
    if (!f) continue
    total += us
    if (f.functionName === '(idle)') continue
    const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '')}:${f.lineNumber + 1}` : ''
    const key = `${f.functionName}@${where}`
    const e = fns.get(key) ?? { name: f.functionName || '(anonymous)', where, us: 0 }
    e.us += us
    fns.set(key, e)
    const pk = packageOf(f.url, f.functionName)
    pkgs.set(pk, (pkgs.get(pk) ?? 0) + us)
  }
  const pct = (us: number): number => Math.round(us / total * 1000) / 10
  return {
    totalMs: Math.round(total / 1000),
    functions: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, n)
      .map(e => ({ name: e.name, where: e.where, selfMs: Math.round(e.us / 1000), pct: pct(e.us) })),
    packages: [...pkgs.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 1000), pct: pct(us) }))
  }
}

export function renderProfileTop (top: ProfileTop): string {
  const lines = [`total sampled: ${top.totalMs} ms`, '', 'self time by package:']
  for (const p of top.packages) lines.push(`  ${String(p.pct).padStart(5)}%  ${String(p.selfMs).padStart(7)} ms  ${p.name}`)
  lines.push('', 'top functions by self time:')
  for (const f of top.functions) lines.push(`  ${String(f.pct).padStart(5)}%  ${String(f.selfMs).padStart(7)} ms  ${f.name}  ${f.where}`)
  return lines.join('\n')
}

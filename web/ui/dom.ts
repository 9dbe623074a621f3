// Owns the small DOM helpers every shell uses: element building (text only via textContent), styles, icons.
export { fmtTime } from './dates.js'

type Attrs = Record<string, string | boolean | null | undefined>

/** An element with attributes; `text` sets textContent, so user text is never parsed as markup. */
export function h<K extends keyof HTMLElementTagNameMap> (tag: K, attrs?: Attrs, kids?: Array<Node | null | false | undefined>): HTMLElementTagNameMap[K]
export function h (tag: string, attrs?: Attrs, kids?: Array<Node | null | false | undefined>): HTMLElement
export function h (tag: string, attrs: Attrs = {}, kids: Array<Node | null | false | undefined> = []): HTMLElement {
  const el = document.createElement(tag)
  for (const k of Object.keys(attrs)) {
    const v = attrs[k]
    if (k === 'text') el.textContent = String(v)
    else if (k === 'class') el.className = String(v)
    else if (v !== false && v != null) el.setAttribute(k, v === true ? '' : v)
  }
  for (const c of kids) if (c) el.appendChild(c)
  return el
}

/** Constructed sheets keep working under a host CSP that forbids inline <style>. */
export function adoptStyles (root: ShadowRoot, css: string): void {
  try {
    const sheet = new CSSStyleSheet()
    sheet.replaceSync(css)
    root.adoptedStyleSheets = [sheet]
  } catch {
    root.appendChild(h('style', { text: css }))
  }
}

/** A 24-unit outline icon (decorative: its button carries the name). */
function icon (d: string, size: number, filled: boolean): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg'
  const svg = document.createElementNS(ns, 'svg')
  const path = document.createElementNS(ns, 'path')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('width', String(size))
  svg.setAttribute('height', String(size))
  svg.setAttribute('aria-hidden', 'true')
  svg.setAttribute('fill', filled ? 'currentColor' : 'none')
  if (!filled) {
    svg.setAttribute('stroke', 'currentColor')
    svg.setAttribute('stroke-width', '2')
    svg.setAttribute('stroke-linecap', 'round')
  }
  path.setAttribute('d', d)
  svg.appendChild(path)
  return svg
}

export function chatIcon (): SVGSVGElement {
  return icon('M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z', 26, true)
}

/** A paperclip: an emoji would be a missing-glyph box on systems without an emoji font. */
export function attachIcon (): SVGSVGElement {
  return icon('M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9', 20, false)
}

/** Runs fn once the document has a body to attach to. */
export function whenReady (fn: () => void): void {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn)
  else fn()
}

// Owns loading one of the widgets' on-demand files (static/<file>) once per page, from where the widget's API is.
import { h } from './dom.js'

/** Calls fn with what `get` reads once the file has set it on window (at once when it already has). */
export function withScript<T> (base: string, file: string, get: () => T | undefined, fn: (value: T) => void): void {
  const ready = (): void => { const v = get(); if (v) fn(v) }
  if (get()) { ready(); return }
  let el = document.querySelector('script[data-mchat="' + file + '"]')
  if (!el) document.head.appendChild(el = h('script', { src: base + '/static/' + file, 'data-mchat': file }))
  el.addEventListener('load', ready)
}

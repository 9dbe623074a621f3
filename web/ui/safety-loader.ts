// Owns loading static/chat-safety.js (the Block/Report menu) once per page, from where the widget's API is, and handing it to each view.
import type { ChatSession } from '../core/session.js'
import type { Locale } from '../locales/index.js'
import type { Safety } from './safety-menu.js'
import { withScript } from './script-loader.js'

export type SafetyMaker = (s: ChatSession, root: HTMLElement, t: Locale) => Safety

declare global {
  interface Window { MarketChatSafety?: SafetyMaker }
}

/** Calls fn with the safety menu once its file is loaded (at once when it already is). */
export function withSafety (base: string, fn: (make: SafetyMaker) => void): void {
  withScript(base, 'chat-safety.js', () => window.MarketChatSafety, fn)
}

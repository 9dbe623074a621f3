// Owns where the service is and which token speaks for the user: REST calls, and the token a host page can replace.

export class ChatError extends Error {
  /** retryAfter: seconds from the answer's Retry-After header (a rate limit), 0 when it had none. */
  constructor (readonly code: string, readonly status: number, readonly retryAfter = 0) { super(code) }
}

/**
 * One identity on one service. setToken (from the host page) reaches every socket and later request; expired()
 * (a socket closed with token_expired, or a 401) asks the host for a fresh one once per token, never in a loop.
 */
export class Ctx {
  private readonly listeners = new Set<() => void>()
  private asked = false

  constructor (readonly base: string, public token: string | null, private readonly askForToken: () => void = () => {}) {}

  onToken (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  setToken (token: string | null | undefined): void {
    if (!token || token === this.token) return
    this.token = token
    this.asked = false
    for (const fn of Array.from(this.listeners)) fn()
  }

  expired (): void {
    if (this.asked) return
    this.asked = true
    this.askForToken()
  }

  async api<T> (method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {}
    if (this.token) headers.Authorization = 'Bearer ' + this.token
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(this.base + '/api/chat' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    } catch {
      throw new ChatError(await this.corsRefused() ? 'cors' : 'network', 0)
    }
    if (res.status === 204) return null as T
    const data = await res.json().catch(() => null) as { error?: { code?: string } } | null
    if (!res.ok) throw new ChatError(data?.error?.code ?? 'generic', res.status, Number(res.headers.get('retry-after')) || 0)
    return data as T
  }

  /**
   * A failed fetch is a CORS refusal when the service still answers a no-cors request (an opaque response): the page's
   * origin is missing from the service's CORS_ORIGINS. Said once in the console, for the site's developers.
   */
  private async corsRefused (): Promise<boolean> {
    if (this.corsChecked !== null) return this.corsChecked
    let refused = false
    try {
      if (new URL(this.base).origin !== location.origin && navigator.onLine !== false) {
        // The widget file itself: the one resource every embedding origin may load (the API is same-origin by CORP).
        await fetch(this.base + '/static/chat.js', { method: 'HEAD', mode: 'no-cors', cache: 'no-store' })
        refused = true
      }
    } catch {}
    if (refused) {
      console.error('Market chat: the chat service at ' + this.base + ' does not allow requests from ' + location.origin +
        '. Add this origin to the service\'s CORS_ORIGINS setting.')
    }
    this.corsChecked = refused
    return refused
  }

  private corsChecked: boolean | null = null

  /** The socket URL carries no token: it goes in the Sec-WebSocket-Protocol header (see Socket), out of logs and consoles. */
  wsUrl (path: string, query = ''): string {
    return this.base.replace(/^http/, 'ws') + '/api/chat/ws/' + path + (query ? '?' + query.replace(/^&/, '') : '')
  }
}

/** The service's base URL: an explicit option, the tag's data-api, else the folder above the script's own URL. */
export function baseFrom (script: HTMLScriptElement | null, api?: string): string {
  const b = api ?? script?.getAttribute('data-api') ?? (script?.src ? new URL('..', script.src).href : location.origin)
  return b.replace(/\/+$/, '')
}

/** The embed API's token call: reaches every widget on the page, from whichever bundle defined it. */
export const TOKEN_EVENT = 'marketchat:token'
/** Fired on window when a socket's token expired and no getToken option could supply a fresh one. */
export const TOKEN_EXPIRED_EVENT = 'marketchat:tokenexpired'

export interface MarketChatApi { setToken: (token: string) => void }

declare global {
  interface Window { MarketChat?: MarketChatApi }
}

/** window.MarketChat.setToken(token): hands every chat widget on the page a fresh token. */
export function installEmbedApi (): void {
  window.MarketChat = window.MarketChat ?? {
    setToken: (token) => { window.dispatchEvent(new CustomEvent(TOKEN_EVENT, { detail: String(token) })) }
  }
}

/** Calls fn with each token the host page hands over through MarketChat.setToken. */
export function onHostToken (fn: (token: string) => void): void {
  window.addEventListener(TOKEN_EVENT, (e) => { fn((e as CustomEvent<string>).detail) })
}

/** Asks the host for a fresh token: its getToken option if it has one, and always the tokenexpired event. */
export function askHost (ctx: Ctx, getToken: (() => unknown) | undefined, side: 'buyer' | 'seller'): void {
  window.dispatchEvent(new CustomEvent(TOKEN_EXPIRED_EVENT, { detail: { side } }))
  if (typeof getToken !== 'function') return
  Promise.resolve(getToken()).then((token) => { if (typeof token === 'string') ctx.setToken(token) }).catch(() => {})
}

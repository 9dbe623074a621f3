// Owns localStorage access: JSON values, and a widget that keeps working when storage is disabled.

export function load<T> (key: string): T | null {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null') as T | null
  } catch {
    return null // storage disabled (private mode): the widget still works for this page view
  }
}

export function save (key: string, value: unknown): void {
  try {
    if (value === null) localStorage.removeItem(key)
    else localStorage.setItem(key, JSON.stringify(value))
  } catch {}
}

/** A client_message_id: random, from getRandomValues, which works outside secure contexts (unlike randomUUID). */
export function newId (): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return 'c-' + Array.prototype.map.call(bytes, (x: number) => (x + 256).toString(16).slice(1)).join('')
}

// Owns getting a person's attention while the tab is hidden: a "(n) " prefix on document.title, restored when the tab is
// shown again, and (only if the host page opted in) a short, quiet WebAudio beep per new message. No audio file.
// Closures rather than a class: the buyer bundle has a gzip budget and minified property names cannot shrink.

export type Bump = (n: number) => void

/** The host page's opt-in: ChatConfig.sound === true, or data-chat-sound="true" on the script tag. */
export const soundWanted = (opt: unknown, script: Element | null): boolean =>
  opt === true || script?.getAttribute('data-chat-sound') === 'true'

/** A function to call with the number of new incoming messages; it does something only while the tab is hidden. */
/** The title's state, one per page: with the buyer widget and the seller inbox on one page, "(3) " counts both, not "(1) (2) ". */
interface TitleState { count: number, original: string, shown: string }
const TITLE_KEY = '__marketChatTitle'

export function attention (sound: boolean): Bump {
  const page = window as unknown as Record<string, TitleState | undefined>
  const title = page[TITLE_KEY] ??= { count: 0, original: '', shown: '' }
  let audio: AudioContext | undefined
  // Browsers let audio start only after a gesture in this document (a reload starts over): the context is made on the first one.
  const unlock = (): void => {
    try { audio ??= new AudioContext(); void audio.resume() } catch {}
  }
  if (sound) for (const type of ['pointerdown', 'keydown']) addEventListener(type, unlock, { capture: true, once: true })
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible' || !title.count) return
    // Put the title back only if it is still ours: a host page that set a new title meanwhile keeps it.
    if (document.title === title.shown) document.title = title.original
    title.count = 0
  })
  return (n) => {
    if (n < 1 || document.visibilityState !== 'hidden') return
    if (!title.count || document.title !== title.shown) title.original = document.title
    title.count += n
    document.title = title.shown = '(' + String(title.count) + ') ' + title.original
    if (!audio) return
    try {
      const osc = audio.createOscillator()
      const gain = audio.createGain()
      const now = audio.currentTime
      osc.frequency.value = 880
      // Quiet and short: 5 % volume, fading out over 150 ms.
      gain.gain.setValueAtTime(0.05, now)
      gain.gain.exponentialRampToValueAtTime(0.001, now + 0.15)
      osc.connect(gain).connect(audio.destination)
      osc.start(now)
      osc.stop(now + 0.15)
    } catch {}
  }
}

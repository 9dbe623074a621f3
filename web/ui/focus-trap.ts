// Owns keeping keyboard focus inside a modal panel (the phone's full-screen chat): Tab and Shift+Tab wrap around.

const FOCUSABLE = 'a[href],button:not([disabled]),textarea:not([disabled]),input:not([disabled]),[tabindex]:not([tabindex="-1"])'

/** While active() is true, Tab from the last focusable element in `box` goes to the first, and back. */
export function trapFocus (box: HTMLElement, root: ShadowRoot, active: () => boolean): void {
  box.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab' || !active()) return
    const all = Array.from(box.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => !el.closest('[hidden]') && el.getClientRects().length > 0)
    const first = all[0]
    const last = all[all.length - 1]
    if (!first || !last) return
    const current = root.activeElement
    const outside = !box.contains(current)
    if (e.shiftKey && (current === first || outside)) { e.preventDefault(); last.focus() } else if (!e.shiftKey && (current === last || outside)) { e.preventDefault(); first.focus() }
  })
}

// Owns the strings of the buyer's chat list and the "Notify me about replies" control: a table of their own, so only the
// files that show them (static/chat-list.js, static/seller-chats.js) carry them, not the buyer embed's budget.

export interface NotifyStrings {
  notifyMe: string
  /** The browser refused notifications for this site: only the person can change that, in the browser's settings. */
  notifyBlocked: string
  notifyFailed: string
  /** A chat without any message yet (its preview line). */
  noMessages: string
}

const en: NotifyStrings = {
  notifyMe: 'Notify me about replies', notifyBlocked: 'Notifications are blocked in this browser\'s settings for this site.',
  notifyFailed: 'Could not change notifications. Please try again.', noMessages: 'No messages yet'
}

const TABLES: Record<string, NotifyStrings> = {
  en,
  ru: {
    notifyMe: 'Сообщать об ответах', notifyBlocked: 'Уведомления для этого сайта запрещены в настройках браузера.',
    notifyFailed: 'Не удалось изменить уведомления. Попробуйте ещё раз.', noMessages: 'Сообщений пока нет'
  },
  uk: {
    notifyMe: 'Повідомляти про відповіді', notifyBlocked: 'Сповіщення для цього сайту заборонені в налаштуваннях браузера.',
    notifyFailed: 'Не вдалося змінити сповіщення. Спробуйте ще раз.', noMessages: 'Повідомлень поки немає'
  }
}

/** The table for a locale's language (as pickLocale chose it); English for any other. */
export const notifyStrings = (lang: string): NotifyStrings => TABLES[lang] ?? en

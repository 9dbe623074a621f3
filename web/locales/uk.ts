// Owns the Ukrainian strings.
import type { SafetyStrings, Strings } from './strings.js'

export const uk: Strings = {
  chat: 'Чат', chatWithSeller: 'Чат із продавцем', close: 'Закрити чат', send: 'Надіслати',
  placeholder: 'Напишіть повідомлення…', typing: 'друкує…', connecting: 'Підключення…', reconnecting: 'Перепідключення…',
  pending: 'Надсилається…', sent: 'Надіслано', read: 'Прочитано', failed: 'Не надіслано', online: 'у мережі',
  offline: 'не в мережі', seller: 'Продавець', you: 'Ви', guest: 'гість',
  loadingOlder: 'Завантаження попередніх повідомлень…', empty: 'Повідомлень ще немає. Напишіть першим!',
  newMessage: 'Нове повідомлення від {who}: {text}', unread: 'Непрочитаних: {n}', launcher: 'Чати, непрочитаних: {n}', noChats: 'Поки немає листувань',
  back: 'До списку чатів', chats: 'Чати', selectChat: 'Виберіть листування', listing: 'Оголошення {id}',
  buyer: 'Покупець', messages: 'Повідомлення',
  noConnection: 'Немає з’єднання', retry: 'Повторити', newMessages: 'Нові повідомлення', today: 'Сьогодні', yesterday: 'Учора',
  chatsTotal: 'Чатів: {n}', loadingMore: 'Завантаження чатів…', counter: '{n} / {max}',
  retryIn: 'Забагато нових відвідувачів із вашої мережі. Повтор через {s} с…', dialog: 'Чат',
  attach: 'Прикріпити фото', photo: 'Фото', photoFrom: 'Фото від {who}', yourPhoto: 'Ваше фото',
  uploading: 'Завантаження фото… {n}%', uploadFailed: 'Фото не надіслано', remove: 'Прибрати', cancel: 'Скасувати', closePhoto: 'Закрити фото',
  photoNeedsConnection: 'Щоб надіслати фото, потрібне з’єднання. Спробуйте, коли будете онлайн.',
  e: {
    payload_too_large: 'Фото завелике.', unsupported_media_type: 'Можна надсилати лише фото JPEG, PNG, WebP і GIF.',
    image_too_large: 'У фото забагато пікселів.', invalid_image: 'Цей файл не вдається прочитати як зображення.',
    attachment_not_found: 'Це фото більше недоступне. Прикріпіть його знову.', attachment_already_used: 'Це фото вже надіслано.',
    cors: 'Чат поки недоступний на цьому сайті.',
    rate_limited: 'Ви надсилаєте повідомлення занадто часто. Зачекайте трохи.',
    message_too_long: 'Повідомлення задовге (не більше {max} символів).',
    empty_message: 'Повідомлення порожнє.', validation_failed: 'Це повідомлення не можна надіслати.',
    cannot_chat_with_self: 'Це ваше власне оголошення.', listing_not_found: 'Оголошення не знайдено.',
    listing_inactive: 'Оголошення більше не активне.', chat_not_found: 'Листування недоступне.',
    unauthorized: 'Сесія завершилася. Оновіть сторінку.',
    token_expired: 'Сесія завершилася. Оновіть сторінку.',
    service_unavailable: 'Чат тимчасово недоступний. Повідомлення надішлються, коли він запрацює.',
    blocked: 'Ви не можете писати сюди: співрозмовник вас заблокував.', banned: 'Ваш акаунт не може користуватися чатом.',
    contact_info_blocked: 'Телефони, пошту, посилання та контакти месенджерів надсилати не можна. Продовжуйте спілкування тут.',
    contact_info_masked: 'Телефони, пошту, посилання та контакти месенджерів приховано (•••). Продовжуйте спілкування тут.',
    spam_suspected: 'Повідомлення схоже на спам і не надіслане.',
    network: 'Немає з’єднання. Перевірте інтернет.', generic: 'Щось пішло не так. Спробуйте ще раз.'
  }
}

export const ukSafety: SafetyStrings = {
  chatOptions: 'Дії з чатом', block: 'Заблокувати', unblock: 'Розблокувати', report: 'Поскаржитися',
  reported: 'Скаргу надіслано', youBlocked: 'Ви заблокували цю людину', cannotReply: 'Ви не можете відповідати в цьому чаті',
  reasons: ['Спам', 'Шахрайство', 'Образи', 'Інше']
}

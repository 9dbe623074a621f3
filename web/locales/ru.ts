// Owns the Russian strings.
import type { SafetyStrings, Strings } from './strings.js'

export const ru: Strings = {
  chat: 'Чат', chatWithSeller: 'Чат с продавцом', close: 'Закрыть чат', send: 'Отправить',
  placeholder: 'Напишите сообщение…', typing: 'печатает…', connecting: 'Подключение…', reconnecting: 'Переподключение…',
  pending: 'Отправляется…', sent: 'Отправлено', read: 'Прочитано', failed: 'Не отправлено', online: 'в сети',
  offline: 'не в сети', seller: 'Продавец', you: 'Вы', guest: 'гость', loadingOlder: 'Загрузка ранних сообщений…',
  empty: 'Сообщений пока нет. Напишите первым!', newMessage: 'Новое сообщение от {who}: {text}',
  unread: 'Непрочитанных: {n}', launcher: 'Чаты, непрочитанных: {n}', noChats: 'Пока нет переписок', back: 'К списку чатов', chats: 'Чаты',
  selectChat: 'Выберите переписку', listing: 'Объявление {id}', buyer: 'Покупатель', messages: 'Сообщения',
  noConnection: 'Нет соединения', retry: 'Повторить', newMessages: 'Новые сообщения', today: 'Сегодня', yesterday: 'Вчера',
  chatsTotal: 'Чатов: {n}', loadingMore: 'Загрузка чатов…', counter: '{n} / {max}',
  retryIn: 'Слишком много новых посетителей из вашей сети. Повтор через {s} с…', dialog: 'Чат',
  attach: 'Прикрепить фото', photo: 'Фото', photoFrom: 'Фото от {who}', yourPhoto: 'Ваше фото',
  uploading: 'Загрузка фото… {n}%', uploadFailed: 'Фото не отправлено', remove: 'Убрать', cancel: 'Отменить', closePhoto: 'Закрыть фото',
  photoNeedsConnection: 'Для отправки фото нужно соединение. Попробуйте, когда будете онлайн.',
  e: {
    payload_too_large: 'Фото слишком большое.', unsupported_media_type: 'Можно отправлять только фото JPEG, PNG, WebP и GIF.',
    image_too_large: 'В фото слишком много пикселей.', invalid_image: 'Этот файл не удаётся прочитать как изображение.',
    attachment_not_found: 'Это фото больше недоступно. Прикрепите его снова.', attachment_already_used: 'Это фото уже отправлено.',
    cors: 'Чат пока недоступен на этом сайте.',
    rate_limited: 'Вы отправляете сообщения слишком часто. Подождите немного.',
    message_too_long: 'Сообщение слишком длинное (не больше {max} символов).',
    empty_message: 'Сообщение пустое.', validation_failed: 'Это сообщение нельзя отправить.',
    cannot_chat_with_self: 'Это ваше собственное объявление.', listing_not_found: 'Объявление не найдено.',
    listing_inactive: 'Объявление больше не активно.', chat_not_found: 'Переписка недоступна.',
    unauthorized: 'Сессия истекла. Обновите страницу.',
    token_expired: 'Сессия истекла. Обновите страницу.',
    service_unavailable: 'Чат временно недоступен. Сообщения отправятся, когда он заработает.',
    blocked: 'Вы не можете писать сюда: собеседник вас заблокировал.', banned: 'Ваш аккаунт не может пользоваться чатом.',
    contact_info_blocked: 'Телефоны, почту, ссылки и контакты мессенджеров отправлять нельзя. Продолжайте общение здесь.',
    contact_info_masked: 'Телефоны, почта, ссылки и контакты мессенджеров скрыты (•••). Продолжайте общение здесь.',
    spam_suspected: 'Сообщение похоже на спам и не отправлено.',
    network: 'Нет соединения. Проверьте интернет.', generic: 'Что-то пошло не так. Попробуйте ещё раз.'
  }
}

export const ruSafety: SafetyStrings = {
  chatOptions: 'Действия с чатом', block: 'Заблокировать', unblock: 'Разблокировать', report: 'Пожаловаться',
  reported: 'Жалоба отправлена', youBlocked: 'Вы заблокировали этого человека', cannotReply: 'Вы не можете отвечать в этом чате',
  reasons: ['Спам', 'Мошенничество', 'Оскорбления', 'Другое']
}

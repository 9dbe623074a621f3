// Owns the error vocabulary: one code union mapped to HTTP statuses, shared by REST bodies and WebSocket error frames.

export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unknown_type: 400,
  empty_message: 400,
  message_too_long: 400,
  cannot_chat_with_self: 400,
  unauthorized: 401,
  forbidden: 403,
  seller_mismatch: 403,
  not_found: 404,
  chat_not_found: 404,
  listing_not_found: 404,
  listing_inactive: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
  listing_lookup_unavailable: 503
} as const

export type ErrorCode = keyof typeof errorStatus

export class AppError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AppError'
    this.code = code
    this.statusCode = errorStatus[code]
  }
}

/** The status an unknown 4xx/5xx from a library maps to, so clients still get a stable code. */
export function codeForStatus (status: number): ErrorCode {
  switch (status) {
    case 401: return 'unauthorized'
    case 403: return 'forbidden'
    case 404: return 'not_found'
    case 413: return 'payload_too_large'
    case 415: return 'unsupported_media_type'
    case 429: return 'rate_limited'
    case 503: return 'service_unavailable'
    default: return status >= 500 ? 'internal_error' : 'bad_request'
  }
}

export const chatNotFound = (): AppError => new AppError('chat_not_found', 'Chat not found')

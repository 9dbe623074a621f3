// Token verification: marketplace JWTs (HS256, or RS256/ES256 with a public key), iss/aud, the user claim, anonymous tokens.
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import t from 'tap'
import { validate as isUuid, version as uuidVersion } from 'uuid'
import { createTokenService, type TokenService } from '../../src/auth/token-service.js'
import { parseConfig, type Env } from '../../src/config.js'
import { AppError } from '../../src/errors.js'
import { buildTestApp, TEST_ANON_SECRET, TEST_JWT_SECRET, testConfig } from '../fixtures/app.js'

const ANON_ISSUER = 'marketplace-chat/anonymous'
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600
const aMinuteAgo = (): number => Math.floor(Date.now() / 1000) - 60

function service (env: Env): TokenService {
  const parsed = parseConfig({ AUTH_JWT_SECRET: TEST_JWT_SECRET, ANON_TOKEN_SECRET: TEST_ANON_SECRET, ...env })
  if (!parsed.ok) throw new Error(parsed.errors.join('; '))
  return createTokenService(parsed.config.auth)
}

/** The error code verify() throws, or the identity it returns. */
function outcome (tokens: TokenService, token: string): string {
  try {
    const identity = tokens.verify(token)
    return `${identity.registered ? 'registered' : 'anonymous'}:${identity.userId}`
  } catch (error) {
    if (error instanceof AppError) return error.code
    throw error
  }
}

const hs256 = (secret: string, claims: Record<string, unknown>): string => createSigner({ key: secret, algorithm: 'HS256' })(claims)

/** A JWT built by hand, for shapes fast-jwt's signer refuses to produce. */
function handmade (header: object, payload: object, secret: string | null): string {
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString('base64url')
  const body = `${encode(header)}.${encode(payload)}`
  return secret === null ? `${body}.` : `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString()
const privatePem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString()

t.test('HS256 marketplace tokens', async (t) => {
  const tokens = service({})
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: 'user-1', exp: inAnHour() })), 'registered:user-1')
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: 42, exp: inAnHour() })), 'registered:42', 'numeric ids become strings')

  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: 'user-1', exp: aMinuteAgo() })), 'unauthorized', 'expired')
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: 'user-1' })), 'unauthorized', 'no exp: would never expire')
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { exp: inAnHour() })), 'unauthorized', 'no sub')
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: '', exp: inAnHour() })), 'unauthorized', 'empty sub')
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: { id: 1 }, exp: inAnHour() })), 'unauthorized', 'object sub')
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: 'user-1', exp: inAnHour(), nbf: inAnHour() })), 'unauthorized', 'not yet valid')
  t.equal(outcome(tokens, hs256('some-other-secret-0123456789abcdef0123', { sub: 'user-1', exp: inAnHour() })), 'unauthorized', 'wrong secret')
  t.equal(outcome(tokens, hs256(TEST_ANON_SECRET, { sub: 'user-1', exp: inAnHour() })), 'unauthorized', 'signed with the anonymous secret')
  t.equal(outcome(tokens, handmade({ alg: 'none', typ: 'JWT' }, { sub: 'user-1', exp: inAnHour() }, null)), 'unauthorized', 'alg none')

  // Same signature, payload swapped for another user's.
  const genuine = hs256(TEST_JWT_SECRET, { sub: 'user-1', exp: inAnHour() }).split('.')
  const otherPayload = Buffer.from(JSON.stringify({ sub: 'seller-1', exp: inAnHour() })).toString('base64url')
  t.equal(outcome(tokens, `${genuine[0]}.${otherPayload}.${genuine[2]}`), 'unauthorized', 'tampered payload')

  for (const garbage of ['', 'abc', 'a.b.c', 'Bearer x', '...', 'e30.e30.e30']) {
    t.equal(outcome(tokens, garbage), 'unauthorized', `garbage ${JSON.stringify(garbage)}`)
  }
  t.throws(() => tokens.verify(hs256(TEST_JWT_SECRET, { sub: 'user-1', exp: aMinuteAgo() })), { message: /expired/ }, 'says why')
})

t.test('anonymous tokens are minted and verified with their own secret', async (t) => {
  const tokens = service({})
  const session = tokens.mintAnonymous()
  t.ok(isUuid(session.buyer_id) && uuidVersion(session.buyer_id) === 4, 'buyer_id is a uuid v4')
  t.equal(outcome(tokens, session.token), `anonymous:${session.buyer_id}`)
  t.not(tokens.mintAnonymous().buyer_id, session.buyer_id, 'each session is a new buyer')

  const anonClaims = { sub: 'b-1', anon: true, iss: ANON_ISSUER, exp: inAnHour() }
  t.equal(outcome(tokens, hs256(TEST_ANON_SECRET, anonClaims)), 'anonymous:b-1')
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, anonClaims)), 'unauthorized', 'signed with the marketplace secret')
  t.equal(outcome(tokens, hs256(TEST_ANON_SECRET, { ...anonClaims, exp: aMinuteAgo() })), 'unauthorized', 'expired')
  t.equal(outcome(tokens, hs256(TEST_ANON_SECRET, { sub: 'b-1', iss: ANON_ISSUER, exp: inAnHour() })), 'unauthorized', 'no anon claim')
  t.equal(outcome(tokens, hs256(TEST_ANON_SECRET, { ...anonClaims, sub: undefined })), 'unauthorized', 'no sub')
  t.equal(outcome(tokens, hs256(TEST_ANON_SECRET, { ...anonClaims, iss: undefined })), 'unauthorized', 'no issuer: not an anonymous token')

  // A marketplace token never becomes anonymous, whatever it claims.
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: 'user-1', anon: true, exp: inAnHour() })), 'registered:user-1')
  // Another deployment's anonymous tokens are not ours.
  t.equal(outcome(service({ ANON_TOKEN_SECRET: 'another-deployments-anon-secret-0123456789' }), session.token), 'unauthorized')
})

for (const [name, algorithm, pair] of [
  ['RS256', 'RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['ES256', 'ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })]
] as const) {
  t.test(`${name} tokens verified with AUTH_JWT_PUBLIC_KEY`, async (t) => {
    const { publicKey, privateKey } = pair()
    const stranger = pair()
    // Env files often hold the PEM on one line with \n escapes.
    const tokens = service({ AUTH_JWT_PUBLIC_KEY: pem(publicKey).replace(/\n/g, '\\n') })
    const sign = createSigner({ key: privatePem(privateKey), algorithm })

    t.equal(outcome(tokens, sign({ sub: 'user-1', exp: inAnHour() })), 'registered:user-1')
    t.equal(outcome(tokens, sign({ sub: 'user-1', exp: aMinuteAgo() })), 'unauthorized', 'expired')
    t.equal(outcome(tokens, sign({ sub: 'user-1' })), 'unauthorized', 'no exp')
    t.equal(outcome(tokens, createSigner({ key: privatePem(stranger.privateKey), algorithm })({ sub: 'user-1', exp: inAnHour() })),
      'unauthorized', 'signed by another key')
    t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: 'user-1', exp: inAnHour() })), 'unauthorized',
      'HS256 is refused once a public key is configured, even with the old secret')
    t.equal(outcome(tokens, handmade({ alg: 'HS256', typ: 'JWT' }, { sub: 'user-1', exp: inAnHour() }, pem(publicKey))),
      'unauthorized', 'algorithm confusion: HS256 keyed with the public key')
    t.equal(outcome(tokens, tokens.mintAnonymous().token).startsWith('anonymous:'), true, 'anonymous tokens still work')
  })
}

t.test('issuer and audience are enforced when configured, including when the claim is missing', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const tokens = service({ AUTH_JWT_PUBLIC_KEY: pem(publicKey), AUTH_JWT_ISSUER: 'https://shop.example', AUTH_JWT_AUDIENCE: 'chat' })
  const sign = createSigner({ key: privatePem(privateKey), algorithm: 'ES256' })
  const good = { sub: 'user-1', exp: inAnHour(), iss: 'https://shop.example', aud: 'chat' }

  t.equal(outcome(tokens, sign(good)), 'registered:user-1')
  t.equal(outcome(tokens, sign({ ...good, aud: ['billing', 'chat'] })), 'registered:user-1', 'aud may be a list')
  t.equal(outcome(tokens, sign({ ...good, iss: 'https://evil.example' })), 'unauthorized', 'wrong iss')
  t.equal(outcome(tokens, sign({ ...good, aud: 'billing' })), 'unauthorized', 'wrong aud')
  t.equal(outcome(tokens, sign({ ...good, iss: undefined })), 'unauthorized', 'missing iss')
  t.equal(outcome(tokens, sign({ ...good, aud: undefined })), 'unauthorized', 'missing aud')

  const hsTokens = service({ AUTH_JWT_ISSUER: 'https://shop.example' })
  t.equal(outcome(hsTokens, hs256(TEST_JWT_SECRET, { sub: 'u', exp: inAnHour(), iss: 'https://shop.example' })), 'registered:u')
  t.equal(outcome(hsTokens, hs256(TEST_JWT_SECRET, { sub: 'u', exp: inAnHour() })), 'unauthorized', 'missing iss with HS256')
  t.equal(outcome(service({}), hs256(TEST_JWT_SECRET, { sub: 'u', exp: inAnHour(), iss: 'anyone', aud: 'any' })), 'registered:u',
    'not configured: not checked')
})

t.test('the user id comes from the configured claim', async (t) => {
  const tokens = service({ AUTH_JWT_USER_CLAIM: 'user_id' })
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { user_id: 'u-7', sub: 'someone-else', exp: inAnHour() })), 'registered:u-7')
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { user_id: 7, exp: inAnHour() })), 'registered:7')
  t.equal(outcome(tokens, hs256(TEST_JWT_SECRET, { sub: 'u-7', exp: inAnHour() })), 'unauthorized', 'sub alone is not enough')
  t.equal(outcome(tokens, tokens.mintRegistered('u-8')), 'registered:u-8', 'minted tokens use the claim too')
})

t.test('the app verifies with the configured public key and claim', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const app = await buildTestApp(t, testConfig(t, {
    AUTH_JWT_SECRET: '',
    AUTH_JWT_PUBLIC_KEY: pem(publicKey),
    AUTH_JWT_USER_CLAIM: 'uid',
    AUTH_JWT_ISSUER: 'https://shop.example'
  }))
  const sign = createSigner({ key: privatePem(privateKey), algorithm: 'RS256' })
  const as = (token: string) => ({ authorization: `Bearer ${token}` })

  const seller = sign({ uid: 'seller-9', exp: inAnHour(), iss: 'https://shop.example' })
  const grouped = await app.inject({ url: '/api/chat/chats/seller/seller-9/grouped', headers: as(seller) })
  t.equal(grouped.statusCode, 200, 'seller-9 is who the RS256 token says')
  t.same(grouped.json(), [])

  const refused = [
    sign({ uid: 'seller-9', exp: inAnHour() }),
    sign({ sub: 'seller-9', exp: inAnHour(), iss: 'https://shop.example' }),
    hs256(TEST_JWT_SECRET, { uid: 'seller-9', exp: inAnHour(), iss: 'https://shop.example' })
  ]
  for (const token of refused) {
    const response = await app.inject({ url: '/api/chat/chats/seller/seller-9/grouped', headers: as(token) })
    t.equal(response.statusCode, 401)
    t.match(response.json(), { error: { code: 'unauthorized' } })
  }
})

t.test('roles come from the claim AUTH_JWT_ROLES_CLAIM names: chat_moderator there opens the moderation routes, under "roles" it does not', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { AUTH_JWT_ROLES_CLAIM: 'https://shop.example/roles' }))
  const as = (claims: Record<string, unknown>) => ({ authorization: `Bearer ${hs256(TEST_JWT_SECRET, { exp: inAnHour(), ...claims })}` })
  const reports = async (headers: { authorization: string }) => await app.inject({ url: '/api/chat/moderation/reports', headers })

  const allowed = await reports(as({ sub: 'mod-7', 'https://shop.example/roles': ['chat_moderator'] }))
  t.equal(allowed.statusCode, 200, 'a moderator under the configured claim')
  t.same(allowed.json(), { reports: [], next_cursor: null })

  const unknown = await app.inject({ url: '/api/chat/moderation/nothing-here' })
  for (const [name, claims] of [
    ['the default claim name only', { sub: 'mod-8', roles: ['chat_moderator'] }],
    ['another role under the configured claim', { sub: 'mod-9', 'https://shop.example/roles': ['admin'] }]
  ] as const) {
    const refused = await reports(as(claims))
    t.equal(refused.statusCode, 404, `${name}: the route does not exist, as for everyone else`)
    t.equal(refused.json().error.code, unknown.json().error.code, `${name}: answered like an unknown route`)
  }
})

t.test('verifyWithExpiry gives the identity and when the token stops being valid', async (t) => {
  const tokens = service({})
  const exp = inAnHour()
  t.same(tokens.verifyWithExpiry(hs256(TEST_JWT_SECRET, { sub: 'user-1', exp })), { identity: { userId: 'user-1', registered: true }, expiresAt: exp * 1000, displayName: null })
  t.equal(tokens.verifyWithExpiry(hs256(TEST_JWT_SECRET, { sub: 'user-1', exp, name: ' Ivan\u0000 ' })).displayName, 'Ivan', 'the name claim, cleaned')
  const anonymous = tokens.mintAnonymous()
  const verified = tokens.verifyWithExpiry(anonymous.token)
  t.same(verified.identity, { userId: anonymous.buyer_id, registered: false })
  t.ok(verified.expiresAt > Date.now() + 300 * 24 * 3600 * 1000, 'anonymous sessions last about a year')
  t.throws(() => tokens.verifyWithExpiry(hs256(TEST_JWT_SECRET, { sub: 'user-1', exp: aMinuteAgo() })), { code: 'unauthorized' })
})

// Owns `npm run vapid-keys`: prints a new VAPID key pair as the two settings Web Push needs.
import webpush from 'web-push'

const { publicKey, privateKey } = webpush.generateVAPIDKeys()
process.stdout.write(`WEB_PUSH_PUBLIC_KEY=${publicKey}\nWEB_PUSH_PRIVATE_KEY=${privateKey}\n`)

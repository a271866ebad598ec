import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * QStash's delivery signature: an HS256 JWT whose `body` claim is the SHA-256 of the raw body
 * (base64url) and whose `sub` is the destination URL, valid for 5 minutes. The real `Receiver`
 * verifies it with the current key, then the next one.
 */
export async function signDelivery(signingKey: string, url: string, body: Buffer, nowMs = Date.now()) {
  const now = Math.floor(nowMs / 1000);
  const bodyHash = createHash('sha256').update(body).digest('base64url');
  return new SignJWT({ body: bodyHash })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('Upstash')
    .setSubject(url)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 300)
    .setJti(`jwt_${randomUUID()}`)
    .sign(new TextEncoder().encode(signingKey));
}

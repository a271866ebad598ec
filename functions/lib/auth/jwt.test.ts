import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signAccessToken, verifyAccessToken } from './jwt.ts';

const secret = 'a'.repeat(48);
const issuer = 'http://127.0.0.1:8787';
const claims = { userId: 'usr_1', sessionId: 'ses_1' };
const now = new Date('2026-11-23T12:00:00Z');

describe('access tokens', () => {
  it('round-trip their claims until they expire', async () => {
    const token = await signAccessToken(secret, issuer, claims, now);
    expect(await verifyAccessToken(secret, issuer, token, now)).toEqual({ ok: true, claims });
    const later = new Date(now.getTime() + 16 * 60_000);
    expect(await verifyAccessToken(secret, issuer, token, later)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuse tampered, foreign, unsigned and other-issuer tokens', async () => {
    const token = await signAccessToken(secret, issuer, claims, now);
    const [header, payload, signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ sub: 'usr_2', sid: 'ses_1', iss: issuer, aud: 'aicloud:api', exp: 9e9 }),
    ).toString('base64url');
    const unsigned = new UnsecuredJWT({ sid: 'ses_1' })
      .setSubject('usr_1')
      .setIssuer(issuer)
      .setAudience('aicloud:api')
      .encode();
    const otherKey = await new SignJWT({ sid: 'ses_1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('usr_1')
      .setIssuer(issuer)
      .setAudience('aicloud:api')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('b'.repeat(48)));
    for (const candidate of [
      `${header}.${forged}.${signature}`,
      `${header}.${payload}.${signature?.slice(0, -2)}xx`,
      unsigned,
      otherKey,
      'not-a-jwt',
    ]) {
      expect(await verifyAccessToken(secret, issuer, candidate, now)).toEqual({
        ok: false,
        reason: 'invalid',
      });
    }
    expect(await verifyAccessToken(secret, 'https://elsewhere.example', token, now)).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });
});

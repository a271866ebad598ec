import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, hasBearerToken, listen, readBody, sendJson } from '../http.ts';

export interface StoredEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  created_at: string;
}

export interface MailOutboxOptions {
  port: number;
  apiKey: string;
  /** JSON file keeping the outbox across restarts; memory only when absent. */
  dataFile?: string;
}

export interface MailOutbox {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_KEPT = 500;

/** Resend's error body. */
const resendError = (response: ServerResponse, status: number, name: string, message: string) =>
  sendJson(response, status, { statusCode: status, name, message });

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function outboxPage(emails: StoredEmail[]): string {
  const rows = emails
    .map(
      (email) => `<article>
  <h2>${escapeHtml(email.subject)}</h2>
  <p><b>To</b> ${escapeHtml(email.to.join(', '))} · <b>From</b> ${escapeHtml(email.from)} · ${escapeHtml(email.created_at)}</p>
  <pre>${escapeHtml(email.text ?? '')}</pre>
</article>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local outbox · AI Cloud</title>
<style>body{font-family:system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem}article{border-top:1px solid #ddd;padding:.5rem 0}pre{white-space:pre-wrap}</style>
</head><body><h1>Local outbox</h1><p>Every email the platform sends while running locally lands here (newest first). JSON: <a href="/outbox">/outbox</a>.</p>
${rows || '<p>No emails yet.</p>'}</body></html>`;
}

/**
 * Development stand-in for Resend: the edge's production mailer sends `POST /emails` here unchanged
 * (same auth, validation errors and Idempotency-Key behaviour), and every message is kept for people
 * (`GET /`) and tests (`GET /outbox?to=`).
 */
export async function startMailOutbox(options: MailOutboxOptions): Promise<MailOutbox> {
  let emails: StoredEmail[] = [];
  if (options.dataFile && existsSync(options.dataFile)) {
    emails = JSON.parse(readFileSync(options.dataFile, 'utf8')) as StoredEmail[];
  }
  const byIdempotencyKey = new Map<string, string>();
  const save = () => {
    if (!options.dataFile) return;
    const temporary = `${options.dataFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(emails));
    renameSync(temporary, options.dataFile);
  };

  const send = async (request: IncomingMessage, response: ServerResponse) => {
    if (!request.headers.authorization) {
      return resendError(response, 401, 'missing_api_key', 'Missing API key in the authorization header.');
    }
    if (!hasBearerToken(request, options.apiKey))
      return resendError(response, 403, 'invalid_api_key', 'API key is invalid.');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse((await readBody(request, 1024 * 1024)).toString('utf8')) as Record<string, unknown>;
    } catch {
      return resendError(response, 422, 'validation_error', 'Request body is not valid JSON.');
    }
    const to = typeof body.to === 'string' ? [body.to] : Array.isArray(body.to) ? body.to : null;
    for (const field of ['from', 'subject'] as const) {
      if (typeof body[field] !== 'string' || body[field] === '') {
        return resendError(response, 422, 'missing_required_field', `Missing \`${field}\` field.`);
      }
    }
    if (
      !to ||
      to.length === 0 ||
      !to.every((address) => typeof address === 'string' && address.includes('@'))
    ) {
      return resendError(response, 422, 'validation_error', 'Invalid `to` field.');
    }
    if (typeof body.html !== 'string' && typeof body.text !== 'string') {
      return resendError(response, 422, 'missing_required_field', 'Missing `html` or `text` field.');
    }
    const idempotencyKey = request.headers['idempotency-key'];
    const seen = typeof idempotencyKey === 'string' ? byIdempotencyKey.get(idempotencyKey) : undefined;
    if (seen) return sendJson(response, 200, { id: seen });
    const email: StoredEmail = {
      id: randomUUID(),
      from: String(body.from),
      to: to as string[],
      subject: String(body.subject),
      text: typeof body.text === 'string' ? body.text : null,
      html: typeof body.html === 'string' ? body.html : null,
      created_at: new Date().toISOString(),
    };
    emails = [email, ...emails].slice(0, MAX_KEPT);
    if (typeof idempotencyKey === 'string') byIdempotencyKey.set(idempotencyKey, email.id);
    save();
    return sendJson(response, 200, { id: email.id });
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://outbox.local');
    if (request.method === 'POST' && url.pathname === '/emails') return send(request, response);
    if (request.method === 'GET' && url.pathname === '/outbox') {
      const to = url.searchParams.get('to')?.toLowerCase();
      return sendJson(response, 200, {
        data: to ? emails.filter((email) => email.to.some((a) => a.toLowerCase() === to)) : emails,
      });
    }
    if (request.method === 'GET' && url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(outboxPage(emails));
      return;
    }
    return resendError(response, 404, 'not_found', 'The requested endpoint does not exist.');
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) =>
      resendError(response, 500, 'internal_server_error', error.message),
    );
  });
  const port = await listen(server, options.port);
  return { url: `http://127.0.0.1:${port}`, port, close: () => closeServer(server) };
}

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { type Browser, chromium, type Dialog, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devStackEnv, startDevStack, stopDevStack } from '../../dev/stack.ts';

/** Screenshots of every screen, desktop and phone, kept as test artifacts. */
const SCREENSHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 860 };

/**
 * A new user's first hour, in a real browser against `npm run dev`: sign up, verify by the emailed
 * link, add funds through the local checkout, deploy a catalog model, call it with the openai SDK
 * using the copied quick-start values, see the request and its cost, revoke the key and be refused.
 */
describe('the dashboard, end to end', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aicloud-e2e-'));
  let stack: Awaited<ReturnType<typeof devStackEnv>>;
  let running: ReturnType<typeof startDevStack>;
  let browser: Browser;
  let page: Page;
  /** Confirmations (revoke, delete) are answered yes unless a step answers one itself. */
  const acceptDialogs = (dialog: Dialog) => void dialog.accept();

  /** WCAG 2 A/AA problems axe-core finds on the current screen that are serious or critical. */
  const accessibilityProblems = async () => {
    await page.addScriptTag({ path: AXE });
    const found = await page.evaluate(async () => {
      const { violations } = await (
        window as unknown as {
          axe: {
            run: (
              options: unknown,
            ) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
          };
        }
      ).axe.run({
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] },
      });
      return violations;
    });
    return found
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map(
        (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
      );
  };

  /** Both widths of the current screen; at phone width nothing may scroll sideways; no serious a11y problem. */
  const capture = async (name: string) => {
    expect(await accessibilityProblems(), `${name} has accessibility problems`).toEqual([]);
    for (const [label, size] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(size);
      await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
      if (label === 'phone') {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${name} overflows a 375 px screen`).toBeLessThanOrEqual(0);
      }
    }
    await page.setViewportSize(DESKTOP);
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await devStackEnv(dataDir);
    running = startDevStack(stack.env);
    await running.ready;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({
      viewport: DESKTOP,
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = await context.newPage();
    page.on('dialog', acceptDialogs);
  }, 180_000);

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      const code = running ? await stopDevStack(running.child) : 0;
      rmSync(dataDir, { recursive: true, force: true });
      expect(code).toBe(0);
    }
  }, 90_000);

  const PASSWORD = 'correct horse battery staple';
  let ownerEmail = '';

  /** The first link in the newest email to `to` whose path matches. */
  const emailedLink = async (to: string, path: RegExp) => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const mail = (await (
        await fetch(`${stack.mailOutbox}/outbox?to=${encodeURIComponent(to)}`)
      ).json()) as { data: { text: string }[] };
      const link = mail.data.map((email) => path.exec(email.text)?.[1]).find(Boolean);
      if (link) return link;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no email to ${to} with ${path}`);
  };
  const post = async (path: string, body: unknown, token?: string) => {
    const response = await fetch(`${stack.edge}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Record<string, string>;
  };

  it('takes a new user from sign-up to a paid, revocable API call', async () => {
    const email = `e2e-${Date.now()}@example.com`;
    ownerEmail = email;
    await page.goto(`${stack.edge}/signup`);
    await capture('signup');
    await page.getByLabel('Name').fill('Ada');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Check your email').waitFor();

    let link: string | undefined;
    for (let attempt = 0; attempt < 50 && !link; attempt++) {
      const mail = (await (
        await fetch(`${stack.mailOutbox}/outbox?to=${encodeURIComponent(email)}`)
      ).json()) as { data: { text: string }[] };
      link = /(\/verify-email\?token=[\w-]+)/.exec(mail.data[0]?.text ?? '')?.[1];
      if (!link) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await page.goto(`${stack.edge}${link}`);
    // The link proves the mailbox; the password, that this is who signed up.
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Your email is verified').waitFor();

    await page.goto(`${stack.edge}/login`);
    await capture('login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await capture('dashboard-empty');
    // An org remembered from before (left, deleted, another person's) does not lock the dashboard.
    await page.evaluate(() => {
      sessionStorage.setItem('aicloud.org', 'org_1ChYZZZZZZZZZZZZZZZZZZ');
      localStorage.setItem('aicloud.org', 'org_1ChYZZZZZZZZZZZZZZZZZZ');
    });
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('aicloud.org'))).toBeNull();
    expect(await page.evaluate(() => localStorage.getItem('aicloud.org'))).toBeNull();

    // Add funds: Stripe Checkout (the local one), paid with a test card; credited by the webhook.
    await page.getByRole('link', { name: 'Billing' }).first().click();
    await page.getByRole('button', { name: 'Add $25' }).click();
    await page.getByRole('button', { name: /Pay \$25\.00/ }).waitFor();
    await page.getByRole('button', { name: /Pay \$25\.00/ }).click();
    await page.getByText('Payment received').waitFor();
    // Credited when the webhook arrives; the page re-reads the balance until then.
    await expect.poll(() => page.getByTestId('balance').textContent(), { timeout: 15_000 }).toBe('$25.00');
    await capture('billing');

    await page.getByRole('link', { name: 'Catalog' }).first().click();
    await page.getByRole('button', { name: 'Deploy Llama 3.1 8B Instruct' }).waitFor();
    await capture('catalog');
    // Reads of the deployment's logs and events, and its status streams, from here on.
    const reads = { logs: 0, events: 0, streams: 0 };
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (/^\/api\/deployments\/[^/]+\/logs$/.test(path)) reads.logs++;
      if (/^\/api\/deployments\/[^/]+\/events$/.test(path)) reads.events++;
      if (/^\/api\/deployments\/[^/]+\/events\/stream$/.test(path)) reads.streams++;
    });
    await page.getByRole('button', { name: 'Deploy Llama 3.1 8B Instruct' }).click();
    const key = (await page.getByTestId('deployment-key').textContent()) ?? '';
    expect(key).toMatch(/^sk_dep_/);
    await page.getByRole('tab', { name: 'Node' }).click();
    const quickStart = (await page.getByTestId('quick-start-Node').textContent()) ?? '';
    expect(quickStart).toContain(key);
    const baseURL = /baseURL: '([^']+)'/.exec(quickStart)?.[1] ?? '';
    expect(baseURL).toBe(`${stack.edge}/v1`);

    // The copied quick-start, run: the first request wakes the scaled-to-zero deployment.
    const client = new OpenAI({ baseURL, apiKey: key, maxRetries: 0, timeout: 60_000 });
    const reply = await client.chat.completions.create({
      model: 'llama-3.1-8b-instruct',
      messages: [{ role: 'user', content: 'Hello from the dashboard' }],
    });
    expect(reply.choices[0]?.message.content).toContain('Hello from the dashboard');
    // The page follows the deployment live: the replica coming up and the job's log line arrive over
    // the status stream, so the logs and events are read once, not re-read every few seconds.
    await page.getByText('● Live').first().waitFor();
    await page.getByText(/job job_\w+ done in \d+ ms/).waitFor({ timeout: 20_000 });
    await page.getByText(/worker ready/).waitFor();
    expect(reads.streams).toBeGreaterThan(0);
    expect(reads.logs).toBe(1);
    expect(reads.events).toBe(1);
    await expect
      .poll(() => page.getByTestId('requests-count').textContent(), { timeout: 20_000 })
      .toMatch(/^1 requests/);
    await expect
      .poll(async () => Number((await page.getByTestId('total-cost').textContent())?.replace(/[$,]/g, '')), {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('uptime').textContent(), { timeout: 10_000 }).toMatch(/% busy$/);
    await capture('deployment');
    // Shown once: a reload (or Back to this page) does not show the key again.
    await page.reload();
    await page.getByText('Hidden (shown only when created).').waitFor();
    expect(await page.getByTestId('deployment-key').count()).toBe(0);

    await page.getByRole('link', { name: 'Billing' }).first().click();
    await page.getByText(/Running now: \$0\.\d+|Running now: \$[1-9]/).waitFor();
    await page.getByRole('link', { name: 'New endpoint' }).first().click();
    await page.getByText('Estimated cost').waitFor();
    await capture('new-endpoint');
    await page.getByRole('link', { name: 'Jobs & webhooks' }).first().click();
    await page.getByRole('heading', { name: 'Webhook deliveries' }).waitFor();
    // The signing secret stays off the screen until asked for; a rotation shows the new one and how
    // long the old one keeps signing.
    expect(await page.getByTestId('webhook-secret').count()).toBe(0);
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    const firstSecret = (await page.getByTestId('webhook-secret').textContent()) ?? '';
    expect(firstSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText(/The previous secret also signs deliveries until/).waitFor();
    const rotatedSecret = (await page.getByTestId('webhook-secret').textContent()) ?? '';
    expect(rotatedSecret).toMatch(/^whsec_/);
    expect(rotatedSecret).not.toBe(firstSecret);
    await capture('jobs');
    await page.getByRole('link', { name: 'Organization' }).first().click();
    await page.getByText(email).first().waitFor();
    await capture('organization');

    // A second sign-in (a script) is listed under Account; signing it out from here ends it at once.
    const scriptLogin = async () =>
      (await (
        await fetch(`${stack.edge}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'deploy-script/2.0' },
          body: JSON.stringify({ email, password: 'correct horse battery staple' }),
        })
      ).json()) as { access_token: string };
    const signedOut = async (session: { access_token: string }) =>
      (
        await fetch(`${stack.edge}/api/auth/me`, {
          headers: { authorization: `Bearer ${session.access_token}` },
        })
      ).status === 401;
    const script = await scriptLogin();
    await page.getByRole('link', { name: 'Account' }).first().click();
    await expect.poll(() => page.getByTestId('session').count()).toBe(2);
    await page.getByText('this session').waitFor();
    await capture('account');
    await page.getByRole('button', { name: /^Sign out deploy-script\/2\.0/ }).click();
    await expect.poll(() => page.getByTestId('session').count()).toBe(1);
    expect(await signedOut(script)).toBe(true);
    // Changing the password here keeps this browser signed in and signs the script out again.
    const again = await scriptLogin();
    await page.getByLabel('Current password').fill('correct horse battery staple');
    await page.getByLabel('New password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed; 1 other session was signed out.').waitFor();
    expect(await signedOut(again)).toBe(true);

    // The access cookie lasts 15 minutes: once it is gone, the refresh cookie renews the session for
    // every call, the account's own (`/api/auth/me`, its API keys) included, instead of signing out.
    await page.context().clearCookies({ name: 'aic_session' });
    await page.reload();
    await page.getByText(email).first().waitFor();
    await page.context().clearCookies({ name: 'aic_session' });
    await page.getByRole('link', { name: 'API keys' }).first().click();
    await page
      .getByRole('button', { name: /^Revoke / })
      .first()
      .waitFor();
    await capture('api-keys');
    await page.getByRole('button', { name: 'Caps' }).first().click();
    await page.getByLabel('Per day ($)').fill('5');
    await page.getByRole('button', { name: 'Save caps' }).click();
    await page.getByText('cap $5.00/day').waitFor();
    await page
      .getByRole('button', { name: /^Revoke / })
      .first()
      .click();
    await expect
      .poll(() => page.getByRole('button', { name: /^Revoke / }).count(), { timeout: 10_000 })
      .toBe(0);
    const refused = await client.chat.completions
      .create({ model: 'llama-3.1-8b-instruct', messages: [{ role: 'user', content: 'still there?' }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);

    // Dark theme: the same screens, readable (axe checks contrast in dark too).
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await page.getByRole('link', { name: 'Dashboard' }).first().click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await capture('dashboard-dark');
    // Stopping takes a live endpoint offline: the dashboard asks first, and a "no" changes nothing.
    page.off('dialog', acceptDialogs);
    const asked = new Promise<string>((resolve) =>
      page.once('dialog', (dialog) => {
        resolve(dialog.message());
        void dialog.dismiss();
      }),
    );
    await page
      .getByRole('button', { name: /^Stop / })
      .first()
      .click();
    expect(await asked).toMatch(/^Stop .*requests to it fail until you start it again/);
    page.on('dialog', acceptDialogs);
    // Still running: the Stop button stays, no Start appeared.
    await page
      .getByRole('button', { name: /^Stop / })
      .first()
      .waitFor();
    expect(await page.getByRole('button', { name: /^Start / }).count()).toBe(0);
    await page.getByRole('link', { name: 'Billing' }).first().click();
    await page.getByTestId('balance').waitFor();
    await capture('billing-dark');
  }, 180_000);

  it('offers a viewer what a viewer may do: no deploy, stop, delete, key or member controls', async () => {
    const viewerEmail = `e2e-viewer-${Date.now()}@example.com`;
    await post('/api/auth/register', { email: viewerEmail, password: PASSWORD });
    const verify = await emailedLink(viewerEmail, /verify-email\?token=([\w-]+)/);
    await post('/api/auth/verify-email', { token: verify, password: PASSWORD });
    // The first test changed the owner's password on the Account page.
    const owner = await post('/api/auth/login', { email: ownerEmail, password: 'a brand new passphrase' });
    const invited = await post(
      '/api/org/invitations',
      { email: viewerEmail, role: 'viewer' },
      owner.access_token,
    );
    expect(invited, JSON.stringify(invited)).toMatchObject({ role: 'viewer' });
    const invitation = await emailedLink(viewerEmail, /invitations\/accept\?token=([\w-]+)/);
    const viewer = await post('/api/auth/login', { email: viewerEmail, password: PASSWORD });
    const joined = await post('/api/invitations/accept', { token: invitation }, viewer.access_token);
    expect(joined.role).toBe('viewer');

    const context = await browser.newContext({ viewport: DESKTOP });
    const tab = await context.newPage();
    try {
      await tab.goto(`${stack.edge}/login`);
      await tab.getByLabel('Email').fill(viewerEmail);
      await tab.getByLabel('Password').fill(PASSWORD);
      await tab.getByRole('button', { name: 'Log in' }).click();
      await tab.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await tab.evaluate((orgId) => {
        sessionStorage.setItem('aicloud.org', orgId);
        localStorage.setItem('aicloud.org', orgId);
      }, joined.org_id ?? '');
      await tab.reload();
      await tab.getByRole('link', { name: 'API & logs' }).first().waitFor();
      expect(await tab.getByRole('link', { name: 'Deploy a model' }).count()).toBe(0);
      expect(await tab.getByRole('button', { name: /^(Stop|Start) / }).count()).toBe(0);
      expect(await tab.getByText('Quick deploy').count()).toBe(0);

      await tab.getByRole('link', { name: 'API & logs' }).first().click();
      await tab.getByText('Hidden (shown only when created).').waitFor();
      for (const name of ['Stop', 'Start', 'Delete', 'Regenerate', 'Save'])
        expect(await tab.getByRole('button', { name, exact: true }).count(), name).toBe(0);
      expect(await tab.getByLabel('Min replicas').isDisabled()).toBe(true);

      await tab.goto(`${stack.edge}/org`);
      await tab.getByLabel(`Role of ${ownerEmail}`).waitFor();
      expect(await tab.getByLabel(`Role of ${ownerEmail}`).isDisabled()).toBe(true);
      expect(await tab.getByRole('button', { name: /^Remove / }).count()).toBe(0);
      expect(await tab.getByText('Invite someone').count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 120_000);
});

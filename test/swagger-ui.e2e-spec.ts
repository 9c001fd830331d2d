import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { createTestApp } from './support/app.js';
import { PASSWORD, uniqueEmail } from './support/factories.js';

/** Debian's Chromium (apt-get install chromium); Playwright never downloads a browser here. */
const CHROMIUM = '/usr/bin/chromium';
const chromiumSkipReason = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM} (install it with: apt-get install -y chromium)`;
if (chromiumSkipReason) console.warn(`Skipping the Swagger UI test: ${chromiumSkipReason}`);

const SCREENSHOT = join(tmpdir(), 'latchkey-swagger-ui.png');

/** One operation block of Swagger UI, e.g. `POST /auth/register`. */
const operation = (page: Page, method: string, path: string): Locator =>
  page
    .locator('.opblock')
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
    .filter({
      has: page.locator('.opblock-summary-method', { hasText: new RegExp(`^${method}$`) }),
    });

/**
 * What a person does with one operation: open it, "Try it out", replace the example body (if one is
 * given), "Execute", and wait for the response to be shown. Returns the status and body as shown.
 */
async function tryItOut(
  page: Page,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ block: Locator; status: string; body: string }> {
  const block = operation(page, method, path);
  await block.locator('.opblock-summary').first().click();
  await block.getByRole('button', { name: 'Try it out' }).click();
  if (body !== undefined) {
    const editor = block.locator('textarea.body-param__text');
    await editor.fill(JSON.stringify(body, null, 2));
  }
  const sent = page.waitForResponse(
    (response) =>
      new URL(response.url()).pathname === path && response.request().method() === method,
  );
  await block.getByRole('button', { name: 'Execute' }).click();
  await sent;
  const shown = block.locator('.live-responses-table tbody .response');
  const status = shown.locator('.response-col_status');
  const responseBody = shown.locator('.response-col_description .highlight-code pre');
  await responseBody.waitFor();
  return {
    block,
    status: (await status.innerText()).trim(),
    body: await responseBody.innerText(),
  };
}

(chromiumSkipReason ? describe.skip : describe)(
  chromiumSkipReason ? `Swagger UI (skipped: ${chromiumSkipReason})` : 'Swagger UI in Chromium',
  () => {
    let app: NestExpressApplication;
    let browser: Browser;
    let baseUrl: string;

    beforeAll(async () => {
      app = await createTestApp();
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      baseUrl = `http://127.0.0.1:${port}`;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        timeout: 30_000,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
          '--disable-sync',
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
    });

    it('registers, logs in, authorizes with the token and reads /users/me, under its Content-Security-Policy (ASVS 3.4.3)', async () => {
      const email = uniqueEmail('swagger');
      const page = await browser.newPage({ viewport: { width: 1280, height: 1300 } });
      page.setDefaultTimeout(15_000);
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      // Chromium reports each resource or inline style the policy blocked as a console error.
      const consoleErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });

      const docs = await page.goto(`${baseUrl}/docs`);
      expect(docs?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(docs?.headers()['content-security-policy']).toContain("script-src 'self'");
      await operation(page, 'POST', '/auth/register').waitFor();

      const registered = await tryItOut(page, 'POST', '/auth/register', {
        email,
        password: PASSWORD,
      });
      expect(registered.status).toBe('201');
      expect(JSON.parse(registered.body)).toMatchObject({ email });
      await registered.block.locator('.opblock-summary').first().click(); // fold it away again

      const loggedIn = await tryItOut(page, 'POST', '/auth/login', { email, password: PASSWORD });
      expect(loggedIn.status).toBe('200');
      const token = (JSON.parse(loggedIn.body) as { token: string }).token;
      expect(token).toMatch(/^lk_[\w-]{43}$/);
      await loggedIn.block.locator('.opblock-summary').first().click();

      await page.locator('.auth-wrapper').getByRole('button', { name: 'Authorize' }).click();
      const dialog = page.locator('.dialog-ux .modal-ux');
      const bearerScheme = dialog
        .locator('.auth-container')
        .filter({ has: page.locator('h4 code', { hasText: /^bearer$/ }) });
      await bearerScheme.getByRole('textbox', { name: 'auth-bearer-value' }).fill(token);
      await bearerScheme.getByRole('button', { name: 'Apply credentials' }).click();
      await bearerScheme.getByRole('heading', { name: 'Authorized' }).waitFor();
      await bearerScheme.getByRole('button', { name: 'Close', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });

      const sentWithToken = page.waitForRequest(
        (request) => new URL(request.url()).pathname === '/users/me',
      );
      const me = await tryItOut(page, 'GET', '/users/me');
      expect((await sentWithToken).headers()['authorization']).toBe(`Bearer ${token}`);
      expect(me.status).toBe('200');
      expect(JSON.parse(me.body)).toMatchObject({ email });
      expect(await me.block.locator('.live-responses-table').innerText()).toContain(email);

      // The top of the page holds the Authorize button and the /users/me block with its response.
      await page.screenshot({ path: SCREENSHOT });
      expect(pageErrors).toEqual([]);
      expect(consoleErrors.filter((text) => /Content.Security.Policy/i.test(text))).toEqual([]);
      await page.close();
    }, 60_000);
  },
);

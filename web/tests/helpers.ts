import { expect, type Browser, type BrowserContext, type Page, type APIRequestContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const run = Math.random().toString(36).slice(2, 8).toUpperCase().replace(/[0-9]/g, 'Q');
export const resultsDir = resolve(here, '../../results/web');
mkdirSync(resultsDir, { recursive: true });

export interface Person { id: string; token: string; first: string; last: string }

export async function person(request: APIRequestContext, first: string): Promise<Person> {
  const last = `Web${run}`;
  const password = 'password-123';
  const reg = await request.post('/user/register', {
    data: { first_name: first, second_name: last, birthdate: '1990-01-01', biography: 'browser test', city: 'Kazan', password },
  });
  expect(reg.status()).toBe(200);
  const { user_id } = (await reg.json()) as { user_id: string };
  const login = await request.post('/login', { data: { id: user_id, password } });
  const { token } = (await login.json()) as { token: string };
  return { id: user_id, token, first, last };
}

/** A browser context already signed in as p (the session the login page would keep). */
export async function signedIn(browser: Browser, p: Person, hash: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  await context.addInitScript((s) => sessionStorage.setItem('sn.session', s), JSON.stringify({ token: p.token, userId: p.id }));
  const page = await context.newPage();
  await page.goto(`/#${hash}`);
  return { context, page };
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: resolve(resultsDir, `${name}.png`), fullPage: true });
}

/** build/tools/sagactl/sagactl check, polled until the saga is quiet (exit 0) or 30 s pass. */
export async function sagaQuiet(): Promise<string> {
  const sagactl = process.env.SAGACTL ?? resolve(here, '../../build/tools/sagactl/sagactl');
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      return execFileSync(sagactl, ['check'], { encoding: 'utf-8' });
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

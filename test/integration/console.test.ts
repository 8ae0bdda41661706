import { readFileSync } from 'node:fs';
import { withAuditContext } from '@walaudit/pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../support/api-client.js';
import { accessibilityProblems, launchChromium, screenshot } from '../support/browser.js';
import { startConsoleFixture, type ConsoleFixture } from '../support/console-fixture.js';

/**
 * The web console in a real browser (Debian's chromium through playwright-core) against a real
 * `walaudit start`, store and Postgres: a user's journeys, each page checked by axe-core and kept
 * as a screenshot under .cache/console-screenshots/.
 */
describe('web console', () => {
  let fx: ConsoleFixture;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Content-Security-Policy violations any page reported: the console must run under the API's policy. */
  const cspViolations: string[] = [];
  let viewerPage: Page;
  let customerDeleteId: string;

  const openAs = async (token: string): Promise<Page> => {
    const context = await browser.newContext({ acceptDownloads: true, timezoneId: 'Europe/Paris', locale: 'en-GB' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.goto(`${fx.base}/`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  };
  /** axe-core on the page as it is: no serious or critical finding; and the page's screenshot. */
  const check = async (page: Page, name: string) => {
    await screenshot(page, name);
    expect(await accessibilityProblems(page), `accessibility of ${name}`).toEqual([]);
  };

  beforeAll(async () => {
    browser = await launchChromium();
    fx = await startConsoleFixture();
    await fx.admin.query(`
      INSERT INTO customers VALUES (1, 'Ada Lovelace', true, '{vip,"early adopter"}', '{"plan":"gold","seats":3}', '2026-03-01 10:00:00+00'),
                                   (2, 'Bob', false, '{}', NULL, NULL);
      INSERT INTO orders VALUES (10, 1, 12.50), (11, 1, 7.00), (20, 2, 99.00);
      INSERT INTO sessions VALUES (1, 'ada');
    `);
    await withAuditContext(fx.admin, { user: 'carol@example.com', reason: 'account closed' }, (tx) => tx.query('DELETE FROM customers WHERE id = 1'));
    await fx.caughtUp();
    customerDeleteId = (await fx.entries('customers', 'delete'))[0]!.id;
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await fx?.close();
  });

  it('serves the console at / to anyone, and keeps every /api route behind its token', async () => {
    const page = await callApi(fx.port, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.text).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/);
    expect(page.text).not.toMatch(/<script(?![^>]*src=)/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(page.text)![1]!;
    const script = await callApi(fx.port, 'GET', asset);
    expect(script.status).toBe(200);
    expect(script.headers['cache-control']).toContain('immutable');
    // A shared link to a page of the console opens the console.
    const deepLink = await callApi(fx.port, 'GET', '/log?table=customers&op=delete');
    expect(deepLink.status).toBe(200);
    expect(deepLink.text).toContain('<div id="app">');
    expect((await callApi(fx.port, 'GET', '/api/no-such-route', { token: fx.viewer })).body.error?.code).toBe('API_NOT_FOUND');
    expect((await callApi(fx.port, 'GET', '/api/entries')).status).toBe(401);
    expect((await callApi(fx.port, 'GET', '/api/me')).status).toBe(401);
    expect((await callApi(fx.port, 'GET', '/api/me', { token: fx.viewer })).body).toEqual({ name: 'auditor', role: 'viewer', via: 'token' });
  });

  it('signs in a viewer with a token and shows who they are', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${fx.base}/`);
    await check(page, '01-sign-in');
    await page.getByLabel('API token').fill('wat_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('unknown or revoked');
    viewerPage = await openAs(fx.viewer);
    expect(await viewerPage.getByTestId('who').textContent()).toBe('auditor viewer');
  });

  it('signs in a manager', async () => {
    const page = await openAs(fx.manager);
    expect(await page.getByTestId('who').textContent()).toBe('local manager');
  });

  it('raises the overview counter when a bulk DELETE is typed into Postgres, without a reload', async () => {
    const page = viewerPage;
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByText('Live: updates as changes are stored.').waitFor();
    const counter = page.getByTestId('count-bulk-delete');
    expect(await counter.textContent()).toBe('0');
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
    await fx.admin.query('DELETE FROM invoices WHERE id <= 150');
    await expect.poll(() => counter.textContent(), { timeout: 30_000 }).toBe('1');
    // The same document, never reloaded: the marker set on it is still there.
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(1);
    await page.getByRole('img', { name: /Entries per hour by table/ }).waitFor();
    await expect.poll(() => page.getByRole('cell', { name: 'psql' }).or(page.getByRole('cell', { name: /postgres|walaudit/ })).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await check(page, '02-overview');
  });

  it('filters the log to one table, keeps the filter in the URL, and opens a deletion with its values', async () => {
    const page = viewerPage;
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Table').fill('customers');
    await page.getByLabel('Operation').selectOption('delete');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('?table=customers&op=delete');
    await page.getByText('1 entries match.').waitFor();
    await check(page, '03-log');
    await page.getByRole('link', { name: 'id 1' }).click();
    await page.getByRole('heading', { name: /delete public\.customers id 1/ }).waitFor();
    const snapshot = page.getByTestId('snapshot');
    const cellOf = (column: string) => snapshot.getByRole('row', { name: new RegExp(`^${column}\\b`) }).getByRole('cell');
    expect(await cellOf('name').textContent()).toBe('Ada Lovelace');
    expect(await cellOf('vip').textContent()).toBe('yes');
    expect(await cellOf('tags').getByRole('listitem').allTextContents()).toEqual(['vip', 'early adopter']);
    expect(await cellOf('signed_up').getByRole('time').getAttribute('title')).toBe('2026-03-01 10:00:00+00');
    expect(await cellOf('signed_up').textContent()).toContain('11:00:00');
    const who = page.getByRole('region', { name: 'Who, from where' });
    expect(await who.getByText('carol@example.com').count()).toBe(1);
    expect(await who.getByText('account closed').count()).toBe(1);
    expect(await who.getByText('DELETE FROM customers WHERE id = 1').count()).toBe(1);
    expect(await page.getByTestId('chain').textContent()).toContain('Its stored body hashes to its hash');
    expect(await page.getByRole('listitem').filter({ hasText: 'deleted by cascade' }).count()).toBe(2);
    await check(page, '04-entry');
    await page.getByRole('link', { name: "This row's whole history" }).click();
    await page.getByRole('link', { name: 'deleted' }).waitFor();
    expect(await page.getByRole('link', { name: 'created' }).count()).toBe(1);
    await check(page, '04b-history');
    await page.goBack();
    await page.getByRole('link', { name: /^\d+$/ }).first().click();
    await page.getByRole('heading', { name: /^Transaction \d+$/ }).waitFor();
    expect(await page.getByText('public.orders: 2 delete').count()).toBe(1);
    await check(page, '04c-transaction');
  });

  it('offers a viewer no restore or rule control, and the server refuses a forged restore (403)', async () => {
    const page = viewerPage;
    expect(await page.getByRole('button', { name: /restore/i }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Exclude this table/ }).count()).toBe(0);
    const status = await page.evaluate(async (entryId) => {
      const token = (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem('walaudit.token');
      const response = await fetch('/api/restores', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ request: { kind: 'cascade', entryId }, policy: 'fail' }) });
      return response.status;
    }, customerDeleteId);
    expect(status).toBe(403);
    expect((await fx.admin.query('SELECT 1 FROM customers WHERE id = 1')).rowCount).toBe(0);
  });

  it('acknowledges an alert with a note', async () => {
    const page = viewerPage;
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('link', { name: /open bulk-deletion alerts/ }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('?kind=bulk-delete');
    const box = page.getByRole('checkbox', { name: /Select alert/ });
    await box.first().check();
    await page.getByLabel('Note').fill('planned cleanup');
    await page.getByRole('button', { name: 'Acknowledge 1 selected' }).click();
    await page.getByText('Acknowledged 1 alert(s).').waitFor();
    await page.getByRole('cell', { name: /acknowledged by auditor: planned cleanup/ }).waitFor();
    await check(page, '05-alerts');
    const counts = await callApi(fx.port, 'GET', '/api/alerts/counts', { token: fx.viewer });
    expect(counts.body.byKind).toMatchObject({ 'bulk-delete': 0 });
  });

  it('downloads the CSV and the PDF of the current filter with the token', async () => {
    const page = viewerPage;
    await page.goto(`${fx.base}/log?table=customers&op=delete`);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(csv.suggestedFilename()).toMatch(/^walaudit-entries-.*\.csv$/);
    const text = readFileSync((await csv.path())!, 'utf8');
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,commit_time,table,op,/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('public.customers,delete');
    const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'PDF report' }).click()]);
    expect(readFileSync((await pdf.path())!).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('restores a cascade as a manager: the dry-run plan, confirm, the report, and the rows are back in Postgres', async () => {
    const page = await openAs(fx.manager);
    await page.goto(`${fx.base}/entries/${customerDeleteId}`);
    await page.getByLabel('What').selectOption('cascade');
    await page.getByRole('button', { name: 'Plan restore (dry run)' }).click();
    const plan = page.getByTestId('restore-report');
    await plan.getByText('Dry run: what the restore would write').waitFor();
    expect(await plan.textContent()).toContain('rows restored: 3');
    expect((await fx.admin.query('SELECT 1 FROM customers WHERE id = 1')).rowCount).toBe(0);
    await check(page, '06-restore-plan');
    await page.getByRole('button', { name: 'Confirm restore' }).click();
    await page.getByRole('heading', { name: /^Restore job / }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('restore-report').textContent()).toContain('Outcome: ok');
    const customer = await fx.admin.query('SELECT name, vip, tags FROM customers WHERE id = 1');
    expect(customer.rows).toEqual([{ name: 'Ada Lovelace', vip: true, tags: ['vip', 'early adopter'] }]);
    expect((await fx.admin.query('SELECT id FROM orders WHERE customer_id = 1 ORDER BY id')).rows).toEqual([{ id: 10 }, { id: 11 }]);
    await check(page, '07-restore-report');
  });

  it('excludes a table from an entry as a manager: its next change is not stored, and the rules page says who did it', async () => {
    const page = await openAs(fx.manager);
    const sessionInsert = (await fx.entries('sessions', 'insert'))[0]!;
    await page.goto(`${fx.base}/entries/${sessionInsert.id}`);
    await page.getByRole('button', { name: 'Exclude this table' }).click();
    await page.getByText('public.sessions is no longer audited').waitFor();
    await fx.admin.query("INSERT INTO sessions VALUES (2, 'bob')");
    await fx.caughtUp();
    expect((await fx.entries('sessions', 'insert')).map((entry) => entry.after?.id)).toEqual(['1']);
    await page.getByRole('link', { name: 'Rules and retention' }).click();
    await page.getByRole('cell', { name: 'local (manager)' }).waitFor();
    expect(await page.getByRole('button', { name: 'Undo exclude of public.sessions' }).count()).toBe(1);
    await page.getByLabel('Table', { exact: true }).fill('orders');
    await page.getByLabel(/Keep its next entries/).fill('30');
    await page.getByRole('button', { name: 'Set retention' }).click();
    await page.getByRole('row', { name: /public\.orders 30 days override/ }).waitFor();
    await check(page, '08-rules');
    // A viewer reads the same page without the undo.
    await viewerPage.getByRole('link', { name: 'Rules and retention' }).click();
    await viewerPage.getByRole('cell', { name: 'local (manager)' }).first().waitFor();
    expect(await viewerPage.getByRole('button', { name: 'Set retention' }).count()).toBe(0);
    expect(await viewerPage.getByRole('button', { name: /Undo/ }).count()).toBe(0);
  });

  it('returns to sign-in when the token stops working', async () => {
    const revoked = await callApi(fx.port, 'DELETE', `/api/tokens/${fx.viewerId}`, { token: fx.manager });
    expect(revoked.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await viewerPage.getByRole('link', { name: 'Audit log' }).click();
    await viewerPage.getByLabel('API token').waitFor();
    expect(await viewerPage.getByRole('status').first().textContent()).toContain('unknown or revoked');
    expect(cspViolations).toEqual([]);
  });
});

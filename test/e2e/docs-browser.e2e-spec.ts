import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * `/docs` as a person meets it: a real (headless) Chromium renders Swagger UI, which must show every operation of
 * `/openapi.json` and run one. Regression: the UI script did not parse (`$\`` in a description expanded by
 * String.replace) and the page was blank while the HTML still contained "swagger-ui".
 */
describe('/docs in a real browser (e2e)', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp();
    await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t.close();
  });

  it('renders as many operations as /openapi.json has, with no script error, and "Try it out" runs one', async () => {
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']);
    const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).filter((m) => methods.has(m)).length, 0);
    expect(operations).toBeGreaterThan(90);

    const page = await browser.newPage();
    const scriptErrors: string[] = [];
    page.on('pageerror', (error) => scriptErrors.push(error.message));
    await page.goto(`${base}/docs`);
    await page.waitForSelector('.opblock', { timeout: 60_000 });
    // Tags render collapsed or expanded; every operation has one .opblock either way once its tag section is open.
    const rendered = await page.locator('.opblock').count();
    expect(scriptErrors).toEqual([]);
    expect(rendered).toBe(operations);
    process.stdout.write(`/docs in Chromium: ${rendered} operations rendered, /openapi.json has ${operations}\n`);
    expect(await page.locator('.info .title').innerText()).toContain('Countersign API');

    const probe = page.locator('#operations-Health-liveness, .opblock:has(.opblock-summary-path[data-path="/healthz"])').first();
    await probe.locator('.opblock-summary').click();
    await probe.locator('button.try-out__btn').click();
    await probe.locator('button.execute').click();
    const status = probe.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor({ timeout: 30_000 });
    expect((await status.innerText()).trim()).toBe('200');
    expect(await probe.locator('.live-responses-table .microlight').first().innerText()).toContain('"status": "ok"');
    await page.close();
  });
});

import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { DEMO_OWNERS, DEMO_PRODUCTS } from '../lib/demo-data';
import { startTestStack, type TestStack } from '../test/support/e2e';
import {
  STOREFRONT_SUBGRAPHS,
  addAddress,
  browserSuite,
  byTestId,
  describeInChromium,
  payAtCheckout,
} from '../test/support/chromium';

const SCREENSHOT = path.join(__dirname, '..', 'test-artifacts', 'storefront.png');
const STEP_MS = 20_000;

describeInChromium('storefront demo in Chromium', () => {
  let stack: TestStack;
  let sessionId: string;

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: STOREFRONT_SUBGRAPHS, sandbox: true });
    const product = DEMO_PRODUCTS[0];
    const created = await stack.graphql(
      `mutation ($productId: ID!, $variantId: ID!, $endsAt: DateTime!) {
        createGroupBuyingSession(input: { productId: $productId, variantId: $variantId, moq: 5, groupPrice: 39000, endsAt: $endsAt }) { id }
      }`,
      {
        productId: product.id,
        variantId: product.variants[0].id,
        endsAt: new Date(Date.now() + 120_000).toISOString(),
      },
      { caller: { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' } },
    );
    expect(created.errors).toBeUndefined();
    sessionId = created.data.createGroupBuyingSession.id;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const { pageErrors, newPage, waitForText, logIn } = browserSuite(() => stack, {
    stepMs: STEP_MS,
    viewport: { width: 1100, height: 820 },
  });

  /** Logs in through the page with a fresh number and opens the session from the FORMING list. */
  async function logInAndOpenSession(page: Page) {
    await logIn(page, `${stack.gatewayUrl}/demo`);
    await page.locator(`[data-testid="session-link"][data-session-id="${sessionId}"]`).click();
    await waitForText(page, 'product-name', new RegExp(DEMO_PRODUCTS[0].name));
    await waitForText(page, 'group-price', /^Rp39\.000$/);
    await waitForText(page, 'base-price', /^Rp45\.000$/);
    await waitForText(page, 'progress-text', /^0\/5 paid/);
  }

  it('A joins and pays; B sees the bar move without reloading; A gets the payment notification live', async () => {
    const [a, b] = [await newPage(), await newPage()];
    await logInAndOpenSession(b);
    await b.evaluate(() => Object.assign(window, { notReloaded: true }));
    await logInAndOpenSession(a);

    await addAddress(a);
    await byTestId(a, 'quantity').fill('2');
    await byTestId(a, 'join').click();
    await waitForText(a, 'participation-status', /PENDING_PAYMENT/);

    await payAtCheckout(a, stack);

    await waitForText(b, 'progress-text', /^2\/5 paid/);
    expect(await b.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await a.locator('[data-testid="notification"][data-type="PAYMENT_SUCCEEDED"]').waitFor();
    await waitForText(a, 'progress-text', /^2\/5 paid/);
    await waitForText(a, 'participation-status', /^PAID$/);

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await a.screenshot({ path: SCREENSHOT, fullPage: true, animations: 'disabled' });

    await byTestId(a, 'nav-orders').click();
    await waitForText(a, 'view', /My orders/);
    expect(await byTestId(a, 'error').isVisible()).toBe(false);
    await b.goto(`${stack.gatewayUrl}/demo/#/`);
    await waitForText(b, 'view', /Forming/);
    expect(pageErrors).toEqual([]);
  }, 150_000);
});

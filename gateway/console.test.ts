import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { newId } from '../lib/ids';
import { startTestStack, type TestStack } from '../test/support/e2e';
import { eventually } from '../test/support/eventually';
import {
  STOREFRONT_SUBGRAPHS,
  addAddress,
  browserSuite,
  byTestId,
  describeInChromium,
  payAtCheckout,
} from '../test/support/chromium';

const SCREENSHOT = path.join(__dirname, '..', 'test-artifacts', 'console.png');
const FAILURE_SCREENSHOT = path.join(__dirname, '..', 'test-artifacts', 'console-failure.png');
const STEP_MS = 30_000;

describeInChromium('factory console in Chromium', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: [...STOREFRONT_SUBGRAPHS, 'settlement'],
      sandbox: true,
      // A payout's outcome comes quickly, so the page's live status is seen within the test.
      env: { SANDBOX_PAYOUT_DELAY_MS: '300' },
    });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const { pageErrors, newPage, waitForText, logIn } = browserSuite(() => stack, {
    stepMs: STEP_MS,
    viewport: { width: 1200, height: 900 },
  });

  /** Runs the steps, saving the page in test-artifacts/console-failure.png as it was when one failed. */
  async function withFailureScreenshot(page: Page, steps: () => Promise<void>) {
    try {
      await steps();
    } catch (error) {
      await page.screenshot({ path: FAILURE_SCREENSHOT, fullPage: true }).catch(() => undefined);
      throw error;
    }
  }

  it('an owner runs the seller loop in the console while a buyer uses the storefront', async () => {
    const owner = await newPage();
    const buyer = await newPage();
    const sku = `CONSOLE-${Math.floor(Math.random() * 1e9)}`;

    // Factory and product, a session filling live, a regular order shipped to DELIVERED, the payout account, a
    // payout refused until verified and then SUCCEEDED, a refund, and a session's order from MOQ to DELIVERED.
    await withFailureScreenshot(owner, async () => {
      // The owner registers a factory and stocks a product; every owner action works right after createFactory.
      await logIn(owner, `${stack.gatewayUrl}/console`);
      await byTestId(owner, 'factory-name').fill('Konveksi Console');
      await byTestId(owner, 'factory-city').fill('Bandung');
      await byTestId(owner, 'create-factory').click();
      await waitForText(owner, 'factory-title', /Konveksi Console/);
      await waitForText(owner, 'factory-verified', /Waiting for verification/);
      await byTestId(owner, 'product-name').fill('Kaos Polos Console');
      await byTestId(owner, 'product-price').fill('50000');
      await byTestId(owner, 'variant-name').fill('Black / L');
      await byTestId(owner, 'variant-sku').fill(sku);
      await byTestId(owner, 'variant-stock-input').fill('20');
      await byTestId(owner, 'create-product').click();
      const variantRow = owner.locator('[data-testid="variant"]').filter({ hasText: sku });
      await waitForText(owner, byTestId(variantRow, 'variant-stock'), /^20$/);
      const variantId = (await variantRow.getAttribute('data-variant-id'))!;

      // It opens a session and watches it fill while a buyer joins and pays on the storefront.
      await byTestId(owner, 'session-moq').fill('3');
      await byTestId(owner, 'session-price').fill('40000');
      await byTestId(owner, 'session-duration').fill('10');
      await byTestId(owner, 'session-duration-unit').selectOption({ label: 'minutes' });
      await byTestId(owner, 'create-session').click();
      const session = byTestId(owner, 'session').first();
      await waitForText(owner, byTestId(session, 'session-progress'), /^0\/3 paid/);
      const sessionId = (await session.getAttribute('data-session-id'))!;

      await logIn(buyer, `${stack.gatewayUrl}/demo`);
      await buyer.goto(`${stack.gatewayUrl}/demo/#/session/${sessionId}`);
      await addAddress(buyer);
      await byTestId(buyer, 'join').click();
      await payAtCheckout(buyer, stack);
      await waitForText(owner, byTestId(session, 'session-progress'), /^1\/3 paid · 1 buyer$/);

      // The same buyer places a regular order (the storefront sells only sessions) and pays it.
      const buyerToken = (await buyer.evaluate(() => localStorage.getItem('demo.token')))!;
      const { myAddresses } = (await stack.graphql('{ myAddresses { id } }', {}, { token: buyerToken })).data;
      const placeOrder = async (quantity: number) => {
        const placed = await stack.graphql(
          `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { order { id total } paymentUrl } }`,
          { input: { addressId: myAddresses[0].id, items: [{ variantId, quantity }] } },
          { token: buyerToken },
        );
        expect(placed.errors).toBeUndefined();
        expect(placed.data.createOrder.order.total).toBe(quantity * 50_000);
        await stack.payInvoice(placed.data.createOrder.paymentUrl);
        return owner.locator(`[data-testid="order"][data-order-id="${placed.data.createOrder.order.id}"]`);
      };
      const order = await placeOrder(2);

      // The owner sees it with its address, accepts it and ships it to the door.
      await waitForText(owner, byTestId(order, 'order-status'), /^PAID$/);
      await waitForText(
        owner,
        byTestId(order, 'order-address'),
        /Ayu Lestari.*Jl\. Braga No\. 10.*Bandung, Jawa Barat 40111/,
      );
      await waitForText(owner, byTestId(order, 'order-total'), /^Rp100\.000$/);
      await byTestId(order, 'accept-order').click();
      await waitForText(owner, byTestId(order, 'order-status'), /^PROCESSING$/);
      await waitForText(owner, byTestId(order, 'shipment-status'), /^PENDING$/);
      for (const [next, orderStatus] of [
        ['PICKED_UP', /^SHIPPED$/],
        ['IN_TRANSIT', /^SHIPPED$/],
        ['DELIVERED', /^DELIVERED$/],
      ] as const) {
        await order.locator(`[data-next="${next}"]`).click();
        await waitForText(owner, byTestId(order, 'shipment-status'), new RegExp(`^${next}$`));
        await waitForText(owner, byTestId(order, 'order-status'), orderStatus);
      }

      // Delivered money is available less the 3% commission; the escrow of the forming session is pending.
      await waitForText(owner, 'balance-available', /^Rp97\.000$/);
      await waitForText(owner, 'balance-commission', /^Rp3\.000$/);
      await waitForText(owner, 'balance-pending', /^Rp40\.000$/);

      await owner.locator('[data-testid="payouts"] summary').click();
      await byTestId(owner, 'payout-channel').selectOption('ID_BCA');
      await byTestId(owner, 'payout-account-number').fill('1234567890');
      await byTestId(owner, 'payout-account-holder').fill('Konveksi Console');
      await byTestId(owner, 'save-payout-account').click();
      await waitForText(owner, 'payout-account', /BCA.*7890 · Konveksi Console/);
      expect(await byTestId(owner, 'payout-account').textContent()).not.toContain('1234567890');

      // Unverified, the payout is refused and the page says why.
      // The amount starts as everything available.
      expect(await byTestId(owner, 'payout-amount').inputValue()).toBe('97000');
      await byTestId(owner, 'request-payout').click();
      await waitForText(owner, 'error', /FORBIDDEN/);

      const verified = await stack.graphql(
        'mutation ($id: ID!) { verifyFactory(factoryId: $id) { verified } }',
        { id: await factoryIdOf(owner) },
        { caller: { userId: newId(), role: 'ADMIN' } },
      );
      expect(verified.errors).toBeUndefined();
      await waitForText(owner, 'factory-verified', /^Verified$/);

      await byTestId(owner, 'request-payout').click();
      const payout = byTestId(owner, 'payout').first();
      await waitForText(owner, byTestId(payout, 'payout-status'), /^SUCCEEDED$/);
      await waitForText(owner, 'balance-paid-out', /^Rp97\.000$/);
      await waitForText(owner, 'balance-available', /^Rp0$/);

      // A paid order the factory cannot fulfil is refunded in full, and its money leaves the balance.
      const refunded = await placeOrder(1);
      await waitForText(owner, byTestId(refunded, 'order-status'), /^PAID$/);
      await waitForText(owner, 'balance-pending', /^Rp90\.000$/);
      await refunded.locator('summary').click();
      await refunded.locator('[name="reason"]').fill('Out of black dye this month');
      await byTestId(refunded, 'refund-order').click();
      await waitForText(owner, byTestId(refunded, 'order-status'), /^REFUNDED$/);
      await waitForText(owner, 'balance-pending', /^Rp40\.000$/);

      // A session that reaches its MOQ (opened through the API to end within seconds): the owner starts and
      // completes production, ships its order like a regular one, and the escrow becomes available less 3%.
      const ownerToken = (await owner.evaluate(() => localStorage.getItem('console.token')))!;
      const opened = await stack.graphql(
        `mutation ($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id } }`,
        {
          input: {
            productId: await byTestId(owner, 'product').first().getAttribute('data-product-id'),
            variantId,
            moq: 1,
            groupPrice: 30_000,
            endsAt: new Date(Date.now() + 4_000).toISOString(),
          },
        },
        { token: ownerToken },
      );
      expect(opened.errors).toBeUndefined();
      const joined = await stack.graphql(
        `mutation ($input: JoinGroupBuyingSessionInput!) { joinGroupBuyingSession(input: $input) { paymentUrl } }`,
        { input: { sessionId: opened.data.createGroupBuyingSession.id, quantity: 1, addressId: myAddresses[0].id } },
        { token: buyerToken },
      );
      expect(joined.errors).toBeUndefined();
      await stack.payInvoice(joined.data.joinGroupBuyingSession.paymentUrl);
      await owner.reload();
      const reached = owner.locator(
        `[data-testid="session"][data-session-id="${opened.data.createGroupBuyingSession.id}"]`,
      );
      await waitForText(owner, byTestId(reached, 'session-status'), /^MOQ_REACHED$/);
      // Its order arrives with the bulk orders; until they are all placed, starting is refused and retried.
      const groupOrder = byTestId(owner, 'order').filter({ hasText: 'group buying' });
      await waitForText(owner, byTestId(groupOrder, 'order-address'), /Ayu Lestari/);
      await eventually(
        'production to start',
        async () => {
          await byTestId(reached, 'start-production')
            .click({ timeout: 1000 })
            .catch(() => undefined);
          const status = byTestId(reached, 'session-status').filter({ hasText: /^IN_PRODUCTION$/ });
          return status.waitFor({ timeout: 1000 }).then(
            () => true,
            () => false,
          );
        },
        STEP_MS,
      );
      await byTestId(reached, 'complete-production').click();
      await waitForText(owner, byTestId(reached, 'session-status'), /^COMPLETED$/);
      for (const next of ['PICKED_UP', 'IN_TRANSIT', 'DELIVERED']) {
        await groupOrder.locator(`[data-next="${next}"]`).click();
        await waitForText(owner, byTestId(groupOrder, 'shipment-status'), new RegExp(`^${next}$`));
      }
      await waitForText(owner, byTestId(groupOrder, 'order-status'), /^DELIVERED$/);
      await waitForText(owner, 'balance-available', /^Rp29\.100$/);
      expect(await byTestId(owner, 'error').isVisible()).toBe(false);

      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await owner.screenshot({ path: SCREENSHOT, fullPage: true, animations: 'disabled' });
      expect(pageErrors).toEqual([]);
    });
  }, 300_000);

  /** The factory the console shows, from the API as its owner sees it. */
  async function factoryIdOf(page: Page): Promise<string> {
    const token = await page.evaluate(() => localStorage.getItem('console.token'));
    const mine = await stack.graphql('{ myFactories { id } }', {}, { token: token! });
    return mine.data.myFactories[0].id;
  }
});

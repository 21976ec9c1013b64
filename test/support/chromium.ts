import fs from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { SubgraphName } from '../../lib/services';
import type { TestStack } from './e2e';
import { freshPhone } from './users';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps dialling out, and this machine refuses it.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What the storefront (gateway/demo) calls; the factory console calls settlement too. */
export const STOREFRONT_SUBGRAPHS: SubgraphName[] = [
  'auth',
  'whatsapp',
  'product',
  'factory',
  'address',
  'payment',
  'notification',
  'order',
  'group-buying',
  'warehouse',
  'logistics',
  'reviews',
];

/** `describe` where Chromium is installed; elsewhere the suite is skipped, saying why. */
export function describeInChromium(title: string, suite: () => void): void {
  if (fs.existsSync(CHROMIUM)) {
    describe(title, suite);
  } else {
    console.warn(`"${title}" skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
    describe.skip(title, suite);
  }
}

export const byTestId = (scope: Page | Locator, id: string): Locator => scope.locator(`[data-testid="${id}"]`);

/**
 * One Chromium for the calling describe block: launched in its beforeAll, closed in its afterAll. `stack` is
 * read only when a helper runs, so it may be started by the block's own beforeAll. Every page's uncaught
 * errors land in `pageErrors`, for the test to expect none.
 */
export function browserSuite(
  stack: () => TestStack,
  options: { stepMs: number; viewport: { width: number; height: number } },
) {
  let browser: Browser;
  const pageErrors: string[] = [];
  const { stepMs } = options;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: stepMs });
  }, 2 * stepMs);

  afterAll(async () => {
    await browser?.close();
  });

  /** A page in a context of its own (its own localStorage: its own signed-in user). */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: options.viewport });
    context.setDefaultTimeout(stepMs);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  /** Waits for a locator's (or test id's) text to match, reporting the page's error banner if it never does. */
  async function waitForText(page: Page, target: Locator | string, pattern: RegExp): Promise<void> {
    const locator = typeof target === 'string' ? byTestId(page, target) : target;
    try {
      await locator.filter({ hasText: pattern }).first().waitFor({ timeout: stepMs });
    } catch (error) {
      const banner = (await byTestId(page, 'error').isVisible()) ? await byTestId(page, 'error').textContent() : '';
      throw new Error(
        `${String(target)} never matched ${pattern} (page error: ${banner || 'none'}; logs in ${stack().logDir})`,
        { cause: error },
      );
    }
  }

  async function readOtp(phone: string): Promise<string> {
    for (const deadline = Date.now() + stepMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      const response = await fetch(`${stack().sandboxUrl}/__sandbox/whatsapp/messages?to=${encodeURIComponent(phone)}`);
      const { messages } = (await response.json()) as { messages: { text: string }[] };
      const code = /\b(\d{6})\b/.exec(messages[0]?.text ?? '')?.[1];
      if (code) return code;
    }
    throw new Error(`no OTP reached ${phone}`);
  }

  /** Logs in through a page at `url` (storefront or console: the same login form) with a fresh number. */
  async function logIn(page: Page, url: string): Promise<void> {
    const local = freshPhone();
    await page.goto(url);
    await byTestId(page, 'phone').fill(local);
    await byTestId(page, 'request-otp').click();
    await waitForText(page, 'otp-hint', /__sandbox\/whatsapp\/messages/);
    await byTestId(page, 'otp').fill(await readOtp(`+62${local.slice(1)}`));
    await byTestId(page, 'verify-otp').click();
    await waitForText(page, 'current-user', /\S/);
  }

  return { pageErrors, newPage, waitForText, logIn };
}

/** Saves an address through the storefront's address form: Ayu Lestari, Jl. Braga No. 10, Bandung, Jawa Barat 40111. */
export async function addAddress(page: Page): Promise<void> {
  const form = byTestId(page, 'address-form');
  await form.locator('[name="recipientName"]').fill('Ayu Lestari');
  await form.locator('[name="line1"]').fill('Jl. Braga No. 10');
  await form.locator('[name="city"]').fill('Bandung');
  await form.locator('[name="province"]').fill('Jawa Barat');
  await form.locator('[name="postalCode"]').fill('40111');
  await byTestId(page, 'create-address').click();
}

/** Follows the storefront's pay link to the sandbox's checkout page, pays there and closes it. */
export async function payAtCheckout(page: Page, stack: TestStack): Promise<void> {
  const [checkout] = await Promise.all([page.context().waitForEvent('page'), byTestId(page, 'pay-link').click()]);
  await checkout.waitForLoadState();
  expect(checkout.url()).toMatch(new RegExp(`^${stack.sandboxUrl}/checkout/`));
  await checkout.locator('#pay button').click();
  await checkout.getByText('Paid. Thank you!').waitFor();
  await checkout.close();
}

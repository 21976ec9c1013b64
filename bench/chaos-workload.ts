import { randomInt, randomUUID } from 'node:crypto';
import { DEMO_FACTORIES, DEMO_PRODUCTS } from '../lib/demo-data';
import type { Caller } from '../lib/internal-auth';
import { type ChaosClient, type Identity, Outage, Refused, type Tally } from './chaos-client';

const CREATE_ADDRESS = `mutation($input: CreateAddressInput!) { createAddress(input: $input) { id } }`;
const CREATE_ORDER = `mutation($input: CreateOrderInput!) { createOrder(input: $input) { paymentUrl order { id } } }`;
const CANCEL_ORDER = `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "chaos soak") { id status } }`;
const ACCEPT_ORDER = `mutation($id: ID!) { acceptOrder(orderId: $id) { id shipment { id } } }`;
const SHIP = `mutation($input: UpdateShipmentStatusInput!) { updateShipmentStatus(input: $input) { id status } }`;
const CREATE_SESSION = `mutation($input: CreateGroupBuyingSessionInput!) { createGroupBuyingSession(input: $input) { id } }`;
const JOIN = `mutation($input: JoinGroupBuyingSessionInput!) { joinGroupBuyingSession(input: $input) { paymentUrl } }`;
const SESSION = `query($id: ID!) { groupBuyingSession(id: $id) { status } }`;
const CANCEL_SESSION = `mutation($id: ID!) { cancelGroupBuyingSession(sessionId: $id) { status } }`;
const START_PRODUCTION = `mutation($id: ID!) { startProduction(sessionId: $id) { status } }`;
const COMPLETE_PRODUCTION = `mutation($id: ID!) { completeProduction(sessionId: $id) { status } }`;
const SET_PAYOUT_ACCOUNT = `mutation($input: SetPayoutAccountInput!) { setPayoutAccount(input: $input) { channelCode } }`;
const BALANCE = `query($id: ID!) { factory(id: $id) { balance { available } } }`;
const REQUEST_PAYOUT = `mutation($input: RequestPayoutInput!) { requestPayout(input: $input) { id status } }`;

const MIN_PAYOUT = 10_000;

interface Buyer {
  identity: Identity;
  addressId: string;
  joined: Set<string>;
}

interface OpenSession {
  id: string;
  factoryId: string;
  owner: Caller;
  endsAt: number;
  /** The owner cancels it before it ends (refunds its paid participants). */
  cancelAt?: number;
}

/** A paid regular order the owner acts on: ships it to the end, or cancels it (a refund). */
interface PaidOrder {
  id: string;
  owner: Caller;
  fate: 'deliver' | 'cancel' | 'keep';
  tries: number;
}

export interface WorkloadOptions {
  /** Buyers acting at once. */
  concurrency: number;
  /** How long a session stays open, in ms (a random length in this range). */
  sessionMs: [number, number];
  callbackToken: string;
}

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)];
/** A product's variants as one plain list (the demo data's tuples differ per product). */
const variantsOf = (product: (typeof DEMO_PRODUCTS)[number]): readonly { id: string; price: number }[] =>
  product.variants;
const chance = (p: number) => Math.random() < p;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let phoneCounter = 0;
const phoneTag = String(randomInt(1000, 9999));
const freshPhone = () => `0858${phoneTag}${String((phoneCounter += 1)).padStart(4, '0')}`;

/**
 * Many buyers and the factory owners at once, through the public gateway as apps use it: OTP logins, regular
 * orders paid, left unpaid and cancelled, joins to sessions that reach their MOQ and sessions that fail,
 * production, shipping, owners' cancels and payouts, and Xendit's callbacks replayed twice and out of order.
 * Every call may fail while a process is down: the workload counts it and goes on.
 */
export class Workload {
  private readonly buyers: Buyer[] = [];
  private readonly sessions: OpenSession[] = [];
  /** Sessions past their end the owner still drives (production), until COMPLETED or given up. */
  private readonly endedSessions: OpenSession[] = [];
  private readonly paidOrders: PaidOrder[] = [];
  /** Every invoice the workload saw (its id at the sandbox), for callback replays and the settle phase. */
  readonly invoiceIds: string[] = [];
  private readonly owners: { caller: Caller; factoryIds: string[] }[];
  private running = true;

  constructor(
    private readonly client: ChaosClient,
    readonly tally: Tally,
    private readonly options: WorkloadOptions,
  ) {
    const ownerIds = [...new Set(DEMO_FACTORIES.map((f) => f.ownerId))];
    this.owners = ownerIds.map((userId) => ({
      caller: { userId, role: 'FACTORY_OWNER' },
      factoryIds: DEMO_FACTORIES.filter((f) => f.ownerId === userId).map((f) => f.id),
    }));
  }

  /** Payout accounts for every demo factory (one whose account fails at the bank) and a first set of buyers. */
  async prepare(buyers: number): Promise<void> {
    for (const [i, factory] of DEMO_FACTORIES.entries()) {
      const owner = this.owners.find((o) => o.factoryIds.includes(factory.id))!;
      // An account ending in 000 fails at the sandbox's bank: the money returns to available.
      const accountNumber = i === DEMO_FACTORIES.length - 1 ? '9876543000' : `12345678${i}1`;
      await this.client.graphql(
        SET_PAYOUT_ACCOUNT,
        { input: { factoryId: factory.id, channelCode: 'ID_BCA', accountNumber, accountHolderName: 'Chaos Soak' } },
        { caller: owner.caller },
      );
    }
    await Promise.all(Array.from({ length: buyers }, () => this.logIn()));
    if (this.buyers.length === 0) throw new Error('no buyer could log in before the soak');
  }

  /** Runs the buyers, the owners and the callback replays until stop() and answers once they have all ended. */
  async run(): Promise<void> {
    await Promise.all([
      ...Array.from({ length: this.options.concurrency }, () => this.buyerLoop()),
      ...this.owners.map((owner) => this.ownerLoop(owner)),
      this.replayLoop(),
    ]);
  }

  stop(): void {
    this.running = false;
  }

  private async buyerLoop(): Promise<void> {
    while (this.running) {
      const roll = Math.random();
      if (roll < 0.05) await this.logIn();
      else if (roll < 0.5) await this.regularOrder(pick(this.buyers));
      else await this.joinSession(pick(this.buyers));
      await sleep(randomInt(200, 1200));
    }
  }

  private async ownerLoop(owner: { caller: Caller; factoryIds: string[] }): Promise<void> {
    let nextPayout = Date.now() + 10_000;
    while (this.running) {
      await this.keepSessionsOpen(owner);
      await this.driveSessions(owner.caller);
      await this.driveOrders(owner.caller);
      if (Date.now() > nextPayout) {
        nextPayout = Date.now() + randomInt(8_000, 20_000);
        for (const factoryId of owner.factoryIds) await this.payout(owner.caller, factoryId);
      }
      await sleep(randomInt(500, 1500));
    }
  }

  /** OTP login as a person does it: the code arrives in the sandbox's WhatsApp inbox. */
  private async logIn(): Promise<void> {
    const buyer = await this.tally.run('login', async () => {
      const phone = freshPhone();
      const requested = await this.client.graphql(`mutation($phone: String!) { requestOtp(phone: $phone) { phone } }`, {
        phone,
      });
      const e164 = requested.requestOtp.phone as string;
      let code: string | undefined;
      // The code goes out through whatsapp, which may be down for a few seconds.
      for (let i = 0; i < 40 && !code; i += 1) {
        const inbox = await this.client.sandbox<{ messages: { text: string }[] }>(
          'GET',
          `/__sandbox/whatsapp/messages?to=${encodeURIComponent(e164)}`,
        );
        code = /\b(\d{6})\b/.exec(inbox.messages[0]?.text ?? '')?.[1];
        if (!code) await sleep(500);
      }
      if (!code) throw new Outage(`no OTP reached ${e164}`);
      const verified = await this.client.graphql(
        `mutation($phone: String!, $code: String!) { verifyOtp(phone: $phone, code: $code) { token } }`,
        { phone, code },
      );
      const identity: Identity = { token: verified.verifyOtp.token };
      const address = await this.client.graphql(
        CREATE_ADDRESS,
        {
          input: {
            recipientName: 'Chaos Buyer',
            phone,
            line1: 'Jl. Soak 1',
            city: 'Bandung',
            province: 'Jawa Barat',
            postalCode: '40111',
          },
        },
        identity,
      );
      return { identity, addressId: address.createAddress.id as string, joined: new Set<string>() };
    });
    if (buyer) this.buyers.push(buyer);
  }

  private async regularOrder(buyer: Buyer): Promise<void> {
    const product = pick(DEMO_PRODUCTS);
    const created = await this.tally.run('order.create', () =>
      this.client.graphql(
        CREATE_ORDER,
        {
          input: {
            addressId: buyer.addressId,
            items: [{ variantId: pick(variantsOf(product)).id, quantity: randomInt(1, 3) }],
            refundTo: chance(0.3) ? 'WALLET' : 'ORIGINAL_METHOD',
          },
        },
        buyer.identity,
      ),
    );
    if (!created) return;
    const orderId = created.createOrder.order.id as string;
    this.track(created.createOrder.paymentUrl);
    const roll = Math.random();
    if (roll < 0.15) return void this.tally.count('order.left-unpaid');
    if (roll < 0.3) {
      await this.tally.run('order.cancel-unpaid', () =>
        this.client.graphql(CANCEL_ORDER, { id: orderId }, buyer.identity),
      );
      return;
    }
    if (!(await this.pay('order.pay', created.createOrder.paymentUrl))) return;
    const owner = this.owners.find((o) => o.factoryIds.includes(product.factoryId))!.caller;
    const fate = chance(0.5) ? 'deliver' : chance(0.4) ? 'cancel' : 'keep';
    if (fate !== 'keep') this.paidOrders.push({ id: orderId, owner, fate, tries: 0 });
  }

  private async joinSession(buyer: Buyer): Promise<void> {
    const open = this.sessions.filter((s) => s.endsAt > Date.now() + 1000 && !buyer.joined.has(s.id));
    if (open.length === 0) return;
    const session = pick(open);
    buyer.joined.add(session.id);
    const joined = await this.tally.run('join', () =>
      this.client.graphql(
        JOIN,
        {
          input: {
            sessionId: session.id,
            quantity: randomInt(1, 4),
            addressId: buyer.addressId,
            refundTo: chance(0.3) ? 'WALLET' : 'ORIGINAL_METHOD',
          },
        },
        buyer.identity,
      ),
    );
    if (!joined) return;
    this.track(joined.joinGroupBuyingSession.paymentUrl);
    if (chance(0.15)) return void this.tally.count('join.left-unpaid');
    await this.pay('join.pay', joined.joinGroupBuyingSession.paymentUrl);
  }

  /** Pays at the sandbox's checkout as the buyer does; the sandbox then sends the PAID callback. */
  private async pay(kind: string, paymentUrl: string): Promise<boolean> {
    const invoiceId = paymentUrl.split('/').pop()!;
    const paid = await this.tally.run(kind, () =>
      this.client.sandbox('POST', `/__sandbox/xendit/invoices/${invoiceId}/pay`),
    );
    return paid !== undefined;
  }

  private track(paymentUrl: string | null | undefined): void {
    if (paymentUrl) this.invoiceIds.push(paymentUrl.split('/').pop()!);
  }

  /** Two sessions open per owner at any time: about half with a MOQ the buyers reach, half one they miss. */
  private async keepSessionsOpen(owner: { caller: Caller; factoryIds: string[] }): Promise<void> {
    const mine = this.sessions.filter((s) => s.owner === owner.caller);
    for (const session of mine) {
      if (session.cancelAt && session.cancelAt < Date.now()) {
        session.cancelAt = undefined;
        await this.tally.run('session.cancel', () =>
          this.client.graphql(CANCEL_SESSION, { id: session.id }, { caller: owner.caller }),
        );
      }
      if (session.endsAt < Date.now()) {
        this.sessions.splice(this.sessions.indexOf(session), 1);
        this.endedSessions.push(session);
      }
    }
    if (mine.filter((s) => s.endsAt > Date.now()).length >= 2) return;
    const product = pick(DEMO_PRODUCTS.filter((p) => owner.factoryIds.includes(p.factoryId)));
    const variant = pick(variantsOf(product));
    const [minMs, maxMs] = this.options.sessionMs;
    const lengthMs = randomInt(minMs, maxMs);
    const created = await this.tally.run('session.create', () =>
      this.client.graphql(
        CREATE_SESSION,
        {
          input: {
            productId: product.id,
            variantId: variant.id,
            // A few units are reached by a handful of joins; a thousand never are.
            moq: chance(0.5) ? randomInt(2, 6) : 1000,
            groupPrice: Math.floor(variant.price * 0.8),
            endsAt: new Date(Date.now() + lengthMs).toISOString(),
          },
        },
        { caller: owner.caller },
      ),
    );
    if (!created) return;
    this.sessions.push({
      id: created.createGroupBuyingSession.id,
      factoryId: product.factoryId,
      owner: owner.caller,
      endsAt: Date.now() + lengthMs,
      cancelAt: chance(0.1) ? Date.now() + lengthMs / 2 : undefined,
    });
  }

  /** Ended sessions that reached their MOQ go into production and complete it (the escrow is released). */
  private async driveSessions(owner: Caller): Promise<void> {
    for (const session of this.endedSessions.filter((s) => s.owner === owner)) {
      const read = await this.tally.run('session.read', () =>
        this.client.graphql(SESSION, { id: session.id }, { caller: owner }),
      );
      const status = read?.groupBuyingSession?.status as string | undefined;
      const done = () => this.endedSessions.splice(this.endedSessions.indexOf(session), 1);
      if (status === 'FAILED' || status === 'CANCELLED' || status === 'COMPLETED') done();
      else if (status === 'MOQ_REACHED') {
        // CONFLICT until the bulk orders are placed: tried again on the next round.
        await this.tally.run('session.start-production', () =>
          this.client.graphql(START_PRODUCTION, { id: session.id }, { caller: owner }),
        );
      } else if (status === 'IN_PRODUCTION') {
        const completed = await this.tally.run('session.complete-production', () =>
          this.client.graphql(COMPLETE_PRODUCTION, { id: session.id }, { caller: owner }),
        );
        if (completed) done();
      }
    }
  }

  /** Paid regular orders: accepted and shipped to DELIVERED (money available), or cancelled (refunded). */
  private async driveOrders(owner: Caller): Promise<void> {
    for (const order of this.paidOrders.filter((o) => o.owner === owner).slice(0, 5)) {
      const done = () => this.paidOrders.splice(this.paidOrders.indexOf(order), 1);
      order.tries += 1;
      if (order.tries > 20) {
        done();
        continue;
      }
      if (order.fate === 'cancel') {
        const cancelled = await this.tally.run('order.owner-cancel', () =>
          this.client.graphql(CANCEL_ORDER, { id: order.id }, { caller: owner }),
        );
        if (cancelled) done();
        continue;
      }
      const accepted = await this.tally.run('order.accept', () =>
        this.client.graphql(ACCEPT_ORDER, { id: order.id }, { caller: owner }),
      );
      const shipmentId = accepted?.acceptOrder?.shipment?.id as string | undefined;
      if (!shipmentId) continue;
      done();
      for (const status of ['PICKED_UP', 'IN_TRANSIT', 'DELIVERED']) {
        const moved = await this.retry(`shipment.${status.toLowerCase()}`, () =>
          this.client.graphql(SHIP, { input: { shipmentId, status } }, { caller: owner }),
        );
        if (!moved) break;
      }
    }
  }

  /** About half of what is available goes out; the factory whose account ends in 000 sees its payouts fail. */
  private async payout(owner: Caller, factoryId: string): Promise<void> {
    const balance = await this.tally.run('payout.balance', () =>
      this.client.graphql(BALANCE, { id: factoryId }, { caller: owner }),
    );
    const available = balance?.factory?.balance?.available as number | undefined;
    if (!available || available < 2 * MIN_PAYOUT) return;
    await this.tally.run('payout.request', () =>
      this.client.graphql(
        REQUEST_PAYOUT,
        { input: { factoryId, amount: Math.floor(available / 2), idempotencyKey: randomUUID() } },
        { caller: owner },
      ),
    );
  }

  /**
   * Xendit delivers a callback more than once and not always in order: a random invoice's last callback
   * again (the sandbox's redelivery), or every callback it sent, newest first, posted as Xendit posted them.
   */
  private async replayLoop(): Promise<void> {
    while (this.running) {
      await sleep(randomInt(500, 2000));
      const invoiceId = this.invoiceIds.length ? pick(this.invoiceIds) : undefined;
      if (!invoiceId) continue;
      if (chance(0.5)) {
        await this.tally.run('callback.duplicate', () =>
          this.client.sandbox('POST', `/__sandbox/xendit/invoices/${invoiceId}/callback`),
        );
        continue;
      }
      await this.tally.run('callback.out-of-order', async () => {
        const record = await this.client.sandbox<{ callbacks: { url: string; body: unknown; headers: object }[] }>(
          'GET',
          `/__sandbox/xendit/invoices/${invoiceId}`,
        );
        if (record.callbacks.length === 0) throw new Refused('NO_CALLBACK', 'nothing sent yet');
        for (const callback of [...record.callbacks].reverse()) {
          const { status } = await this.client.postCallback(
            new URL(callback.url).pathname,
            callback.body,
            callback.headers as Record<string, string>,
            this.options.callbackToken,
          );
          // 409 is a refusal by rule (e.g. a stale status); 5xx and no answer are outages.
          if (status >= 500) throw new Outage(`callback answered ${status}`);
        }
      });
    }
  }

  /** A step that must happen (a shipment moves on): tried a few times through an outage. */
  private async retry<T>(kind: string, step: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      let outage = false;
      const value = await this.tally.run(kind, async () => {
        try {
          return await step();
        } catch (error) {
          outage = error instanceof Outage;
          throw error;
        }
      });
      if (value !== undefined || !outage) return value;
      await sleep(2000);
    }
    return undefined;
  }

  /** Settling: every invoice callback the sandbox gave up on is sent again, as Xendit keeps retrying for a day. */
  async redeliverAbandonedCallbacks(): Promise<number> {
    let sent = 0;
    for (const invoiceId of this.invoiceIds) {
      const record = await this.client
        .sandbox<{ callbacks: { delivered: boolean; gaveUp: boolean; body: { status?: string } }[] }>(
          'GET',
          `/__sandbox/xendit/invoices/${invoiceId}`,
        )
        .catch(() => undefined);
      const callbacks = record?.callbacks ?? [];
      const lost = callbacks.filter(
        (c) => c.gaveUp && !callbacks.some((other) => other.delivered && other.body.status === c.body.status),
      );
      // The sandbox redelivers the invoice's last callback: its current status, which is what Xendit retries.
      if (lost.length === 0 || callbacks.at(-1)!.delivered) continue;
      const redelivered = await this.tally.run('callback.redeliver-abandoned', () =>
        this.client.sandbox('POST', `/__sandbox/xendit/invoices/${invoiceId}/callback`),
      );
      if (redelivered) sent += 1;
    }
    return sent;
  }
}

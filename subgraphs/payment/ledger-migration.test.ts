import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { dropDatabases, ensureDatabase, withDatabase } from '../../lib/database';
import { initOrm, type Orm } from '../../lib/orm';
import { newId } from '../../lib/ids';
import { capturingLogger } from '../../test/support/logs';
import { subgraph } from './index';
import { migrations } from './migrations';
import { PaymentService, paymentDeps } from './service';
import { loadConfig } from '../../lib/config';
import { FactoryMoneyService } from './factory-money';

/**
 * Migration20261203143408 against rows written before it (real PostgreSQL): `factory_payable:<f>` is renamed
 * away, a paid regular payment is pending again, and the ledger's invariants hold afterwards.
 */
describe('payment migration: factory_payable to the seller accounts', () => {
  const prefix = `paymig${randomBytes(4).toString('hex')}`;
  const databaseUrl = withDatabase(process.env.TEST_DATABASE_URL!, `${prefix}_payment`);
  const { logger } = capturingLogger();
  let orm: Orm | undefined;
  let db: Client;

  beforeAll(async () => {
    await ensureDatabase(process.env.TEST_DATABASE_URL!, `${prefix}_payment`);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await orm?.close();
    await dropDatabases(process.env.TEST_DATABASE_URL!, prefix).catch(() => undefined);
  });

  it('renames captures to pending and releases to available, and keeps every invariant', async () => {
    const before = migrations.findIndex((m) => m.name === 'Migration20261203143408');
    const old = await initOrm({
      clientUrl: databaseUrl,
      entities: subgraph.entities,
      migrations: migrations.slice(0, before),
      logger,
    });
    await old.close();

    const factoryId = newId();
    const [regular, released] = [newId(), newId()];
    await db.query(
      `insert into payments (id, user_id, order_id, factory_id, is_in_escrow, amount, description, status, escrow_status, paid_at)
       values ($1, $3, $4, $5, false, 150000, 'Old regular', 'PAID', null, now()),
              ($2, $3, null, $5, true, 90000, 'Old group buy', 'PAID', 'RELEASED', now())`,
      [regular, released, newId(), newId(), factoryId],
    );
    const legs: [string, string, string, number][] = [
      [regular, 'PAYMENT_CAPTURED', 'gateway_clearing', 150000],
      [regular, 'PAYMENT_CAPTURED', `factory_payable:${factoryId}`, -150000],
      [released, 'ESCROW_HELD', 'gateway_clearing', 90000],
      [released, 'ESCROW_HELD', 'escrow', -90000],
      [released, 'ESCROW_RELEASED', 'escrow', 90000],
      [released, 'ESCROW_RELEASED', `factory_payable:${factoryId}`, -90000],
    ];
    const groups = new Map<string, string>();
    for (const [paymentId, kind, account, amount] of legs) {
      const group = groups.get(`${paymentId}:${kind}`) ?? newId();
      groups.set(`${paymentId}:${kind}`, group);
      await db.query(
        'insert into transaction_ledger (id, group_id, account, amount, payment_id, kind) values ($1, $2, $3, $4, $5, $6)',
        [newId(), group, account, amount, paymentId, kind],
      );
    }

    orm = await initOrm({ clientUrl: databaseUrl, entities: subgraph.entities, migrations, logger });
    const accounts = await db.query(
      `select kind, account from transaction_ledger where account like 'factory%' order by kind`,
    );
    expect(accounts.rows).toEqual([
      { kind: 'ESCROW_RELEASED', account: `factory_available:${factoryId}` },
      { kind: 'PAYMENT_CAPTURED', account: `factory_pending:${factoryId}` },
    ]);
    expect((await db.query('select earnings_status from payments where id = $1', [regular])).rows).toEqual([
      { earnings_status: 'PENDING' },
    ]);
    expect(await new PaymentService(orm.em.fork(), paymentDeps(loadConfig(), logger)).ledgerInvariants()).toMatchObject(
      {
        ok: true,
        factoryMismatches: [],
        factories: [{ factoryId, released: 90000, commission: 0, available: 90000, inPayout: 0, paidOut: 0 }],
      },
    );
    expect(await new FactoryMoneyService(orm.em.fork()).balance(factoryId)).toMatchObject({
      pending: 150000,
      available: 90000,
      released: 90000,
    });
  });
});

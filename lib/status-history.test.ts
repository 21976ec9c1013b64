import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { dropDatabases, ensureDatabase, withDatabase } from './database';
import { newId } from './ids';
import { statusHistoryTriggerSql } from './status-history';
import { statusHistoryOf } from '../test/support/e2e';

/** The history triggers against real PostgreSQL, on a table shaped like every aggregate's. */
describe('status history triggers', () => {
  const prefix = `history${randomBytes(4).toString('hex')}`;
  const database = `${prefix}_triggers`;
  let db: Client;
  beforeAll(async () => {
    await ensureDatabase(process.env.TEST_DATABASE_URL!, database);
    db = new Client({ connectionString: withDatabase(process.env.TEST_DATABASE_URL!, database) });
    await db.connect();
    await db.query(`create table shipments (id uuid primary key, status varchar(16) not null)`);
    // The columns the entity's migration creates (lib/status-history.ts statusHistoryEntity).
    await db.query(
      `create table shipment_status_history (id bigserial primary key, shipment_id uuid not null, from_status varchar(40) null, to_status varchar(40) not null, changed_at timestamptz not null default clock_timestamp())`,
    );
    for (const sql of statusHistoryTriggerSql('shipments', 'shipment_status_history', 'shipment_id'))
      await db.query(sql);
  });
  afterAll(async () => {
    await db?.end();
    await dropDatabases(process.env.TEST_DATABASE_URL!, prefix);
  });

  const historyOf = (id: string) => statusHistoryOf(db, 'shipment_status_history', 'shipment_id', id);

  it('records creation and every change, and nothing for an update that keeps the status', async () => {
    const id = newId();
    await db.query(`insert into shipments values ($1, 'PENDING')`, [id]);
    await db.query(`update shipments set status = 'PENDING' where id = $1`, [id]);
    await db.query(`update shipments set status = 'SHIPPED' where id = $1 and status = 'PENDING'`, [id]);
    await db.query(`update shipments set status = 'DELIVERED' where id = $1 and status = 'PENDING'`, [id]);
    expect(await historyOf(id)).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'SHIPPED'],
    ]);
  });

  it('keeps its own time for each step of one transaction, and writes nothing when that transaction rolls back', async () => {
    const [kept, undone] = [newId(), newId()];
    await db.query('begin');
    await db.query(`insert into shipments values ($1, 'PENDING')`, [kept]);
    await db.query(`update shipments set status = 'SHIPPED' where id = $1`, [kept]);
    await db.query('commit');
    expect(await historyOf(kept)).toHaveLength(2);
    // Microsecond times differ: clock_timestamp(), where now() would give both steps the transaction's start.
    const times = await db.query(
      'select count(distinct changed_at)::int as n from shipment_status_history where shipment_id = $1',
      [kept],
    );
    expect(times.rows[0].n).toBe(2);

    await db.query('begin');
    await db.query(`insert into shipments values ($1, 'PENDING')`, [undone]);
    await db.query(`update shipments set status = 'SHIPPED' where id = $1`, [kept]);
    await db.query('rollback');
    expect(await historyOf(undone)).toEqual([]);
    expect(await historyOf(kept)).toHaveLength(2);
  });

  it('writes one row per row a bulk claim moves', async () => {
    const ids = [newId(), newId(), newId()];
    for (const id of ids) await db.query(`insert into shipments values ($1, 'PENDING')`, [id]);
    const claimed = await db.query(
      `update shipments set status = 'SHIPPED' where id = any($1) and status = 'PENDING'`,
      [ids],
    );
    expect(claimed.rowCount).toBe(3);
    for (const id of ids) expect((await historyOf(id)).map(([, to]) => to)).toEqual(['PENDING', 'SHIPPED']);
  });
});

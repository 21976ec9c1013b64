import { ConfigError, loadConfig, MIN_SECRET_LENGTH, PRODUCTION_SECRETS } from './config';

/** A production configuration that passes: strong secrets and the real providers. */
const strong = {
  NODE_ENV: 'production',
  INTERNAL_TOKEN: 'a'.repeat(MIN_SECRET_LENGTH),
  JWT_SECRET: 'b'.repeat(40),
  XENDIT_CALLBACK_TOKEN: 'c'.repeat(MIN_SECRET_LENGTH),
  XENDIT_SECRET_KEY: 'xnd_production_0123456789abcdefghijklmnop',
  WHATSAPP_TOKEN: 'EAAG'.padEnd(60, 'x'),
  XENDIT_API_URL: 'https://api.xendit.co',
  WHATSAPP_API_URL: 'https://graph.facebook.com',
  WHATSAPP_PHONE_NUMBER_ID: '109876543210987',
};

/** The lines of the refusal, keyed by the variable each names. */
function refusal(env: Record<string, string | undefined>): Record<string, string> {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    const byName = Object.fromEntries(problems.map((line) => [line.split(':')[0], line]));
    expect(Object.keys(byName)).toHaveLength(problems.length);
    return byName;
  }
  throw new Error('loadConfig accepted the configuration');
}

describe('loadConfig in production', () => {
  it('accepts strong secrets and the real providers, and seeds no demo data', () => {
    const config = loadConfig(strong);
    expect(config.NODE_ENV).toBe('production');
    expect(config.xenditApiUrl).toBe('https://api.xendit.co');
    expect(config.SEED_DEMO_DATA).toBe('false');
  });

  it('is what an unset NODE_ENV means', () => {
    const { NODE_ENV: _unset, ...rest } = strong;
    expect(loadConfig(rest).NODE_ENV).toBe('production');
    expect(Object.keys(refusal({}))).toEqual(
      expect.arrayContaining([...PRODUCTION_SECRETS, 'XENDIT_API_URL', 'WHATSAPP_API_URL']),
    );
  });

  it('refuses every development default, one line per variable', () => {
    const lines = refusal({ NODE_ENV: 'production' });
    expect(Object.keys(lines).sort()).toEqual(
      [...PRODUCTION_SECRETS, 'XENDIT_API_URL', 'WHATSAPP_API_URL', 'WHATSAPP_PHONE_NUMBER_ID'].sort(),
    );
    expect(lines.INTERNAL_TOKEN).toMatch(/not set/);
    expect(refusal({ ...strong, WHATSAPP_PHONE_NUMBER_ID: '100000000000001' })).toEqual({
      WHATSAPP_PHONE_NUMBER_ID: expect.stringMatching(/not set/),
    });
    expect(lines.XENDIT_API_URL).toMatch(/sandbox.*https:\/\/api\.xendit\.co/);
  });

  it('refuses the development defaults and dev/test values given explicitly', () => {
    const lines = refusal({
      ...strong,
      INTERNAL_TOKEN: 'dev-internal-token-change-me',
      JWT_SECRET: 'change-me-jwt-secret-at-least-32-bytes',
      XENDIT_SECRET_KEY: 'xnd_development_sandbox_key_that_is_long_enough',
      XENDIT_CALLBACK_TOKEN: 'test-callback-token-0123456789-0123456789',
    });
    expect(Object.keys(lines).sort()).toEqual([
      'INTERNAL_TOKEN',
      'JWT_SECRET',
      'XENDIT_CALLBACK_TOKEN',
      'XENDIT_SECRET_KEY',
    ]);
    for (const line of Object.values(lines)) expect(line).toMatch(/development value/);
  });

  it('refuses secrets shorter than 32 characters', () => {
    const lines = refusal({ ...strong, WHATSAPP_TOKEN: 'x'.repeat(MIN_SECRET_LENGTH - 1) });
    expect(lines).toEqual({ WHATSAPP_TOKEN: `WHATSAPP_TOKEN: is shorter than ${MIN_SECRET_LENGTH} characters` });
  });

  it.each([
    ['http://localhost:3100'],
    ['http://127.0.0.1:3100/'],
    ['http://sandbox:3100'],
    ['https://payments.internal:3100'],
  ])('refuses Xendit and WhatsApp pointing at the sandbox (%s)', (url) => {
    const lines = refusal({ ...strong, XENDIT_API_URL: url, WHATSAPP_API_URL: url });
    expect(Object.keys(lines).sort()).toEqual(['WHATSAPP_API_URL', 'XENDIT_API_URL']);
    expect(lines.XENDIT_API_URL).toMatch(/points at the local sandbox/);
  });

  it('refuses plain http to the providers and explicit demo data', () => {
    const lines = refusal({ ...strong, XENDIT_API_URL: 'http://api.xendit.co', SEED_DEMO_DATA: 'true' });
    expect(Object.keys(lines).sort()).toEqual(['SEED_DEMO_DATA', 'XENDIT_API_URL']);
    expect(lines.XENDIT_API_URL).toMatch(/https/);
  });

  it('treats a blank variable as unset, as docker compose passes an unset ${VAR}', () => {
    expect(refusal({ ...strong, INTERNAL_TOKEN: '' }).INTERNAL_TOKEN).toMatch(/not set/);
  });

  it('reports schema errors beside the production rules, still one line per variable', () => {
    const lines = refusal({ ...strong, PORT_OFFSET: 'many', INTERNAL_TOKEN: 'short' });
    expect(Object.keys(lines).sort()).toEqual(['INTERNAL_TOKEN', 'PORT_OFFSET']);
  });
});

describe('loadConfig in development and test', () => {
  it.each(['development', 'test'])('runs %s on the defaults and the sandbox', (NODE_ENV) => {
    const config = loadConfig({ NODE_ENV, PORT_OFFSET: '7' });
    expect(config.INTERNAL_TOKEN).toBe('dev-internal-token-change-me');
    expect(config.xenditApiUrl).toBe('http://localhost:3107');
    expect(config.SEED_DEMO_DATA).toBe('true');
  });
});

describe('database settings', () => {
  it('gives a subgraph its own database URL when <NAME>_DATABASE_URL is set, and none otherwise', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      GROUP_BUYING_DATABASE_URL: 'postgres://gb:secret@gb.db.internal:5432/group_buying',
    });
    expect(config.ownDatabaseUrl('group-buying')).toBe('postgres://gb:secret@gb.db.internal:5432/group_buying');
    expect(config.ownDatabaseUrl('order')).toBeUndefined();
  });

  it('refuses a <NAME>_DATABASE_URL that is not a URL', () => {
    expect(refusal({ NODE_ENV: 'test', ORDER_DATABASE_URL: 'order-db' })).toEqual({
      ORDER_DATABASE_URL: 'ORDER_DATABASE_URL: Invalid url',
    });
  });

  it('sizes each pool at 5 connections unless DB_POOL_MAX says otherwise, at least 2', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).DB_POOL_MAX).toBe(5);
    expect(loadConfig({ NODE_ENV: 'test', DB_POOL_MAX: '12' }).DB_POOL_MAX).toBe(12);
    expect(Object.keys(refusal({ NODE_ENV: 'test', DB_POOL_MAX: '1' }))).toEqual(['DB_POOL_MAX']);
  });

  it('migrates at start unless MIGRATE_ON_START is false', () => {
    expect(loadConfig(strong).MIGRATE_ON_START).toBe('true');
    expect(loadConfig({ ...strong, MIGRATE_ON_START: 'false' }).MIGRATE_ON_START).toBe('false');
    expect(Object.keys(refusal({ ...strong, MIGRATE_ON_START: 'no' }))).toEqual(['MIGRATE_ON_START']);
  });

  it('lets a migration-only process run in production without the secrets, but not with a bad database URL', () => {
    const config = loadConfig(
      { NODE_ENV: 'production', DATABASE_URL: 'postgres://db:5432/postgres' },
      { databaseOnly: true },
    );
    expect(config.NODE_ENV).toBe('production');
    expect(() => loadConfig({ NODE_ENV: 'production', PAYMENT_DATABASE_URL: 'nope' }, { databaseOnly: true })).toThrow(
      /PAYMENT_DATABASE_URL: Invalid url/,
    );
  });
});

import { Client } from 'pg';
import { SignJWT } from 'jose';
import { signSessionToken } from '../../lib/tokens';
import { newId } from '../../lib/ids';
import { loadConfig } from '../../lib/config';
import { withDatabase } from '../../lib/database';
import { createLogger } from '../../lib/logger';
import { InternalClient } from '../../lib/internal-client';
import { CLIENT_ADDRESS_HEADER, INTERNAL_TOKEN_HEADER } from '../../lib/internal-auth';
import { SessionDirectory } from '../../gateway/session-directory';
import {
  errorCode,
  type GraphQLResponse,
  startTestStack,
  type TestStack,
  TEST_INTERNAL_TOKEN,
} from '../../test/support/e2e';
import { eventually } from '../../test/support/eventually';

const JWT_SECRET = 'auth-e2e-jwt-secret-0123456789abcdef';
// The time rules themselves (expiry, resend wait, windows, backoff) are tested with a moved clock in service.test.ts.
const OTP_TTL_SECONDS = 300;
const OTP_RESEND_SECONDS = 30;
const OTP_RATE_LIMIT_PER_PHONE = 3;
const OTP_RATE_LIMIT_PER_ADDRESS = 40;
// Five wrong codes (one code's worth) cost nothing extra, so a code can be guessed wrong until it dies.
const OTP_FAILURES_BEFORE_BACKOFF = 5;
const SESSION_FEED_MAX_STALENESS_MS = 3000;

const REQUEST_OTP = `mutation($phone: String!) { requestOtp(phone: $phone) { phone expiresAt resendAfterSeconds } }`;
const VERIFY_OTP = `mutation($phone: String!, $code: String!) { verifyOtp(phone: $phone, code: $code) { token user { id phone name role } } }`;
const ME = `{ me { id phone name role } }`;

let phoneCounter = 0;
const runTag = String(Math.floor(Math.random() * 900) + 100);
/** A fresh Indonesian mobile number per test (national form), so limits and cool-downs never collide. */
function freshPhone(prefix = '0812'): string {
  phoneCounter += 1;
  return `${prefix}${runTag}${String(phoneCounter).padStart(4, '0')}`;
}
const e164 = (phone: string) => (phone.startsWith('0') ? `+62${phone.slice(1)}` : phone);

function reason(response: GraphQLResponse): unknown {
  return response.errors?.[0]?.extensions?.reason;
}

describe('auth and whatsapp through the gateway', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      // createCategory (the role probe below) asks factory whether a caller without the role owns a factory.
      subgraphs: ['auth', 'whatsapp', 'product', 'factory'],
      sandbox: true,
      env: {
        JWT_SECRET,
        OTP_TTL_SECONDS: String(OTP_TTL_SECONDS),
        OTP_RESEND_SECONDS: String(OTP_RESEND_SECONDS),
        OTP_RATE_LIMIT_PER_PHONE: String(OTP_RATE_LIMIT_PER_PHONE),
        OTP_RATE_LIMIT_PER_ADDRESS: String(OTP_RATE_LIMIT_PER_ADDRESS),
        OTP_FAILURES_BEFORE_BACKOFF: String(OTP_FAILURES_BEFORE_BACKOFF),
        SESSION_FEED_MAX_STALENESS_MS: String(SESSION_FEED_MAX_STALENESS_MS),
      },
    });
  });
  afterAll(() => stack?.stop());
  afterEach(async () => {
    await fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/faults`, { method: 'DELETE' });
  });

  async function messagesTo(phone: string): Promise<{ text: string; template: string | null }[]> {
    const response = await fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/messages?to=${encodeURIComponent(phone)}`);
    return ((await response.json()) as { messages: { text: string; template: string | null }[] }).messages;
  }

  /** The code in the newest WhatsApp message to the phone, as the user would read it. */
  async function latestCode(phone: string): Promise<string> {
    const [newest] = await messagesTo(e164(phone));
    const code = /\b(\d{6})\b/.exec(newest?.text ?? '')?.[1];
    if (!code) throw new Error(`no code was sent to ${phone}`);
    return code;
  }

  function wrongCodeFor(code: string): string {
    return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  }

  async function requestOtp(phone: string) {
    return stack.graphql(REQUEST_OTP, { phone });
  }

  async function verifyOtp(phone: string, code: string) {
    return stack.graphql(VERIFY_OTP, { phone, code });
  }

  async function login(phone: string): Promise<{ token: string; user: { id: string; phone: string; role: string } }> {
    const requested = await requestOtp(phone);
    expect(requested.errors).toBeUndefined();
    const verified = await verifyOtp(phone, await latestCode(phone));
    expect(verified.errors).toBeUndefined();
    return verified.data.verifyOtp;
  }

  /** A request to auth as the gateway forwards it: internal token and the client's address. */
  function asClient(address: string, query: string, variables: Record<string, unknown>): Promise<GraphQLResponse> {
    return fetch(`${stack.serviceUrl('auth')}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [INTERNAL_TOKEN_HEADER]: TEST_INTERNAL_TOKEN,
        [CLIENT_ADDRESS_HEADER]: address,
      },
      body: JSON.stringify({ query, variables }),
    }).then((r) => r.json() as Promise<GraphQLResponse>);
  }

  async function authDb<T>(work: (db: Client) => Promise<T>): Promise<T> {
    const db = new Client({ connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_auth`) });
    await db.connect();
    try {
      return await work(db);
    } finally {
      await db.end();
    }
  }

  const sessionIdOf = (token: string): string =>
    JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid;
  const expiryOf = (token: string): number =>
    JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp * 1000;

  async function sessionsOf(phone: string): Promise<{ userExists: boolean; sessions: number }> {
    const { status, body } = await stack.internal(
      'auth',
      'GET',
      `/api/auth/users/by-phone/${encodeURIComponent(phone)}/sessions-count`,
    );
    expect(status).toBe(200);
    return body;
  }

  /** Ends the phone's resend wait by moving its code's sending back in the database, instead of waiting. */
  async function pastResendWait(phone: string): Promise<void> {
    await authDb((db) =>
      db.query(`update otp_codes set sent_at = sent_at - interval '1 hour' where phone = $1`, [e164(phone)]),
    );
  }

  it('signs a new number in as a BUYER with the code sent over WhatsApp, then serves me and updateMe', async () => {
    const phone = freshPhone();
    const requested = await requestOtp(phone);
    expect(requested.errors).toBeUndefined();
    expect(requested.data.requestOtp.phone).toBe(e164(phone));
    expect(requested.data.requestOtp.resendAfterSeconds).toBe(OTP_RESEND_SECONDS);
    const expiresIn = Date.parse(requested.data.requestOtp.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(OTP_TTL_SECONDS * 1000 + 1000);

    const messages = await messagesTo(e164(phone));
    expect(messages).toHaveLength(1);
    expect(messages[0].template).toBe('otp_login');

    const verified = await verifyOtp(phone, await latestCode(phone));
    expect(verified.errors).toBeUndefined();
    const { token, user } = verified.data.verifyOtp;
    expect(user).toEqual({ id: expect.any(String), phone: e164(phone), name: null, role: 'BUYER' });
    expect(await sessionsOf(phone)).toEqual(expect.objectContaining({ userExists: true, sessions: 1 }));

    const me = await stack.graphql(ME, {}, { token });
    expect(me.data.me).toEqual(user);

    const renamed = await stack.graphql(
      `mutation { updateMe(input: { name: "  Siti Rahma " }) { id name } }`,
      {},
      { token },
    );
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data.updateMe).toEqual({ id: user.id, name: 'Siti Rahma' });
    expect((await stack.graphql(ME, {}, { token })).data.me.name).toBe('Siti Rahma');

    const empty = await stack.graphql(`mutation { updateMe(input: { name: "   " }) { name } }`, {}, { token });
    expect(errorCode(empty)).toBe('BAD_USER_INPUT');
    expect((await stack.graphql(ME, {}, { token })).data.me.name).toBe('Siti Rahma');

    const { status, body } = await stack.internal('auth', 'GET', `/api/auth/users/${user.id}`);
    expect(status).toBe(200);
    expect(body).toEqual({ id: user.id, phone: e164(phone), name: 'Siti Rahma', role: 'BUYER' });
  });

  it('answers me with null without a token, and updateMe with UNAUTHENTICATED', async () => {
    const me = await stack.graphql(ME);
    expect(me.errors).toBeUndefined();
    expect(me.data.me).toBeNull();
    expect(errorCode(await stack.graphql(`mutation { updateMe(input: { name: "x" }) { id } }`))).toBe(
      'UNAUTHENTICATED',
    );
    expect(errorCode(await stack.graphql(`mutation { logout }`))).toBe('UNAUTHENTICATED');
  });

  it("logout ends that token within seconds and leaves the same user's other session working", async () => {
    const phone = freshPhone();
    const first = await login(phone);
    await pastResendWait(phone);
    const second = await login(phone);
    expect(second.user.id).toBe(first.user.id);
    expect(await sessionsOf(phone)).toEqual(expect.objectContaining({ sessions: 2 }));

    const loggedOut = await stack.graphql(`mutation { logout }`, {}, { token: first.token });
    expect(loggedOut.errors).toBeUndefined();
    expect(loggedOut.data.logout).toBe(true);

    await eventually(
      'the logged-out token to be refused',
      async () => errorCode(await stack.graphql(ME, {}, { token: first.token })) === 'UNAUTHENTICATED',
      3000,
    );
    // Refused for every operation, not only auth's: the gateway itself rejects the token.
    expect(errorCode(await stack.graphql(`{ categories { id } }`, {}, { token: first.token }))).toBe('UNAUTHENTICATED');
    expect((await stack.graphql(ME, {}, { token: second.token })).data.me.id).toBe(first.user.id);

    // The revocation matters as long as the token does (the gateway forgets it then): the feed says until when.
    const feed = await stack.internal('auth', 'GET', '/api/auth/session-changes?since=0');
    expect(feed.status).toBe(200);
    const listed = feed.body.revokedSessions.find(
      (r: { sessionId: string }) => r.sessionId === sessionIdOf(first.token),
    );
    expect(Date.parse(listed.expiresAt)).toBeGreaterThanOrEqual(expiryOf(first.token));
    expect(Date.parse(listed.expiresAt)).toBeLessThan(expiryOf(first.token) + 1000);
    const current = await stack.internal('auth', 'GET', '/api/auth/session-changes/current');
    expect(current.body.revokedSessions).toContainEqual(listed);
    const after = await stack.internal('auth', 'GET', `/api/auth/session-changes?since=${feed.body.cursor}`);
    expect(after.body).toEqual({ cursor: feed.body.cursor, revokedSessions: [], roleChanges: [] });
    expect((await stack.internal('auth', 'GET', '/api/auth/session-changes?since=abc')).status).toBe(400);
  });

  it('starts a gateway from what matters now, newest first, in pages that continue the snapshot they began', async () => {
    const [first, second] = [await login(freshPhone()), await login(freshPhone())];
    await stack.internal('auth', 'POST', `/api/auth/users/${first.user.id}/role`, { role: 'FACTORY_OWNER' });
    expect((await stack.graphql(`mutation { logout }`, {}, { token: first.token })).data.logout).toBe(true);
    const current = (path: string) =>
      stack.internal('auth', 'GET', `/api/auth/session-changes/current${path}`).then((r) => r.body);

    const whole = await current('');
    expect(whole.before).toBeNull();
    expect(whole.revokedSessions[0].sessionId).toBe(sessionIdOf(first.token));
    expect(whole.roleChanges[0]).toEqual(expect.objectContaining({ userId: first.user.id, role: 'FACTORY_OWNER' }));

    const pages = [await current('?limit=2')];
    expect(pages[0].cursor).toBe(whole.cursor);
    // A change after the first page belongs to the feed that follows the snapshot, not to its later pages.
    expect((await stack.graphql(`mutation { logout }`, {}, { token: second.token })).data.logout).toBe(true);
    while (pages[pages.length - 1].before) {
      pages.push(await current(`?cursor=${whole.cursor}&before=${pages[pages.length - 1].before}&limit=2`));
    }
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flatMap((page) => page.revokedSessions)).toEqual(whole.revokedSessions);
    expect(pages.flatMap((page) => page.roleChanges)).toEqual(whole.roleChanges);
    const followed = await stack.internal('auth', 'GET', `/api/auth/session-changes?since=${whole.cursor}`);
    expect(followed.body.revokedSessions.map((r: { sessionId: string }) => r.sessionId)).toEqual([
      sessionIdOf(second.token),
    ]);

    for (const bad of ['?limit=0', '?limit=1001', '?cursor=abc', '?before=5']) {
      expect((await stack.internal('auth', 'GET', `/api/auth/session-changes/current${bad}`)).status).toBe(400);
    }
  });

  it('refuses a wrong code without creating a session, and the right code still works after it', async () => {
    const phone = freshPhone();
    await requestOtp(phone);
    const code = await latestCode(phone);
    const wrong = await verifyOtp(phone, wrongCodeFor(code));
    expect(errorCode(wrong)).toBe('BAD_USER_INPUT');
    expect(reason(wrong)).toBe('OTP_WRONG_CODE');
    expect(wrong.errors![0].extensions!.attemptsLeft).toBe(4);
    expect(wrong.data).toBeNull();
    expect(await sessionsOf(phone)).toEqual(expect.objectContaining({ userExists: false, sessions: 0 }));

    const malformed = await verifyOtp(phone, '12ab56');
    expect(errorCode(malformed)).toBe('BAD_USER_INPUT');

    const right = await verifyOtp(phone, code);
    expect(right.errors).toBeUndefined();
    // A code works once.
    const again = await verifyOtp(phone, code);
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
    expect(reason(again)).toBe('OTP_NOT_REQUESTED');
    expect(await sessionsOf(phone)).toEqual(expect.objectContaining({ userExists: true, sessions: 1 }));
  });

  it('kills the code after five attempts: the sixth fails even with the right code', async () => {
    const phone = freshPhone();
    await requestOtp(phone);
    const code = await latestCode(phone);
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const wrong = await verifyOtp(phone, wrongCodeFor(code));
      expect(reason(wrong)).toBe('OTP_WRONG_CODE');
      expect(wrong.errors![0].extensions!.attemptsLeft).toBe(5 - attempt);
    }
    const sixth = await verifyOtp(phone, code);
    expect(errorCode(sixth)).toBe('BAD_USER_INPUT');
    expect(reason(sixth)).toBe('OTP_TOO_MANY_ATTEMPTS');
    expect(sixth.errors![0].message).toMatch(/request a new one/);
    expect(await sessionsOf(phone)).toEqual(expect.objectContaining({ userExists: false, sessions: 0 }));
  });

  it('refuses a resend within the cool-down and keeps the first code valid', async () => {
    const phone = freshPhone();
    expect((await requestOtp(phone)).errors).toBeUndefined();
    const code = await latestCode(phone);
    const tooSoon = await requestOtp(phone);
    expect(errorCode(tooSoon)).toBe('BAD_USER_INPUT');
    expect(reason(tooSoon)).toBe('OTP_RESEND_TOO_SOON');
    expect(tooSoon.errors![0].extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(tooSoon.errors![0].extensions!.retryAfterSeconds).toBeLessThanOrEqual(OTP_RESEND_SECONDS);
    expect(await messagesTo(e164(phone))).toHaveLength(1);
    expect((await verifyOtp(phone, code)).errors).toBeUndefined();
  });

  it('limits requests per phone, and sends nothing for a refused one', async () => {
    const phone = freshPhone();
    for (let i = 0; i < OTP_RATE_LIMIT_PER_PHONE; i += 1) {
      if (i > 0) await pastResendWait(phone);
      expect((await requestOtp(phone)).errors).toBeUndefined();
    }
    const lastCode = await latestCode(phone);
    await pastResendWait(phone);
    const limited = await requestOtp(phone);
    expect(errorCode(limited)).toBe('BAD_USER_INPUT');
    expect(reason(limited)).toBe('RATE_LIMITED');
    expect(limited.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(0);
    expect(await messagesTo(e164(phone))).toHaveLength(OTP_RATE_LIMIT_PER_PHONE);
    // The refused request did not replace the code the user already has.
    expect((await verifyOtp(phone, lastCode)).errors).toBeUndefined();
  });

  describe('limits requests per client address (as forwarded by the gateway)', () => {
    const requestFrom = (address: string, phone: string) => asClient(address, REQUEST_OTP, { phone });
    /** Spends an address's whole budget; malformed numbers count too (and send nothing). */
    async function exhaust(address: string) {
      for (let i = 0; i < OTP_RATE_LIMIT_PER_ADDRESS; i += 1) {
        expect(reason(await requestFrom(address, 'not-a-phone'))).toBeUndefined();
      }
    }

    it('an IPv4 address, also written as IPv4-mapped IPv6', async () => {
      await exhaust('203.0.113.9');
      const limited = await requestFrom('203.0.113.9', freshPhone());
      expect(errorCode(limited)).toBe('BAD_USER_INPUT');
      expect(reason(limited)).toBe('RATE_LIMITED');
      expect(reason(await requestFrom('::ffff:203.0.113.9', freshPhone()))).toBe('RATE_LIMITED');
      const otherClient = await requestFrom('203.0.113.10', freshPhone());
      expect(otherClient.errors).toBeUndefined();
    });

    it('IPv6 addresses by their /64: one subscriber cannot spread over its own prefix', async () => {
      await exhaust('2001:db8:7:1::a');
      expect(reason(await requestFrom('2001:db8:7:1:ffff:ffff:ffff:b', freshPhone()))).toBe('RATE_LIMITED');
      expect(reason(await requestFrom('2001:0db8:0007:0001::c', freshPhone()))).toBe('RATE_LIMITED');
      const nextPrefix = await requestFrom('2001:db8:7:2::a', freshPhone());
      expect(nextPrefix.errors).toBeUndefined();
    });
  });

  it.each([['not-a-phone'], ['12345'], ['+0812345678'], ['0812']])('refuses the malformed phone %p', async (phone) => {
    const requested = await requestOtp(phone);
    expect(errorCode(requested)).toBe('BAD_USER_INPUT');
    expect(requested.errors![0].extensions!.fields).toEqual(['phone']);
    const verified = await verifyOtp(phone, '123456');
    expect(errorCode(verified)).toBe('BAD_USER_INPUT');
  });

  it('refuses a code for a number that never asked for one', async () => {
    const phone = freshPhone();
    const verified = await verifyOtp(phone, '123456');
    expect(errorCode(verified)).toBe('BAD_USER_INPUT');
    expect(reason(verified)).toBe('OTP_NOT_REQUESTED');
    expect(await sessionsOf(phone)).toEqual(expect.objectContaining({ userExists: false, sessions: 0 }));
  });

  it('delivers the code once when WhatsApp answers 500 twice before 200', async () => {
    const faults = await fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 500, count: 2 }),
    });
    expect(faults.status).toBe(204);
    const phone = freshPhone();
    const requested = await requestOtp(phone);
    expect(requested.errors).toBeUndefined();
    expect(await messagesTo(e164(phone))).toHaveLength(1);
    expect((await verifyOtp(phone, await latestCode(phone))).errors).toBeUndefined();
  });

  it('tells the user when the number cannot receive WhatsApp messages, and leaves no usable code', async () => {
    const phone = freshPhone('08991');
    const requested = await requestOtp(phone);
    expect(errorCode(requested)).toBe('BAD_USER_INPUT');
    expect(reason(requested)).toBe('WHATSAPP_UNDELIVERABLE');
    expect(requested.errors![0].message).toBe('This number cannot receive WhatsApp messages');
    expect(await messagesTo(e164(phone))).toHaveLength(0);
    expect(reason(await verifyOtp(phone, '123456'))).toBe('OTP_NOT_REQUESTED');
    // No cool-down is held by a code that was never delivered.
    expect(reason(await requestOtp(phone))).toBe('WHATSAPP_UNDELIVERABLE');
  });

  it('reports a failure (not bad input) when WhatsApp keeps refusing the message, and leaves no usable code', async () => {
    // Two: whatsapp does not retry a 400, auth retries its 502 once.
    await fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 400, count: 2 }),
    });
    const phone = freshPhone();
    const requested = await requestOtp(phone);
    // A real failure, not bad input: the gateway hides the details of INTERNAL_SERVER_ERROR.
    expect(errorCode(requested)).toBe('INTERNAL_SERVER_ERROR');
    expect(await messagesTo(e164(phone))).toHaveLength(0);
    expect(reason(await verifyOtp(phone, '123456'))).toBe('OTP_NOT_REQUESTED');
  });

  describe('forged and broken tokens are UNAUTHENTICATED', () => {
    const claims = () => ({ role: 'ADMIN', sid: newId() });
    const key = (secret: string) => new TextEncoder().encode(secret);

    const cases: [string, () => Promise<string>][] = [
      [
        'signed with another secret',
        () =>
          signSessionToken(
            { userId: newId(), role: 'ADMIN', sessionId: newId() },
            'some-other-secret-0123456789abcdef',
            600,
          ),
      ],
      [
        'expired',
        () =>
          new SignJWT(claims())
            .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
            .setSubject(newId())
            .setIssuer('group-buying-auth')
            .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
            .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
            .sign(key(JWT_SECRET)),
      ],
      [
        'alg none',
        async () => {
          const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
          const now = Math.floor(Date.now() / 1000);
          return `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims(), sub: newId(), iss: 'group-buying-auth', iat: now, exp: now + 600 })}.`;
        },
      ],
      [
        'HS512 with the right secret',
        () =>
          new SignJWT(claims())
            .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
            .setSubject(newId())
            .setIssuer('group-buying-auth')
            .setIssuedAt()
            .setExpirationTime('10m')
            .sign(key(JWT_SECRET)),
      ],
      ['garbage', async () => 'not.a.jwt'],
    ];

    it.each(cases)('%s', async (_name, makeToken) => {
      const token = await makeToken();
      expect(errorCode(await stack.graphql(ME, {}, { token }))).toBe('UNAUTHENTICATED');
      expect(errorCode(await stack.graphql(`{ categories { id } }`, {}, { token }))).toBe('UNAUTHENTICATED');
    });

    it('a well-formed token from the same secret is accepted (the cases above fail for their flaw alone)', async () => {
      const token = await signSessionToken({ userId: newId(), role: 'BUYER', sessionId: newId() }, JWT_SECRET, 600);
      const result = await stack.graphql(`{ categories { id } }`, {}, { token });
      expect(result.errors).toBeUndefined();
    });

    it('a non-Bearer Authorization header', async () => {
      const response = await fetch(`${stack.gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Basic dXNlcjpwYXNz' },
        body: JSON.stringify({ query: ME }),
      });
      expect(errorCode((await response.json()) as GraphQLResponse)).toBe('UNAUTHENTICATED');
    });
  });

  describe('role changes', () => {
    const CREATE_CATEGORY = `mutation($name: String!) { createCategory(input: { name: $name }) { id } }`;

    it('make an existing token act as FACTORY_OWNER within seconds', async () => {
      const { token, user } = await login(freshPhone());
      expect(errorCode(await stack.graphql(CREATE_CATEGORY, { name: `Batik ${runTag}` }, { token }))).toBe('FORBIDDEN');

      const raised = await stack.internal('auth', 'POST', `/api/auth/users/${user.id}/role`, { role: 'FACTORY_OWNER' });
      expect(raised).toEqual({ status: 200, body: { id: user.id, role: 'FACTORY_OWNER' } });

      let attempt = 0;
      await eventually(
        'the raised role to be honoured',
        async () => {
          attempt += 1;
          return (
            (await stack.graphql(CREATE_CATEGORY, { name: `Batik ${runTag} ${attempt}` }, { token })).errors ===
            undefined
          );
        },
        3000,
      );
      expect((await stack.graphql(ME, {}, { token })).data.me.role).toBe('FACTORY_OWNER');
    });

    it('are idempotent, never downgrade an ADMIN, and enter the feed once', async () => {
      const { user } = await login(freshPhone());
      const before = (await stack.internal('auth', 'GET', '/api/auth/session-changes?since=0')).body.cursor;
      const path = `/api/auth/users/${user.id}/role`;
      expect((await stack.internal('auth', 'POST', path, { role: 'FACTORY_OWNER' })).body.role).toBe('FACTORY_OWNER');
      expect((await stack.internal('auth', 'POST', path, { role: 'FACTORY_OWNER' })).body.role).toBe('FACTORY_OWNER');
      expect((await stack.internal('auth', 'POST', path, { role: 'ADMIN' })).body.role).toBe('ADMIN');
      expect(await stack.internal('auth', 'POST', path, { role: 'FACTORY_OWNER' })).toEqual({
        status: 200,
        body: { id: user.id, role: 'ADMIN' },
      });
      expect((await stack.internal('auth', 'POST', path, { role: 'BUYER' })).body.role).toBe('ADMIN');

      const feed = await stack.internal('auth', 'GET', `/api/auth/session-changes?since=${before}`);
      expect(
        feed.body.roleChanges.map(({ userId, role }: { userId: string; role: string }) => ({ userId, role })),
      ).toEqual([
        { userId: user.id, role: 'FACTORY_OWNER' },
        { userId: user.id, role: 'ADMIN' },
      ]);
      // A change matters until the tokens from before it have expired (JWT_TTL_SECONDS, 7 days here).
      for (const { expiresAt } of feed.body.roleChanges)
        expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);
      expect((await stack.internal('auth', 'GET', `/api/auth/users/${user.id}`)).body.role).toBe('ADMIN');
    });

    it('refuse unknown users and roles', async () => {
      expect(
        (await stack.internal('auth', 'POST', `/api/auth/users/${newId()}/role`, { role: 'FACTORY_OWNER' })).status,
      ).toBe(404);
      expect(
        (await stack.internal('auth', 'POST', `/api/auth/users/not-an-id/role`, { role: 'FACTORY_OWNER' })).status,
      ).toBe(404);
      expect((await stack.internal('auth', 'GET', `/api/auth/users/${newId()}`)).status).toBe(404);
      const { user } = await login(freshPhone());
      const badRole = await stack.internal('auth', 'POST', `/api/auth/users/${user.id}/role`, { role: 'KING' });
      expect(badRole.status).toBe(400);
      expect(badRole.body.error.code).toBe('BAD_USER_INPUT');
    });
  });

  it('keeps the internal endpoints internal', async () => {
    const response = await fetch(`${stack.serviceUrl('auth')}/api/auth/session-changes?since=0`);
    expect(response.status).toBe(401);
    expect((await fetch(`${stack.serviceUrl('auth')}/api/auth/session-changes/current`)).status).toBe(401);
  });

  // Last in this file: it kills auth and the gateway, and leaves auth minting 3-second tokens.
  describe('when the gateway cannot confirm sessions with auth', () => {
    const CREATE_CATEGORY = `mutation($name: String!) { createCategory(input: { name: $name }) { id } }`;
    const CATEGORIES = `{ categories { id } }`;

    /** The raw answer, to see the HTTP status and headers as well. */
    async function asHolderOf(token: string) {
      const response = await fetch(`${stack.gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: CATEGORIES }),
      });
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: (await response.json()) as GraphQLResponse,
      };
    }

    it('refuses tokens (not anonymous calls) while auth is away, before and after a gateway restart, and recovers', async () => {
      const owner = await login(freshPhone());
      await stack.internal('auth', 'POST', `/api/auth/users/${owner.user.id}/role`, { role: 'FACTORY_OWNER' });
      const leaver = await login(freshPhone());
      expect((await stack.graphql(`mutation { logout }`, {}, { token: leaver.token })).data.logout).toBe(true);
      await eventually(
        'the logged-out token to be refused',
        async () => (await asHolderOf(leaver.token)).status === 401,
        3000,
      );

      await stack.stack.kill('auth');
      const refused = await eventually('tokens to be refused', async () => {
        const answer = await asHolderOf(owner.token);
        return answer.status !== 200 && answer;
      });
      expect(refused.status).toBe(503);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      expect(errorCode(refused.body)).toBe('UNAUTHENTICATED');
      expect(refused.body.errors![0].extensions!.reason).toBe('SESSION_UNCONFIRMED');
      expect(refused.body.errors![0].message).toMatch(/cannot be confirmed/);
      // Still known as revoked: refused as such, not merely unconfirmed.
      expect((await asHolderOf(leaver.token)).status).toBe(401);
      const anonymous = await stack.graphql(CATEGORIES);
      expect(anonymous.errors).toBeUndefined();
      expect(anonymous.data.categories.length).toBeGreaterThan(0);

      // A gateway that starts while auth is away has never read the feed: it refuses tokens from the start.
      await stack.stack.restart('gateway');
      const fresh = await asHolderOf(owner.token);
      expect(fresh.status).toBe(503);
      expect(fresh.body.errors![0].extensions!.reason).toBe('SESSION_UNCONFIRMED');
      expect((await stack.graphql(CATEGORIES)).errors).toBeUndefined();

      // Auth comes back (minting short tokens, for the test below): the new gateway loads what still
      // matters, so the revocation and the role change from before its start both hold.
      await stack.stack.startOne('auth', { JWT_TTL_SECONDS: '3' });
      await eventually(
        'tokens to be confirmed again',
        async () => (await asHolderOf(owner.token)).status === 200,
        10_000,
      );
      const created = await stack.graphql(CREATE_CATEGORY, { name: `Songket ${runTag}` }, { token: owner.token });
      expect(created.errors).toBeUndefined();
      const revoked = await asHolderOf(leaver.token);
      expect(revoked.status).toBe(401);
      expect(revoked.body.errors![0].extensions!.reason).toBeUndefined();
      expect(errorCode(revoked.body)).toBe('UNAUTHENTICATED');
    });

    it('forgets a revocation once its token has expired, and so does the feed', async () => {
      const { token } = await login(freshPhone());
      const sessionId = sessionIdOf(token);
      expect(expiryOf(token) - Date.now()).toBeLessThanOrEqual(3000);
      const before = (await stack.internal('auth', 'GET', '/api/auth/session-changes/current')).body.cursor;
      expect((await stack.graphql(`mutation { logout }`, {}, { token })).data.logout).toBe(true);

      const directory = new SessionDirectory(
        new InternalClient(loadConfig(stack.env)),
        createLogger('test', 'silent'),
        true,
        60_000,
      );
      await directory.refresh();
      expect(await directory.standing(sessionId)).toBe('REVOKED');
      const held = directory.revokedCount;
      const current = await stack.internal('auth', 'GET', '/api/auth/session-changes/current');
      // Newest first: the revocation just made leads.
      expect(current.body.revokedSessions[0].sessionId).toBe(sessionId);

      await eventually(
        'the revocation to be forgotten',
        async () => {
          await directory.refresh();
          return directory.revokedCount === held - 1;
        },
        10_000,
      );
      expect(await directory.standing(sessionId)).toBe('OPEN');
      // The gateway refuses the token all the same: it has expired.
      expect((await asHolderOf(token)).status).toBe(401);
      const later = await stack.internal('auth', 'GET', '/api/auth/session-changes/current');
      expect(later.body.revokedSessions.map((r: { sessionId: string }) => r.sessionId)).not.toContain(sessionId);
      const replay = await stack.internal('auth', 'GET', `/api/auth/session-changes?since=${before}`);
      expect(replay.body.revokedSessions).toEqual([]);
      expect(BigInt(replay.body.cursor)).toBeGreaterThan(BigInt(before));
    });
  });
});

import { loadConfig } from '../../lib/config';
import { isAppError } from '../../lib/errors';
import { openServiceDatabase, type ServiceDatabase } from '../../test/support/service-db';
import { TestClock } from '../../test/support/clock';
import { migrations } from './migrations';
import { AUTH_ENTITIES } from './index';
import { AuthService } from './service';

const OTP_TTL_SECONDS = 300;
const OTP_RESEND_SECONDS = 30;
const OTP_RATE_LIMIT_PER_PHONE = 3;
const PHONE_WINDOW_SECONDS = 600;
// Five wrong codes cost nothing extra; the sixth makes the phone wait, the seventh twice as long, the eighth locks it for the day.
const OTP_FAILURES_BEFORE_BACKOFF = 5;
const OTP_MAX_FAILURES_PER_DAY = 8;
const OTP_FAILURE_BACKOFF_SECONDS = 30;
const DAY_SECONDS = 24 * 3600;

/**
 * The OTP time rules (expiry, resend wait, per-phone window, failure budget and backoff) in process against
 * PostgreSQL (a fresh database with the auth schema), with a clock the test moves instead of waiting.
 * What needs the running stack (WhatsApp delivery, the gateway, client addresses): auth.test.ts.
 */
describe('auth service: OTP time rules', () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    OTP_TTL_SECONDS: String(OTP_TTL_SECONDS),
    OTP_RESEND_SECONDS: String(OTP_RESEND_SECONDS),
    OTP_RATE_LIMIT_PER_PHONE: String(OTP_RATE_LIMIT_PER_PHONE),
    OTP_FAILURES_BEFORE_BACKOFF: String(OTP_FAILURES_BEFORE_BACKOFF),
    OTP_MAX_FAILURES_PER_DAY: String(OTP_MAX_FAILURES_PER_DAY),
    OTP_FAILURE_BACKOFF_SECONDS: String(OTP_FAILURE_BACKOFF_SECONDS),
  });
  let db: ServiceDatabase;
  let clock: TestClock;

  beforeAll(async () => {
    db = await openServiceDatabase('auth', { entities: AUTH_ENTITIES, migrations });
  });
  afterAll(() => db?.close());
  beforeEach(() => {
    clock = new TestClock();
  });

  const service = () => new AuthService(db.orm.em.fork(), config, undefined, clock);
  let phoneCounter = 0;
  const freshPhone = () => `+628123${String((phoneCounter += 1)).padStart(6, '0')}`;
  const wrongCodeFor = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  /** The refusal a call ends in, as its reason and extensions. */
  async function refusal(call: Promise<unknown>): Promise<Record<string, unknown> & { message: string }> {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isAppError(error)) throw new Error(`expected a refusal, got ${String(error)}`);
    expect(error.code).toBe('BAD_USER_INPUT');
    return { ...error.extensions, message: error.message };
  }
  const sessions = async (phone: string) => (await service().sessionsCount(phone)).sessions;

  it('expires a code OTP_TTL_SECONDS after it was issued: then even the right code makes no session', async () => {
    const [early, late] = [freshPhone(), freshPhone()];
    const a = await service().issueCode(early);
    const b = await service().issueCode(late);
    expect(a.expiresAt.getTime()).toBe(clock.now().getTime() + OTP_TTL_SECONDS * 1000);

    clock.advance(OTP_TTL_SECONDS - 1);
    expect((await service().verifyOtp(early, a.code)).user.phone).toBe(early);

    clock.advance(1);
    expect(await refusal(service().verifyOtp(late, b.code))).toMatchObject({ reason: 'OTP_EXPIRED' });
    expect(await sessions(late)).toBe(0);
  });

  it('refuses a resend until OTP_RESEND_SECONDS have passed, keeping the first code; then the new code replaces it', async () => {
    const phone = freshPhone();
    const first = await service().issueCode(phone);
    expect(await refusal(service().issueCode(phone))).toMatchObject({
      reason: 'OTP_RESEND_TOO_SOON',
      retryAfterSeconds: OTP_RESEND_SECONDS,
    });
    clock.advance(OTP_RESEND_SECONDS - 10);
    expect(await refusal(service().issueCode(phone))).toMatchObject({
      reason: 'OTP_RESEND_TOO_SOON',
      retryAfterSeconds: 10,
    });

    clock.advance(10);
    const second = await service().issueCode(phone);
    if (second.code !== first.code) {
      expect(await refusal(service().verifyOtp(phone, first.code))).toMatchObject({ reason: 'OTP_WRONG_CODE' });
    }
    expect((await service().verifyOtp(phone, second.code)).user.phone).toBe(phone);
  });

  it('keeps the first code when a resend is refused', async () => {
    const phone = freshPhone();
    const first = await service().issueCode(phone);
    clock.advance(OTP_RESEND_SECONDS - 1);
    expect(await refusal(service().issueCode(phone))).toMatchObject({ reason: 'OTP_RESEND_TOO_SOON' });
    expect((await service().verifyOtp(phone, first.code)).user.phone).toBe(phone);
  });

  it('limits codes per phone within its window, keeps the last code, and allows more once the window has passed', async () => {
    const phone = freshPhone();
    let last = await service().issueCode(phone);
    for (let i = 1; i < OTP_RATE_LIMIT_PER_PHONE; i += 1) {
      clock.advance(OTP_RESEND_SECONDS);
      last = await service().issueCode(phone);
    }
    clock.advance(OTP_RESEND_SECONDS);
    expect(await refusal(service().issueCode(phone))).toMatchObject({
      reason: 'RATE_LIMITED',
      retryAfterSeconds: PHONE_WINDOW_SECONDS - OTP_RATE_LIMIT_PER_PHONE * OTP_RESEND_SECONDS,
    });
    // The refused request rolled its code back: the one the user has still works.
    expect((await service().verifyOtp(phone, last.code)).user.phone).toBe(phone);

    clock.advance(PHONE_WINDOW_SECONDS - OTP_RATE_LIMIT_PER_PHONE * OTP_RESEND_SECONDS);
    const next = await service().issueCode(phone);
    expect((await service().verifyOtp(phone, next.code)).user.phone).toBe(phone);
  });

  it('bounds wrong codes per phone across codes: doubling waits, then locked for the day even with the right code', async () => {
    const phone = freshPhone();
    const first = await service().issueCode(phone);
    for (let attempt = 1; attempt <= OTP_FAILURES_BEFORE_BACKOFF; attempt += 1) {
      const wrong = await refusal(service().verifyOtp(phone, wrongCodeFor(first.code)));
      expect(wrong).toMatchObject({ reason: 'OTP_WRONG_CODE', attemptsLeft: 5 - attempt });
      expect(wrong.retryAfterSeconds).toBeUndefined();
    }
    // A new code does not reset the count: its first wrong guess is the phone's sixth, which makes it wait.
    clock.advance(OTP_RESEND_SECONDS);
    const { code } = await service().issueCode(phone);
    // Guesses in parallel queue behind each other: one is the sixth wrong code, the rest find the phone waiting.
    const guesses = await Promise.all([1, 2, 3, 4].map(() => refusal(service().verifyOtp(phone, wrongCodeFor(code)))));
    expect(guesses.map((guess) => guess.reason).sort()).toEqual([
      'OTP_TOO_MANY_FAILURES',
      'OTP_TOO_MANY_FAILURES',
      'OTP_TOO_MANY_FAILURES',
      'OTP_WRONG_CODE',
    ]);
    expect(guesses.find((guess) => guess.reason === 'OTP_WRONG_CODE')).toMatchObject({
      attemptsLeft: 4,
      retryAfterSeconds: OTP_FAILURE_BACKOFF_SECONDS,
    });

    clock.advance(OTP_FAILURE_BACKOFF_SECONDS - 1);
    expect(await refusal(service().verifyOtp(phone, code))).toMatchObject({
      reason: 'OTP_TOO_MANY_FAILURES',
      retryAfterSeconds: 1,
    });
    expect(await refusal(service().issueCode(phone))).toMatchObject({ reason: 'OTP_TOO_MANY_FAILURES' });

    // The wait is over: the seventh wrong code makes the phone wait twice as long.
    clock.advance(1);
    expect(await refusal(service().verifyOtp(phone, wrongCodeFor(code)))).toMatchObject({
      reason: 'OTP_WRONG_CODE',
      attemptsLeft: 3,
      retryAfterSeconds: 2 * OTP_FAILURE_BACKOFF_SECONDS,
    });
    clock.advance(2 * OTP_FAILURE_BACKOFF_SECONDS - 1);
    expect(await refusal(service().verifyOtp(phone, code))).toMatchObject({
      reason: 'OTP_TOO_MANY_FAILURES',
      retryAfterSeconds: 1,
    });

    // The eighth spends the day's budget: locked until a day after the first wrong code.
    clock.advance(1);
    const elapsed = OTP_RESEND_SECONDS + 3 * OTP_FAILURE_BACKOFF_SECONDS;
    expect(await refusal(service().verifyOtp(phone, wrongCodeFor(code)))).toMatchObject({
      reason: 'OTP_WRONG_CODE',
      attemptsLeft: 2,
      retryAfterSeconds: DAY_SECONDS - elapsed,
    });
    const locked = await refusal(service().verifyOtp(phone, code));
    expect(locked).toMatchObject({ reason: 'OTP_TOO_MANY_FAILURES', retryAfterSeconds: DAY_SECONDS - elapsed });
    expect(locked.message).toMatch(/try again in 24 h/);
    expect(await refusal(service().issueCode(phone))).toMatchObject({ reason: 'OTP_TOO_MANY_FAILURES' });
    expect(await sessions(phone)).toBe(0);
    // The refusals spent none of the code's attempts: only the three wrong guesses did.
    const [{ attempts }] = await db.orm.em
      .fork()
      .execute<{ attempts: number }[]>('select attempts from otp_codes where phone = ?', [phone]);
    expect(attempts).toBe(3);

    clock.advance(DAY_SECONDS - elapsed - 1);
    expect(await refusal(service().issueCode(phone))).toMatchObject({
      reason: 'OTP_TOO_MANY_FAILURES',
      retryAfterSeconds: 1,
    });
    // A day after the first wrong code the phone may sign in again, and its typos are forgotten.
    clock.advance(1);
    const fresh = await service().issueCode(phone);
    expect((await service().verifyOtp(phone, fresh.code)).user.phone).toBe(phone);
    const failures = await db.orm.em.fork().execute('select 1 from otp_failures where phone = ?', [phone]);
    expect(failures).toHaveLength(0);
  });

  it('starts a new day of the failure budget a day after its first wrong code', async () => {
    const phone = freshPhone();
    const { code } = await service().issueCode(phone);
    for (let attempt = 1; attempt <= OTP_FAILURES_BEFORE_BACKOFF; attempt += 1) {
      await refusal(service().verifyOtp(phone, wrongCodeFor(code)));
    }
    clock.advance(DAY_SECONDS);
    const next = await service().issueCode(phone);
    const wrong = await refusal(service().verifyOtp(phone, wrongCodeFor(next.code)));
    // The sixth wrong code of the old day, the first of the new: no wait.
    expect(wrong).toMatchObject({ reason: 'OTP_WRONG_CODE', attemptsLeft: 4 });
    expect(wrong.retryAfterSeconds).toBeUndefined();
  });
});

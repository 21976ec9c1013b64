import { startTestStack, type TestStack } from '../../test/support/e2e';
import { SEND_TEMPLATE_PATH } from '../../lib/contracts/seller';

/** The whatsapp service on its own, against the sandbox's Cloud API (no gateway: it is internal REST). */
describe('whatsapp sends', () => {
  let stack: TestStack;
  let phoneCounter = 0;
  const freshPhone = () =>
    `+62813${String(Date.now() % 100000).padStart(5, '0')}${String((phoneCounter += 1)).padStart(2, '0')}`;

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['whatsapp'], sandbox: true, gateway: false });
  });
  afterAll(() => stack?.stop());
  afterEach(async () => {
    await fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/faults`, { method: 'DELETE' });
  });

  const sendOtp = (body: unknown) => stack.internal('whatsapp', 'POST', '/api/whatsapp/send-otp', body);
  const inject = (status: number, count: number) =>
    fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status, count }),
    });
  const messagesTo = async (phone: string) =>
    (
      (await (
        await fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/messages?to=${encodeURIComponent(phone)}`)
      ).json()) as {
        messages: { id: string; to: string; text: string; template: string }[];
      }
    ).messages;

  it('sends the authentication template to the number without "+" and answers the message id', async () => {
    const phone = freshPhone();
    const sent = await sendOtp({ phone, code: '042137' });
    expect(sent.status).toBe(200);
    expect(sent.body.messageId).toMatch(/^wamid\./);
    const [message] = await messagesTo(phone);
    expect(message).toEqual(
      expect.objectContaining({ id: sent.body.messageId, to: phone.slice(1), template: 'otp_login' }),
    );
    expect(message.text).toContain('042137');
  });

  it('retries 429 and 5xx with backoff and sends once', async () => {
    await inject(429, 1);
    await inject(503, 1);
    const phone = freshPhone();
    const sent = await sendOtp({ phone, code: '111222' });
    expect(sent.status).toBe(200);
    expect(await messagesTo(phone)).toHaveLength(1);
  });

  it('answers 503 when the Cloud API stays down through every retry', async () => {
    await inject(500, 10);
    const phone = freshPhone();
    const sent = await sendOtp({ phone, code: '111222' });
    expect(sent.status).toBe(503);
    expect(sent.body.error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(await messagesTo(phone)).toHaveLength(0);
  });

  it('answers 400 BAD_USER_INPUT for a number that is not on WhatsApp, without retrying', async () => {
    const sent = await sendOtp({ phone: '+628991234567', code: '123456' });
    expect(sent.status).toBe(400);
    expect(sent.body.error).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'This number cannot receive WhatsApp messages',
    });
  });

  it('does not retry another 4xx and answers 502', async () => {
    await inject(400, 1);
    const phone = freshPhone();
    const sent = await sendOtp({ phone, code: '123456' });
    expect(sent.status).toBe(502);
    expect(sent.body.error.message).toMatch(/WhatsApp refused the message \(code 100\)/);
    // Had it retried, this send would have gone out.
    expect(await messagesTo(phone)).toHaveLength(0);
  });

  it.each([
    [{ phone: '081234567890', code: '123456' }],
    [{ phone: '+6281234567890', code: 'abcdef' }],
    [{ phone: '+6281234567890' }],
  ])('refuses the malformed request %p', async (body) => {
    const sent = await sendOtp(body);
    expect(sent.status).toBe(400);
    expect(sent.body.error.code).toBe('BAD_USER_INPUT');
  });

  it('is internal: no internal token, no send', async () => {
    const response = await fetch(`${stack.serviceUrl('whatsapp')}/api/whatsapp/send-otp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: '+6281234567890', code: '123456' }),
    });
    expect(response.status).toBe(401);
  });

  describe("send-template (factory owners' notices)", () => {
    const sendTemplate = (body: Record<string, unknown>) =>
      stack.internal('whatsapp', 'POST', SEND_TEMPLATE_PATH, {
        dedupeKey: `test:${Math.random()}`,
        to: freshPhone(),
        template: 'seller_notice',
        parameters: ['New order', 'Order A1 was paid.'],
        ...body,
      });

    it('sends once per dedupeKey, with the parameters on one line each, and answers the same id after', async () => {
      const to = freshPhone();
      const request = { dedupeKey: `notice:${to}`, to, parameters: ['New order', 'Order A1\nwas paid.'] };
      const concurrent = await Promise.all([sendTemplate(request), sendTemplate(request)]);
      // One sends; the other finds it sent, or still in flight (503: its caller's outbox asks again).
      expect(concurrent.map((r) => r.status).sort()).toEqual(expect.arrayContaining([200]));
      expect(concurrent.every((r) => r.status === 200 || r.status === 503)).toBe(true);
      const sent = concurrent.find((r) => r.status === 200)!.body.messageId;
      expect((await sendTemplate({ ...request, parameters: ['Other'] })).body).toEqual({ messageId: sent });
      const messages = (await messagesTo(to)) as unknown as { id: string; template: string; parameters: string[] }[];
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({
        id: sent,
        template: 'seller_notice',
        parameters: ['New order', 'Order A1 was paid.'],
      });
    });

    it('sends it when asked again after the Cloud API was down', async () => {
      const to = freshPhone();
      await inject(500, 10);
      expect((await sendTemplate({ dedupeKey: `down:${to}`, to })).status).toBe(503);
      await fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/faults`, { method: 'DELETE' });
      expect((await sendTemplate({ dedupeKey: `down:${to}`, to })).status).toBe(200);
      expect(await messagesTo(to)).toHaveLength(1);
    });

    it('answers 400 for a number not on WhatsApp and for malformed requests', async () => {
      for (const body of [
        { to: '+628991234567' },
        { to: '081234567890' },
        { template: 'Not A Template' },
        { parameters: [''] },
        { dedupeKey: '' },
      ]) {
        const answer = await sendTemplate(body);
        expect([answer.status, answer.body.error.code]).toEqual([400, 'BAD_USER_INPUT']);
      }
    });
  });

  it('reports a rejected access token as 502 (configuration), not as bad input', async () => {
    await stack.stack.restart('whatsapp', { WHATSAPP_TOKEN: 'a-token-the-cloud-api-does-not-know' });
    const sent = await sendOtp({ phone: freshPhone(), code: '123456' });
    expect(sent.status).toBe(502);
    expect(sent.body.error.message).toMatch(/code 190/);
  });
});

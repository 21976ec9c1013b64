import { CloudApiError, isRetryable, noticeTemplateMessage, otpTemplateMessage } from './cloud-api';

describe('WhatsApp Cloud API client', () => {
  it('builds the authentication template with the code in the body and the URL button', () => {
    const message = otpTemplateMessage('+6281234567890', '042137', { name: 'otp_login', language: 'id' });
    expect(message).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '6281234567890',
      type: 'template',
      template: {
        name: 'otp_login',
        language: { code: 'id' },
        components: [
          { type: 'body', parameters: [{ type: 'text', text: '042137' }] },
          { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '042137' }] },
        ],
      },
    });
  });

  it('builds a notice template with one body text parameter each, whitespace runs made one space', () => {
    const message = noticeTemplateMessage('+6281234567890', ['New order', 'Order A1\n\twas   paid.  '], {
      name: 'seller_notice',
      language: 'id',
    });
    expect(message.template).toEqual({
      name: 'seller_notice',
      language: { code: 'id' },
      components: [
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'New order' },
            { type: 'text', text: 'Order A1 was paid.' },
          ],
        },
      ],
    });
  });

  it('retries what may pass later and nothing else', () => {
    expect(isRetryable(new CloudApiError(0, undefined, 'network'))).toBe(true);
    expect(isRetryable(new CloudApiError(500, 131000, 'unknown'))).toBe(true);
    expect(isRetryable(new CloudApiError(503, undefined, 'down'))).toBe(true);
    expect(isRetryable(new CloudApiError(429, 130429, 'throughput'))).toBe(true);
    expect(isRetryable(new CloudApiError(400, 131000, 'unknown on a 400'))).toBe(true);
    expect(isRetryable(new CloudApiError(400, 131026, 'undeliverable'))).toBe(false);
    expect(isRetryable(new CloudApiError(400, 100, 'invalid parameter'))).toBe(false);
    expect(isRetryable(new CloudApiError(401, 190, 'token expired'))).toBe(false);
  });
});

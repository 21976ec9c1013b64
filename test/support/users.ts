import type { TestStack } from './e2e';

let phoneCounter = 0;
const runTag = String(Math.floor(Math.random() * 9000) + 1000);

/** A fresh Indonesian mobile number (national form), so OTP limits never collide between tests. */
export function freshPhone(): string {
  phoneCounter += 1;
  return `0857${runTag}${String(phoneCounter).padStart(4, '0')}`;
}

export interface SignedInUser {
  token: string;
  userId: string;
  phone: string;
}

/**
 * Logs in the way a person does: requestOtp, read the code from the WhatsApp message the sandbox
 * received, verifyOtp. Needs the auth and whatsapp subgraphs and the sandbox.
 */
export async function logIn(stack: TestStack, phone = freshPhone()): Promise<SignedInUser> {
  const requested = await stack.graphql(`mutation($phone: String!) { requestOtp(phone: $phone) { phone } }`, { phone });
  if (requested.errors) throw new Error(`requestOtp: ${JSON.stringify(requested.errors)}`);
  const e164 = requested.data.requestOtp.phone as string;
  const inbox = await fetch(`${stack.sandboxUrl}/__sandbox/whatsapp/messages?to=${encodeURIComponent(e164)}`);
  const [newest] = ((await inbox.json()) as { messages: { text: string }[] }).messages;
  const code = /\b(\d{6})\b/.exec(newest?.text ?? '')?.[1];
  if (!code) throw new Error(`no OTP reached ${e164}`);
  const verified = await stack.graphql(
    `mutation($phone: String!, $code: String!) { verifyOtp(phone: $phone, code: $code) { token user { id } } }`,
    { phone, code },
  );
  if (verified.errors) throw new Error(`verifyOtp: ${JSON.stringify(verified.errors)}`);
  return { token: verified.data.verifyOtp.token, userId: verified.data.verifyOtp.user.id, phone: e164 };
}

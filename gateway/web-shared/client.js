// What the storefront (/demo) and the factory console (/console) share: plain DOM and the public GraphQL API only
// (HTTP /graphql, graphql-ws on the same path). Served as is at /shared, so neither page needs a build step.
import { createClient } from './vendor/graphql-ws/client.js';

export const SESSION_PROGRESS = /* GraphQL */ `
  subscription ($sessionId: ID!) {
    groupBuyingSessionProgress(sessionId: $sessionId) {
      id
      status
      moq
      paidQuantity
      participantsCount
      progressPercent
    }
  }
`;
const NOTIFICATION_ADDED = /* GraphQL */ `
  subscription {
    notificationAdded {
      id
      type
      title
      body
    }
  }
`;

let token = null;
let ws = null;
/** The signed-in user (`{ id phone name role }`), or null; a live binding, current after each `onSession`. */
export let me = null;

export const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
export const money = (amount) => (amount == null ? '—' : `Rp${new Intl.NumberFormat('id-ID').format(amount)}`);
export const plural = (count, noun) => `${count} ${noun}${count === 1 ? '' : 's'}`;
export const when = (iso) => new Date(iso).toLocaleString();

/**
 * Creates an element; children are nodes or text, so data from the API is never parsed as HTML. An `on<event>`
 * attribute adds a listener instead.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value != null && value !== false) element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.flat().filter((child) => child != null && child !== false));
  return element;
}

/** Shows an error (or `{ code, message }`) in the page's banner, its GraphQL code first. */
export function showError(error) {
  const banner = byTestId('error');
  banner.replaceChildren(...(error.code ? [h('code', {}, error.code)] : []), error.message);
  banner.hidden = false;
}

export function clearError() {
  byTestId('error').hidden = true;
}

/** Runs a user action, showing its failure instead of losing it in the console. */
export async function attempt(action) {
  clearError();
  try {
    await action();
  } catch (error) {
    showError(error);
  }
}

/** A form whose submit runs `action(values, form)` with its buttons disabled meanwhile. */
export function onSubmit(form, action) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll('button');
    buttons.forEach((button) => (button.disabled = true));
    attempt(() => action(Object.fromEntries(new FormData(form)), form)).finally(() =>
      buttons.forEach((button) => (button.disabled = false)),
    );
  });
  return form;
}

export async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => null);
  if (body?.errors?.length) {
    throw Object.assign(new Error(body.errors[0].message), { code: body.errors[0].extensions?.code });
  }
  if (!body?.data) throw new Error(`The server answered HTTP ${response.status}`);
  return body.data;
}

/** A new socket per identity: connectionParams are only sent when a connection opens. */
function connectSocket() {
  ws?.dispose();
  ws = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/** Subscribes on the current user's socket; returns the function that stops it. */
export function subscribe(query, variables, onData) {
  return ws.subscribe(
    { query, variables },
    {
      next: ({ data, errors }) => (errors?.length ? showError(errors[0]) : onData(data)),
      // graphql-ws reports GraphQL errors as an array and a closed socket as a CloseEvent.
      error: (error) =>
        showError(
          Array.isArray(error)
            ? { code: error[0].extensions?.code, message: error[0].message }
            : { message: `Live updates stopped: ${error.reason || error.message || 'connection lost'}` },
        ),
      complete: () => {},
    },
  );
}

export function timeLeft(endsAt) {
  const seconds = Math.floor((Date.parse(endsAt) - Date.now()) / 1000);
  if (seconds <= 0) return 'ended';
  const [d, hr, m, s] = [
    Math.floor(seconds / 86400),
    Math.floor(seconds / 3600) % 24,
    Math.floor(seconds / 60) % 60,
    seconds % 60,
  ];
  if (d) return `${d}d ${hr}h left`;
  if (hr) return `${hr}h ${m}m left`;
  return `${m}m ${String(s).padStart(2, '0')}s left`;
}

/** A session's MOQ bar; `show(session)` moves it to the session's paid quantity. */
export function progressBar(attrs = {}) {
  const bar = h('div', { class: 'bar' });
  const element = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, ...attrs }, bar);
  const show = (session) => {
    bar.style.width = `${Math.min(100, session.progressPercent)}%`;
    element.setAttribute('aria-valuenow', session.paidQuantity);
    element.setAttribute('aria-valuemax', session.moq);
  };
  return { element, show };
}

export const progressText = (session) =>
  `${session.paidQuantity}/${session.moq} paid · ${plural(session.participantsCount, 'buyer')}`;

export const shipmentEvents = (events) =>
  h(
    'ol',
    { class: 'events' },
    events.map((e) => h('li', {}, `${when(e.occurredAt)} — ${e.status}`, e.description ? `: ${e.description}` : '')),
  );

/** Shows a notification over the page, the newest five at most; with `lifetimeMs`, each goes after that long. */
function toast(notification, lifetimeMs) {
  const list = byTestId('notifications');
  const shown = h(
    'div',
    { class: 'toast', 'data-testid': 'notification', 'data-type': notification.type },
    h('strong', {}, notification.title),
    h('p', {}, notification.body),
  );
  list.prepend(shown);
  if (lifetimeMs) setTimeout(() => shown.remove(), lifetimeMs);
  while (list.children.length > 5) list.lastElementChild.remove();
}

/**
 * The account both pages share: the WhatsApp OTP login card (filled into the page's `login` element, `loginNote`
 * under its title), the header's user and logout button, and the user's notifications as toasts. Calls
 * `onSession()` whenever the user changes (`me` is set then, or null) and `onNotification(notification)` for each
 * notification after its toast. The token is kept under `tokenKey`.
 */
export async function startAccount({ tokenKey, loginNote, onSession, onNotification = () => {}, toastMs = null }) {
  // Where the OTP can be read, for the login hint; the page's own config.json, which production leaves empty.
  const config = await fetch('config.json')
    .then((r) => (r.ok ? r.json() : {}))
    .catch(() => ({}));
  token = localStorage.getItem(tokenKey);
  let stopNotifications = null;
  let pendingPhone = null;

  const setToken = (value) => {
    token = value;
    if (value) localStorage.setItem(tokenKey, value);
    else localStorage.removeItem(tokenKey);
  };

  async function startSession() {
    connectSocket();
    stopNotifications?.();
    stopNotifications = null;
    me = null;
    if (token) {
      try {
        me = (await gql('{ me { id phone name role } }')).me;
      } catch (error) {
        if (error.code !== 'UNAUTHENTICATED') showError(error);
      }
      if (!me) {
        setToken(null);
        connectSocket();
      }
    }
    byTestId('current-user').textContent = me ? me.name || me.phone : '';
    byTestId('logout').hidden = !me;
    byTestId('login').hidden = Boolean(me);
    if (me)
      stopNotifications = subscribe(NOTIFICATION_ADDED, {}, ({ notificationAdded }) => {
        toast(notificationAdded, toastMs);
        onNotification(notificationAdded);
      });
    await onSession();
  }

  const requestForm = h(
    'form',
    { 'data-testid': 'otp-request-form' },
    h(
      'label',
      {},
      'Phone ',
      h('input', { name: 'phone', placeholder: '081234567890', required: true, 'data-testid': 'phone' }),
    ),
    h('button', { type: 'submit', 'data-testid': 'request-otp' }, 'Send code'),
  );
  const verifyForm = h(
    'form',
    { hidden: true, 'data-testid': 'otp-verify-form' },
    h(
      'label',
      {},
      'Code ',
      h('input', {
        name: 'code',
        inputmode: 'numeric',
        autocomplete: 'one-time-code',
        required: true,
        'data-testid': 'otp',
      }),
    ),
    h('button', { type: 'submit', 'data-testid': 'verify-otp' }, 'Log in'),
  );
  const hint = h('p', { class: 'muted', hidden: true, 'data-testid': 'otp-hint' });
  byTestId('login').replaceChildren(
    h('h2', {}, 'Log in with WhatsApp'),
    loginNote ? h('p', { class: 'muted' }, loginNote) : null,
    requestForm,
    verifyForm,
    hint,
  );

  function showOtpHint(phone) {
    if (!config.sandboxUrl) return;
    const inbox = `${config.sandboxUrl}/__sandbox/whatsapp/messages?to=`;
    hint.replaceChildren(
      'Development: no WhatsApp message is really sent; read the code at ',
      phone
        ? h('a', { href: inbox + encodeURIComponent(phone), target: '_blank' }, inbox + phone)
        : h('code', {}, `${inbox}+62…`),
    );
    hint.hidden = false;
  }

  onSubmit(requestForm, async ({ phone }) => {
    const { requestOtp } = await gql('mutation ($phone: String!) { requestOtp(phone: $phone) { phone expiresAt } }', {
      phone,
    });
    pendingPhone = requestOtp.phone;
    showOtpHint(pendingPhone);
    verifyForm.hidden = false;
    verifyForm.code.focus();
  });

  onSubmit(verifyForm, async ({ code }) => {
    const { verifyOtp } = await gql(
      'mutation ($phone: String!, $code: String!) { verifyOtp(phone: $phone, code: $code) { token } }',
      { phone: pendingPhone, code: code.trim() },
    );
    setToken(verifyOtp.token);
    verifyForm.reset();
    verifyForm.hidden = true;
    hint.hidden = true;
    await startSession();
  });

  byTestId('logout').addEventListener('click', () =>
    attempt(async () => {
      try {
        await gql('mutation { logout }');
      } finally {
        // Signed out locally even when the server could not be told.
        setToken(null);
        await startSession();
      }
    }),
  );

  showOtpHint();
  await startSession();
}

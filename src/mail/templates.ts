/**
 * The messages the service sends, as templates: a subject, a plain-text body (which carries any
 * link, for mail clients that show no HTML) and a simple HTML body. Values are escaped for HTML.
 */
export interface MessageTemplate {
  subject: string;
  text: string[];
  /** The call to action, when the message has one. */
  link?: { label: string; href: string };
}

export type Message =
  | { template: 'verify-email'; link: string }
  | { template: 'email-changed'; newEmail: string }
  | { template: 'password-reset'; link: string }
  | { template: 'password-changed' }
  | { template: 'registration-attempt' };

const TEMPLATES: {
  [K in Message['template']]: (m: Extract<Message, { template: K }>) => MessageTemplate;
} = {
  'verify-email': ({ link }) => ({
    subject: 'Confirm your email address',
    text: [
      'Please confirm that this is your email address by opening the link below.',
      'The link works once and expires; if you did not ask for this, ignore this message.',
    ],
    link: { label: 'Confirm my email address', href: link },
  }),
  'email-changed': ({ newEmail }) => ({
    subject: 'Your email address was changed',
    text: [
      `The email address of your account was changed to ${newEmail}.`,
      'If you did not do this, reset your password and contact support at once.',
    ],
  }),
  'password-reset': ({ link }) => ({
    subject: 'Reset your password',
    text: [
      'Someone (we hope you) asked to reset the password of your account. Open the link below to choose a new one.',
      'The link works once and expires; if you did not ask for this, ignore this message: your password stays as it is.',
    ],
    link: { label: 'Choose a new password', href: link },
  }),
  'password-changed': () => ({
    subject: 'Your password was changed',
    text: [
      'The password of your account was changed, and every session was ended.',
      'If you did not do this, reset your password at once.',
    ],
  }),
  'registration-attempt': () => ({
    subject: 'Someone tried to register with your address',
    text: [
      'Someone tried to create an account with this email address, which already has one.',
      'If it was you, log in instead, or reset your password if you forgot it. Otherwise you can ignore this message.',
    ],
  }),
};

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export function render(message: Message): { subject: string; text: string; html: string } {
  const t = (TEMPLATES[message.template] as (m: Message) => MessageTemplate)(message);
  const text = [
    ...t.text,
    ...(t.link ? [`${t.link.label}:`, t.link.href] : []),
    '',
    '— Latchkey',
  ].join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif">',
    ...t.text.map((line) => `<p>${escapeHtml(line)}</p>`),
    ...(t.link
      ? [`<p><a href="${escapeHtml(t.link.href)}">${escapeHtml(t.link.label)}</a></p>`]
      : []),
    '<p>— Latchkey</p></body></html>',
  ].join('\n');
  return { subject: t.subject, text, html };
}

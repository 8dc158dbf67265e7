import { html, type SafeHtml } from '../../kernel/html/html.js';
import { listIdentities, removeIdentity } from './routes.js';

export { listIdentities, removeIdentity };
export type IdentityView = Awaited<ReturnType<typeof listIdentities>>[number];

const day = (iso: string | null) => (iso ? html`<time datetime="${iso}">${iso.slice(0, 10)}</time>` : 'never');

/** The account page's section on links to upstream providers (src/features/account/account-page.ts): see each, remove one. */
export function identitiesSection(items: IdentityView[], csrf: SafeHtml): SafeHtml | string {
  if (!items.length) return '';
  return html`<section aria-labelledby="identities-heading">
<h2 id="identities-heading">Linked sign-in providers</h2>
<p>These accounts elsewhere sign you in here. Removing a link stops that.</p>
<ul class="sessions">${items.map(
    (i) => html`<li><strong>${i.provider_name}</strong>${i.email ? html` (${i.email})` : ''} · linked ${day(i.created_at)} · last used ${day(i.last_used_at)}
<form method="post" action="/account/identities/remove">${csrf}<input type="hidden" name="identity" value="${i.id}"><button type="submit" class="secondary">Remove link</button></form></li>`,
  )}</ul>
</section>`;
}

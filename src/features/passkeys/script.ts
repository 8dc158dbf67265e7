import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The browser side of passkeys: @simplewebauthn/browser's UMD bundle (global SimpleWebAuthnBrowser),
 * served from node_modules by this server (no CDN), and Warden's own small script that drives the
 * account page's "Add a passkey" form and the sign-in page's "Sign in with a passkey" button. No
 * inline script: the pages' CSP allows scripts from this origin only.
 */
function browserBundle(): string {
  const main = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  // main: <package>/script/index.js; the bundle: <package>/dist/bundle/index.umd.min.js
  return readFileSync(join(dirname(main), '..', 'dist', 'bundle', 'index.umd.min.js'), 'utf8');
}

export const SCRIPT = `'use strict';
(function () {
  var W = window.SimpleWebAuthnBrowser;
  function say(el, text) { if (el) el.textContent = text; }
  function post(url, data) {
    return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(data) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) { var e = new Error((j.errors && j.errors[0] && j.errors[0].field + ': ' + j.errors[0].message) || j.detail || 'refused'); throw e; }
          return j;
        });
      });
  }
  var supported = !!(W && window.PublicKeyCredential);
  var add = document.getElementById('passkey-add');
  if (add) {
    var addStatus = document.getElementById('passkey-add-status');
    if (!supported) { say(addStatus, 'This browser cannot create passkeys.'); add.querySelector('button').disabled = true; }
    add.addEventListener('submit', function (ev) {
      ev.preventDefault();
      say(addStatus, 'Waiting for your device…');
      var pw = add.elements.namedItem('password');
      post('/account/passkeys/options', { csrf: add.elements.namedItem('csrf').value, password: pw ? pw.value : '' })
        .then(function (options) { return W.startRegistration({ optionsJSON: options }); })
        .then(function (response) {
          add.elements.namedItem('response').value = JSON.stringify(response);
          if (pw) pw.value = '';
          add.submit();
        })
        .catch(function (e) { say(addStatus, 'The passkey was not added: ' + (e && e.message ? e.message : 'cancelled') + '.'); });
    });
  }
  var signIn = document.getElementById('passkey-signin');
  if (signIn && supported) {
    var form = signIn.form;
    var status = document.getElementById('passkey-status');
    form.hidden = false;
    signIn.addEventListener('click', function (ev) {
      ev.preventDefault();
      say(status, 'Waiting for your device…');
      post('/passkeys/options', {})
        .then(function (options) { return W.startAuthentication({ optionsJSON: options }); })
        .then(function (response) {
          form.elements.namedItem('response').value = JSON.stringify(response);
          form.submit();
        })
        .catch(function (e) { say(status, 'Signing in with a passkey did not work: ' + (e && e.message ? e.message : 'cancelled') + '.'); });
    });
  }
  var second = document.getElementById('passkey-mfa');
  if (second && supported) {
    var mfaForm = second.form;
    var mfaStatus = document.getElementById('passkey-mfa-status');
    mfaForm.hidden = false;
    second.addEventListener('click', function (ev) {
      ev.preventDefault();
      say(mfaStatus, 'Waiting for your device…');
      post('/passkeys/second-factor/options', { interaction: mfaForm.elements.namedItem('interaction').value, csrf: mfaForm.elements.namedItem('csrf').value })
        .then(function (options) { return W.startAuthentication({ optionsJSON: options }); })
        .then(function (response) {
          mfaForm.elements.namedItem('response').value = JSON.stringify(response);
          mfaForm.submit();
        })
        .catch(function (e) { say(mfaStatus, 'The passkey did not work: ' + (e && e.message ? e.message : 'cancelled') + '.'); });
    });
  }
})();
`;

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

let bundle: string | undefined;
export function bundleText(): string {
  bundle ??= browserBundle();
  return bundle;
}

/** Content-hashed URLs, cached for a year like the stylesheet. */
export const SCRIPT_URL = `/static/warden-passkeys-${hash(SCRIPT)}.js`;
export const bundleUrl = () => `/static/simplewebauthn-browser-${hash(bundleText())}.js`;

/** The two script tags a passkey page carries (the library first). */
export const scriptTags = () => [bundleUrl(), SCRIPT_URL];

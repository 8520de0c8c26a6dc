// Sign-in with an API token (SPEC §12): the token is sent once to
// POST /v1/auth/session and forgotten; the browser keeps the HttpOnly
// cookie the answer sets.

import { signIn } from './api.js';
import { h } from './dom.js';

/**
 * The sign-in form; `done` runs after a successful sign-in.
 * @param {() => void} done
 * @param {string} [note] why the form is shown (e.g. the server restarted)
 * @returns {HTMLElement}
 */
export function signInForm(done, note) {
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true,
    spellcheck: 'false', 'aria-describedby': 'token-help',
  });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const button = h('button', { type: 'submit', class: 'primary', id: 'signin-submit' }, 'Sign in');
  const form = h('form', { class: 'card signin', id: 'signin' },
    h('h1', {}, 'Sign in to acpstore'),
    note ? h('p', {}, note) : null,
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { id: 'token-help', class: 'muted' },
      'A reader, writer or admin token. A new server writes its first admin token to ',
      h('code', {}, '<data-dir>/bootstrap-admin.token'),
      '. The token is sent once and not stored; the browser keeps a session cookie.'),
    error,
    h('div', { class: 'buttons' }, button));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.textContent = '';
    button.disabled = true;
    signIn(input.value.trim()).then(() => {
      input.value = '';
      done();
    }, (/** @type {Error} */ err) => {
      error.textContent = `Sign-in failed: ${err.message}`;
      input.focus();
    }).finally(() => { button.disabled = false; });
  });
  queueMicrotask(() => input.focus());
  return form;
}

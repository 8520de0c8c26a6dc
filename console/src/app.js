// The console's entry point: a hash router over four screens (sign-in,
// sessions, one session, health) and the sign-in dialog shown when the
// server ends the browser session (expiry, revocation, a restart) while a
// screen is open, so the screen resumes where it was.

import { currentSignIn, setSignedOutHandler, signOut } from './api.js';
import { byId, h, replace, say } from './dom.js';
import { healthView } from './health.js';
import { sessionView } from './session.js';
import { sessionsView } from './sessions.js';
import { signInForm } from './signin.js';

/** @typedef {{stop: () => void, resume: () => void}} View */

const main = byId('main', HTMLElement);
/** @type {View | null} */
let view = null;

function route() {
  view?.stop();
  view = null;
  const signedIn = currentSignIn() !== null;
  byId('nav', HTMLElement).hidden = !signedIn;
  if (!signedIn) {
    document.title = 'Sign in · acpstore';
    replace(main, signInForm(() => {
      // replaceState fires no 'hashchange': route once, here.
      if (location.hash === '') history.replaceState(null, '', '#/sessions');
      route();
    }));
    return;
  }
  const s = currentSignIn();
  byId('who', HTMLSpanElement).textContent = s ? `${s.key.role} key ${s.key.id} · ${s.key.tenantId}` : '';
  const hash = location.hash.replace(/^#/, '') || '/sessions';
  const [path = '', query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const session = /^\/sessions\/(.+)$/.exec(path);
  let current = 'sessions';
  if (session?.[1] !== undefined) {
    const id = decodeURIComponent(session[1]);
    document.title = `${id} · acpstore`;
    view = sessionView(main, id);
  } else if (path === '/health') {
    document.title = 'Health · acpstore';
    current = 'health';
    view = healthView(main);
  } else {
    document.title = 'Sessions · acpstore';
    view = sessionsView(main, params);
  }
  for (const name of ['sessions', 'health']) {
    const a = byId(`nav-${name}`, HTMLAnchorElement);
    if (name === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// A 401 while a screen is open: ask for the token again in a dialog over
// the screen; on success the screen resumes (its stream from where it was).
let asking = false;
setSignedOutHandler(() => {
  if (asking || view === null) return;
  asking = true;
  const dialog = h('dialog', { id: 'resignin', 'aria-label': 'Sign in again' });
  document.body.append(dialog);
  dialog.append(signInForm(() => {
    asking = false;
    dialog.close();
    dialog.remove();
    byId('nav', HTMLElement).hidden = false;
    view?.resume();
  }, 'The server ended this browser session (it restarted, the session expired or its key was revoked). Sign in again to continue.'));
  dialog.addEventListener('cancel', (e) => e.preventDefault());
  dialog.showModal();
});

byId('sign-out', HTMLButtonElement).addEventListener('click', () => {
  signOut().catch(() => {}).finally(() => {
    say('Signed out.');
    location.hash = '';
    route();
  });
});

// The skip link moves focus without touching the hash (which routes).
document.querySelector('a.skip')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => {
  // Only "#/..." routes; anything else (an in-page anchor) is not a screen.
  if (asking || (location.hash !== '' && !location.hash.startsWith('#/'))) return;
  route();
  main.focus();
});
route();

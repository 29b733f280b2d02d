// Signing in with the gateway's admin token: checked against the read API before the dashboard opens, kept in
// this tab's sessionStorage only.

import { ApiError, api, useToken } from './api.js';
import { $, fieldValue } from './dom.js';

/** The form's submit: checks the token, remembers it, then `open`s the dashboard; or says why it was refused. */
export async function signIn(event, open) {
  event.preventDefault();
  const error = $('login-error');
  error.textContent = '';
  useToken(fieldValue('token').trim());
  try {
    await api('/v1/queries');
  } catch (e) {
    useToken(null);
    error.textContent =
      e instanceof ApiError && e.code === 'invalid_admin_token'
        ? 'That is not the admin token of this gateway (TIDEMARK_ADMIN_TOKEN). Check it and try again.'
        : e instanceof ApiError && e.code === 'read_api_disabled'
          ? 'The read API is off on this gateway: start it with TIDEMARK_ADMIN_TOKEN set.'
          : `The gateway did not answer (${e.message}).`;
    return;
  }
  useToken(fieldValue('token').trim(), true);
  await open();
}

/** Forgets the token and shows the form again, with `message` saying why when it was not the user's choice. */
export function showSignIn(message = '') {
  useToken(null);
  $('dashboard').hidden = true;
  $('controls').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  /** @type {HTMLInputElement} */ ($('token')).value = '';
}

/** Hides the form and shows the dashboard and its controls. */
export function showDashboard() {
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('controls').hidden = false;
}

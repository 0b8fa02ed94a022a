// Signing up, entering the e-mailed code, and logging in.
import { html, useState } from '../../vendor/htm/standalone.module.js';
import * as api from '../api.js';
import { navigate } from '../router.js';
import { Link, errorText } from './common.js';

function Shell({ title, children }) {
  return html`<main class="auth">
    <div class="auth-card">
      <div class="brand" aria-hidden="true"><span class="brand-mark">p</span></div>
      <h1>${title}</h1>
      ${children}
    </div>
  </main>`;
}

function useForm(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError('');
    try {
      await action(new FormData(e.currentTarget));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, submit };
}

/** Login is the sign-in screen. */
export function Login() {
  const f = useForm(async (data) => {
    const email = data.get('email').trim();
    try {
      await api.login(email, data.get('password'));
      navigate('/', { replace: true });
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 403) {
        // Signed up but never verified: send a fresh code and ask for it.
        await api.resendCode(email).catch(() => {});
        navigate(`/verify?email=${encodeURIComponent(email)}&unverified=1`);
        return;
      }
      if (err instanceof api.ApiError && err.status === 401) throw new Error('Wrong e-mail address or password.');
      throw err;
    }
  });
  return html`<${Shell} title="Log in to Plop">
    <form onSubmit=${f.submit} class="form">
      <label>E-mail address<input name="email" type="email" autocomplete="username" required /></label>
      <label>Password<input name="password" type="password" autocomplete="current-password" required /></label>
      ${f.error && html`<p class="form-error" role="alert">${f.error}</p>`}
      <button class="primary" type="submit" disabled=${f.busy}>${f.busy ? 'Logging in…' : 'Log in'}</button>
    </form>
    <p class="auth-alt">New to Plop? <${Link} href="/signup">Create an account<//></p>
  <//>`;
}

/** Signup is the account creation screen. */
export function Signup() {
  const f = useForm(async (data) => {
    const email = data.get('email').trim();
    if (data.get('password') !== data.get('password2')) throw new Error('The two passwords differ.');
    await api.signup(email, data.get('password'), data.get('name').trim());
    navigate(`/verify?email=${encodeURIComponent(email)}`);
  });
  return html`<${Shell} title="Create your account">
    <form onSubmit=${f.submit} class="form">
      <label>Your name<input name="name" autocomplete="name" required maxlength="100" /></label>
      <label>E-mail address<input name="email" type="email" autocomplete="email" required /></label>
      <label>Password<input name="password" type="password" autocomplete="new-password" required minlength="8" /></label>
      <label>Repeat the password<input name="password2" type="password" autocomplete="new-password" required minlength="8" /></label>
      ${f.error && html`<p class="form-error" role="alert">${f.error}</p>`}
      <button class="primary" type="submit" disabled=${f.busy}>${f.busy ? 'Creating…' : 'Sign up'}</button>
    </form>
    <p class="auth-alt">Already have an account? <${Link} href="/login">Log in<//></p>
  <//>`;
}

/** Verify asks for the 6-digit code e-mailed at sign-up. */
export function Verify({ params }) {
  const email = params.get('email') || '';
  const [note, setNote] = useState(params.get('unverified') ? 'Your account is not verified yet: we e-mailed you a new code.' : '');
  const f = useForm(async (data) => {
    await api.verify(email, data.get('code').trim());
    navigate('/', { replace: true });
  });
  const resend = async () => {
    f.setError('');
    try {
      await api.resendCode(email);
      setNote(`We sent a new code to ${email}.`);
    } catch (err) {
      f.setError(errorText(err));
    }
  };
  return html`<${Shell} title="Check your e-mail">
    <p class="auth-lead">Enter the 6-digit code we sent to <strong>${email}</strong>.</p>
    <form onSubmit=${f.submit} class="form">
      <label>Code<input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required /></label>
      ${note && html`<p class="form-note" role="status">${note}</p>`}
      ${f.error && html`<p class="form-error" role="alert">${f.error}</p>`}
      <button class="primary" type="submit" disabled=${f.busy}>${f.busy ? 'Checking…' : 'Verify'}</button>
    </form>
    <p class="auth-alt"><button type="button" class="link" onClick=${resend}>Resend code</button> · <${Link} href="/login">Back to log in<//></p>
  <//>`;
}

// Trades the one-time token in the URL's fragment for a session cookie.
// The fragment never leaves the browser in a request line; it is removed
// from the address bar and the history before anything else happens.
(async () => {
  const msg = document.getElementById('msg');
  const token = location.hash.slice(1);
  history.replaceState(null, '', '/login');
  if (!token) {
    msg.textContent = 'This URL has no login token. Run `vmsup web` for one.';
    return;
  }
  const res = await fetch('/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
    credentials: 'same-origin',
  });
  if (res.ok) {
    location.replace('/');
    return;
  }
  const body = await res.json().catch(() => ({}));
  msg.textContent = body.error || `login failed (${res.status})`;
})();

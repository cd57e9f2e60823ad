import { createHash } from 'node:crypto';
import { Hono } from 'hono';

/**
 * The one script the HTML pages use, served as a file (not inline) so the pages' Content-Security-Policy
 * can forbid inline script. Progressive enhancement: the buttons it drives are `hidden` in the HTML and
 * only shown by this script, so without JavaScript the page simply shows the feed URLs to copy by hand.
 */
export const COPY_SCRIPT_PATH = '/static/copy-feed-url.js';

const COPY_SCRIPT = `// Copy-feed-URL buttons of the feed preview page (syndicate).
(function () {
  'use strict';
  function fallbackCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'absolute';
    area.style.left = '-9999px';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return fallbackCopy(text); });
    }
    return Promise.resolve(fallbackCopy(text));
  }
  var buttons = document.querySelectorAll('button[data-copy]');
  Array.prototype.forEach.call(buttons, function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', function () {
      copy(button.getAttribute('data-copy')).then(function (ok) {
        button.textContent = ok ? 'Copied' : 'Press Ctrl+C to copy';
        button.setAttribute('data-copied', ok ? 'true' : 'false');
        setTimeout(function () { button.textContent = label; button.removeAttribute('data-copied'); }, 4000);
      });
    });
  });
})();
`;

const ETAG = `"${createHash('sha256').update(COPY_SCRIPT).digest('base64url').slice(0, 27)}"`;

export function createAssetsRouter() {
  const app = new Hono();
  app.get(COPY_SCRIPT_PATH, (c) => {
    const headers = { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600', ETag: ETAG, 'X-Content-Type-Options': 'nosniff' };
    if (c.req.header('if-none-match') === ETAG) return c.body(null, 304, headers);
    return c.body(COPY_SCRIPT, 200, headers);
  });
  return app;
}

/**
 * The dashboard page's Content-Security-Policy and headers (api/dashboard/page.ts):
 * the policy allows the page's own inline script and style by their sha256
 * hashes, and nothing else loads, frames or posts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLIENT_NOT_BUILT_SCRIPT } from '../../../api/dashboard/client-script.js';
import { buildDashboardPage, dashboardHeaders, renderDashboardPage } from '../../../api/dashboard/page.js';

const sha256 = (text: string): string => `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;

/** The text of the page's only `<tag …>…</tag>`, as the browser hashes it. */
function inlineText(html: string, open: string, tag: string): string {
  const start = html.indexOf(open);
  expect(start, open).toBeGreaterThan(0);
  expect(html.indexOf(open, start + 1), `a second ${open}`).toBe(-1);
  const end = html.indexOf(`</${tag}>`, start);
  return html.slice(start + open.length, end);
}

const CSP =
  /^default-src 'none'; script-src '(sha256-[A-Za-z0-9+/]{43}=)'; style-src '(sha256-[A-Za-z0-9+/]{43}=)'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'$/;

describe('the dashboard page: CSP and headers', () => {
  it('the policy allows only the inline script and style, by the sha256 of their exact text', () => {
    const page = buildDashboardPage('window.clientLoaded = 1;\r\n// </script> inside\r\n');
    const m = CSP.exec(page.csp);
    expect(m, page.csp).not.toBeNull();
    const script = inlineText(page.html, '<script type="module">', 'script');
    expect(script).toBe('\nwindow.clientLoaded = 1;\n// <\\/script> inside\n\n'); // LF only, as the HTML parser would make it
    expect(m![1]).toBe(sha256(script));
    expect(m![2]).toBe(sha256(inlineText(page.html, '<style>', 'style')));
    expect(buildDashboardPage('window.other = 2;').csp).not.toBe(page.csp); // the hash follows the script
    expect(CSP.exec(buildDashboardPage(CLIENT_NOT_BUILT_SCRIPT).csp)![1]).toBe(sha256(`\n${CLIENT_NOT_BUILT_SCRIPT}\n`));
  });

  it('the headers: CSP, nosniff, no referrer, no framing, no caching', () => {
    const page = buildDashboardPage('1;');
    expect(page.headers).toEqual({
      'content-security-policy': page.csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
    });
    expect(dashboardHeaders(page.csp)).toEqual(page.headers);
  });

  it('the page carries the same policy in a <meta> (less frame-ancestors, which a meta cannot set) before any script or style', () => {
    const page = buildDashboardPage('1;');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(page.html);
    expect(meta?.[1]).toBe(page.csp.replace("; frame-ancestors 'none'", ''));
    expect(page.html.indexOf(meta![0])).toBeLessThan(page.html.indexOf('<style>'));
    expect(page.html.indexOf(meta![0])).toBeLessThan(page.html.indexOf('<script'));
    expect(renderDashboardPage('1;')).toBe(page.html);
  });

  it('the static page has nothing the policy would block: no inline handlers or style attributes, no URL but a data: favicon', () => {
    const { html } = buildDashboardPage('1;');
    const markup = html.replace(/<style>[\s\S]*?<\/style>|<script type="module">[\s\S]*?<\/script>/g, '');
    expect(markup).not.toMatch(/\son[a-z]+\s*=/i);
    expect(markup).not.toMatch(/\sstyle\s*=/i);
    expect([...markup.matchAll(/\s(?:src|href|action)\s*=\s*"([^"]*)"/g)].map((m) => m[1])).toEqual(['data:,']);
    expect(html.match(/<script\b/g)).toHaveLength(1);
  });
});

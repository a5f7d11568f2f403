// Reports are markdown written by agents: parsed by marked, then sanitised by DOMPurify before they
// touch the page, so a report cannot run script (no <script>, no on* handlers, no javascript: URLs).
import DOMPurify from 'dompurify';
import { marked } from 'marked';

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  // Links leave the dashboard in a new tab without handing it a window.opener.
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('rel', 'noopener noreferrer');
    node.setAttribute('target', '_blank');
  }
  // An image without a text alternative is decoration to a screen reader.
  if (node.tagName === 'IMG' && !node.hasAttribute('alt')) node.setAttribute('alt', '');
});

export function renderMarkdown(source: string): DocumentFragment {
  const html = marked.parse(source, { async: false, gfm: true });
  return DOMPurify.sanitize(html, { RETURN_DOM_FRAGMENT: true, FORBID_TAGS: ['style', 'form', 'input', 'button', 'iframe'], ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i });
}

/**
 * The README and the docs/ pages hold together: every relative link and image resolves to a file
 * of the repository, every #anchor to a heading of its page (GitHub's slugs), and the README stays
 * a short newcomer's path (the rest lives in docs/).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers.js';

/** The README is at most this long: a five-minute read. */
const README_MAX_LINES = 250;

const pages = ['README.md', ...(readdirSync(join(ROOT, 'docs'), { recursive: true }) as string[]).filter((n) => n.endsWith('.md')).map((n) => join('docs', n))];

/** Markdown text without fenced code blocks and inline code, where links are not links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Every link and image target of a page: [text](target) and ![alt](target). */
function targetsOf(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
}

test('the anchor slugs follow GitHub', () => {
  const anchors = anchorsOf(
    '# Internal covariate shift and the loss landscape (Santurkar et al. 2018)\n## What the two sweeps show about each claim of Sec. 4.1\n## A `code` title\n## A `code` title\n```\n# not a heading\n```',
  );
  assert.deepEqual(
    [...anchors],
    [
      'internal-covariate-shift-and-the-loss-landscape-santurkar-et-al-2018',
      'what-the-two-sweeps-show-about-each-claim-of-sec-41',
      'a-code-title',
      'a-code-title-1',
    ],
  );
});

test('every relative link and image of the README and docs/ resolves, anchors included', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages) {
    const text = readFileSync(join(ROOT, page), 'utf8');
    for (const target of targetsOf(text)) {
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto: - not ours to check offline
      checked++;
      const [path, anchor] = target.split('#');
      const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(path));
      if (!file.startsWith(ROOT) || !existsSync(file)) {
        broken.push(`${page}: ${target} (no such file)`);
      } else if (anchor !== undefined) {
        if (!statSync(file).isFile() || !file.endsWith('.md')) broken.push(`${page}: ${target} (an anchor into a non-page)`);
        else if (!anchorsOf(readFileSync(file, 'utf8')).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${relative(ROOT, file)})`);
      }
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked >= 30, `only ${checked} links found: is the link pattern still right?`);
});

test('the README links every docs page and stays short', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n').length;
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move detail into docs/ (at most ${README_MAX_LINES})`);
  const linked = new Set(targetsOf(readme).map((t) => t.split('#')[0]));
  const topPages = readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md') && !n.startsWith('report-') && n !== 'sweep-lr.md');
  assert.deepEqual(
    topPages.filter((n) => !linked.has(`docs/${n}`)),
    [],
  );
});

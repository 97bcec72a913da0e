/**
 * Just enough Markdown for the documentation checks (test/docs/): the links a page makes, the
 * anchors its headings get on GitHub, its fenced code blocks and its tables. Pure functions of
 * the text, so the checks' own tests can feed them broken pages.
 */

/** One line of a page with whether it is inside a fenced code block. */
interface Line {
  text: string;
  /** 1-based. */
  number: number;
  /** Inside a fence, or the fence line itself. */
  code: boolean;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

function lines(markdown: string): Line[] {
  const out: Line[] = [];
  let fence: string | undefined;
  markdown.split(/\r?\n/).forEach((text, i) => {
    const m = FENCE.exec(text);
    if (fence === undefined) {
      if (m) {
        fence = m[1]!;
        out.push({ text, number: i + 1, code: true });
        return;
      }
      out.push({ text, number: i + 1, code: false });
      return;
    }
    // A closing fence: the same character, at least as long, nothing after it.
    if (m && m[1]![0] === fence[0] && m[1]!.length >= fence.length && m[2]!.trim() === "") fence = undefined;
    out.push({ text, number: i + 1, code: true });
  });
  return out;
}

/** A fenced code block: its info string (`sh`, `text`, …) and its content, without the fences. */
export interface CodeBlock {
  info: string;
  content: string;
  /** The line of the opening fence, 1-based. */
  line: number;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open: { info: string; line: number; fence: string; body: string[] } | undefined;
  markdown.split(/\r?\n/).forEach((text, i) => {
    const m = FENCE.exec(text);
    if (open === undefined) {
      if (m) open = { info: m[2]!.trim(), line: i + 1, fence: m[1]!, body: [] };
      return;
    }
    if (m && m[1]![0] === open.fence[0] && m[1]!.length >= open.fence.length && m[2]!.trim() === "") {
      blocks.push({ info: open.info, content: open.body.join("\n") + (open.body.length > 0 ? "\n" : ""), line: open.line });
      open = undefined;
      return;
    }
    open.body.push(text);
  });
  return blocks;
}

/** Inline code spans replaced by their text, so that nothing inside one reads as a link. */
function withoutCodeSpans(text: string): { plain: string; spans: string } {
  let plain = "";
  let spans = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] === "`") {
      let n = 0;
      while (text[i + n] === "`") n++;
      const ticks = "`".repeat(n);
      const end = text.indexOf(ticks, i + n);
      if (end !== -1 && text[end + n] !== "`") {
        const inner = text.slice(i + n, end);
        spans += inner;
        // Keep the span's text for slugs, but neutralise link syntax inside it.
        plain += inner.replace(/[[\]()]/g, " ");
        i = end + n;
        continue;
      }
      plain += ticks;
      i += n;
      continue;
    }
    plain += text[i];
    i++;
  }
  return { plain, spans };
}

/**
 * GitHub's heading anchor for a heading's text (github-slugger): the rendered text, lower-cased,
 * every character that is not a letter, mark, number, connector (`_`), space or `-` removed,
 * each space turned into `-`. Inline code keeps its text; link and image syntax keeps its text;
 * emphasis markers go.
 */
export function githubSlug(heading: string): string {
  let text = withoutCodeSpansKeepText(heading);
  text = text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\[[^\]]*\]/g, "$1")
    .replace(/<[^>]+>/g, "");
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** A heading's text with inline code spans' backticks dropped and emphasis markers (outside code) removed. */
function withoutCodeSpansKeepText(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] === "`") {
      let n = 0;
      while (text[i + n] === "`") n++;
      const ticks = "`".repeat(n);
      const end = text.indexOf(ticks, i + n);
      if (end !== -1) {
        // Code: kept literally, underscores and all.
        out += text.slice(i + n, end).trim();
        i = end + n;
        continue;
      }
    }
    // Emphasis with * or _ around words renders without the markers.
    const c = text[i]!;
    if ((c === "*" || c === "_") && isEmphasisMarker(text, i)) {
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** `*`/`_` at a word boundary (left- or right-flanking), as emphasis is; `snake_case` keeps its `_`. */
function isEmphasisMarker(text: string, i: number): boolean {
  const before = text[i - 1] ?? " ";
  const after = text[i + 1] ?? " ";
  const word = /[\p{L}\p{N}]/u;
  if (text[i] === "_") return !(word.test(before) && word.test(after));
  return true;
}

/** The anchors a page's headings (ATX `#` headings outside code) and explicit `<a name|id>` tags get. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of lines(markdown)) {
    if (line.code) continue;
    for (const m of line.text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]!);
    const h = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+\s*)?$/.exec(line.text);
    if (!h) continue;
    const base = githubSlug(h[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** A link in a page: its target as written and the line it is on. */
export interface Link {
  target: string;
  line: number;
}

/**
 * The links of a page, outside code: inline `[text](target)` and `![alt](target)` (with an
 * optional title), and reference definitions `[label]: target`. Autolinks and bare URLs are
 * not relative, so they are not collected.
 */
export function links(markdown: string): Link[] {
  const out: Link[] = [];
  for (const line of lines(markdown)) {
    if (line.code) continue;
    const { plain } = withoutCodeSpans(line.text);
    for (const m of plain.matchAll(/\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ target: m[1]!.replace(/^<|>$/g, ""), line: line.number });
    }
    const def = /^ {0,3}\[[^\]]+\]:\s+(\S+)/.exec(plain);
    if (def) out.push({ target: def[1]!, line: line.number });
  }
  return out;
}

/** The rows of every table whose header's first cell is `firstHeader`, as arrays of cells. */
export function tableRows(markdown: string, firstHeader: string): string[][] {
  const rows: string[][] = [];
  const ls = lines(markdown);
  for (let i = 0; i + 1 < ls.length; i++) {
    const header = ls[i]!;
    const rule = ls[i + 1]!;
    if (header.code || !header.text.trimStart().startsWith("|") || !/^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(rule.text)) continue;
    if (cells(header.text)[0] !== firstHeader) continue;
    let j = i + 2;
    for (; j < ls.length && !ls[j]!.code && ls[j]!.text.trimStart().startsWith("|"); j++) rows.push(cells(ls[j]!.text));
    i = j - 1;
  }
  return rows;
}

/** A table row's cells, split on `|` outside code spans, trimmed. */
function cells(row: string): string[] {
  const out: string[] = [];
  let cell = "";
  let inCode = false;
  const text = row.trim().replace(/^\|/, "").replace(/\|$/, "");
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "`") inCode = !inCode;
    if (c === "\\" && text[i + 1] === "|") {
      cell += "|";
      i++;
      continue;
    }
    if (c === "|" && !inCode) {
      out.push(cell.trim());
      cell = "";
      continue;
    }
    cell += c;
  }
  out.push(cell.trim());
  return out;
}

/** The inline code spans of a piece of text: `a` and `b` for "`a`, `b`". */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

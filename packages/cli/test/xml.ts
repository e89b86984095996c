/** A minimal XML well-formedness check for the SVG writer tests: balanced tags, quoted attributes. */
export function checkWellFormed(xml: string): { elements: Map<string, number> } {
  const elements = new Map<string, number>();
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = tag.exec(body)) !== null) {
    if (m[6]) throw new Error(`stray '<' at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(m[5])) throw new Error(`unescaped & in text: ${m[5].slice(0, 40)}`);
      if (stack.length === 0 && m[5].trim()) throw new Error('text outside the root element');
      continue;
    }
    const [, close, name, , selfClose] = m as unknown as [string, string, string, string, string];
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    if (stack.length === 0) roots++;
    elements.set(name, (elements.get(name) ?? 0) + 1);
    if (!selfClose) stack.push(name);
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`expected one root element, found ${roots}`);
  return { elements };
}

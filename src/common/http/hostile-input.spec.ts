import { inspectJsonBody, inspectPath, inspectQuery, jsonNestingExceeds, MAX_FREE_FORM_JSON_DEPTH, MAX_JSON_DEPTH } from './hostile-input';

const bytes = (text: string) => Buffer.from(text, 'utf8');
/** `{"a":{"a":…1…}}` with `levels` objects. */
const nestedObjects = (levels: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};

describe('jsonNestingExceeds (raw text, before JSON.parse)', () => {
  it('counts objects and arrays alike', () => {
    expect(jsonNestingExceeds(bytes(`${'['.repeat(64)}${']'.repeat(64)}`), 64)).toBe(false);
    expect(jsonNestingExceeds(bytes(`${'['.repeat(65)}${']'.repeat(65)}`), 64)).toBe(true);
    expect(jsonNestingExceeds(bytes(JSON.stringify(nestedObjects(65))), 64)).toBe(true);
    expect(jsonNestingExceeds(bytes(JSON.stringify(nestedObjects(64))), 64)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ a: '['.repeat(500), b: '\\"{{{{'.repeat(100), c: '"'.repeat(50) + '{'.repeat(200) });
    expect(jsonNestingExceeds(bytes(text), 2)).toBe(false);
  });

  it('is linear and stops early on a megabyte of brackets (no recursion, no parse)', () => {
    const huge = Buffer.alloc(1024 * 1024, '[');
    expect(jsonNestingExceeds(huge, 64)).toBe(true);
  });

  it('is not confused by multi-byte UTF-8', () => {
    expect(jsonNestingExceeds(bytes(JSON.stringify({ 'ключ': ['ü', '⟦{', '😀'] })), 2)).toBe(false);
  });
});

describe('inspectJsonBody (parsed body, iterative)', () => {
  it('accepts ordinary bodies', () => {
    expect(inspectJsonBody({ name: 'payments', stages: [{ name: 'one', required_approvals: 1 }], n: null, ok: true })).toEqual([]);
    expect(inspectJsonBody([1, 'a', { b: 'c' }])).toEqual([]);
  });

  it('names every string holding a NUL, in values and keys, at any depth', () => {
    const issues = inspectJsonBody({ name: 'a\u0000b', stages: [{ name: 'x' }, { title: '\u0000' }], 'k\u0000': 1 });
    expect(issues).toEqual(
      expect.arrayContaining([
        { field: 'name', issue: 'must not contain NUL characters' },
        { field: '["k\\u0000"]', issue: 'must not contain NUL characters' },
        { field: 'stages[1].title', issue: 'must not contain NUL characters' },
      ]),
    );
    expect(issues).toHaveLength(3);
    expect(issues.filter((issue) => issue.field.includes('\u0000'))).toEqual([]); // never echoed raw
    expect(inspectJsonBody(['\u0000'])).toEqual([{ field: '[0]', issue: 'must not contain NUL characters' }]);
  });

  it('refuses __proto__, constructor and prototype keys anywhere (JSON.parse keeps them as own keys)', () => {
    const body = JSON.parse('{"__proto__":{"admin":true},"a":{"constructor":{"prototype":{}}},"b":[{"prototype":1}]}') as unknown;
    expect(inspectJsonBody(body)).toEqual([
      { field: '__proto__', issue: 'is a reserved name' },
      { field: 'a.constructor', issue: 'is a reserved name' },
      { field: 'b[0].prototype', issue: 'is a reserved name' },
    ]);
  });

  it(`allows ${MAX_JSON_DEPTH} levels and refuses one more, naming the container`, () => {
    expect(inspectJsonBody(nestedObjects(MAX_JSON_DEPTH))).toEqual([]);
    const issues = inspectJsonBody(nestedObjects(MAX_JSON_DEPTH + 1));
    expect(issues).toEqual([{ field: Array(MAX_JSON_DEPTH).fill('a').join('.'), issue: `is nested deeper than ${MAX_JSON_DEPTH} levels` }]);
  });

  it(`allows ${MAX_FREE_FORM_JSON_DEPTH} levels (counted from the body) under payload, target and result`, () => {
    for (const key of ['payload', 'target', 'result']) {
      expect(inspectJsonBody({ [key]: nestedObjects(MAX_FREE_FORM_JSON_DEPTH - 1) })).toEqual([]);
      expect(inspectJsonBody({ [key]: nestedObjects(MAX_FREE_FORM_JSON_DEPTH) })).toEqual([
        { field: expect.stringMatching(new RegExp(`^${key}(\\.a)+$`)), issue: `is nested deeper than ${MAX_FREE_FORM_JSON_DEPTH} levels` },
      ]);
    }
    expect(inspectJsonBody({ name: nestedObjects(MAX_JSON_DEPTH) })).toEqual([
      { field: expect.stringMatching(/^name(\.a)+$/), issue: `is nested deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  });

  it('walks 100,000 levels without recursion', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(inspectJsonBody(deep)).toEqual([{ field: expect.stringMatching(/^(\[0\]){32}$/), issue: `is nested deeper than ${MAX_JSON_DEPTH} levels` }]);
  });

  it('reports at most 20 issues', () => {
    expect(inspectJsonBody(Array(1000).fill('\u0000'))).toHaveLength(20);
  });
});

describe('inspectQuery', () => {
  it('names the parameter whose value holds a NUL, arrays included', () => {
    expect(inspectQuery({ status: 'open', action: 'a\u0000b' })).toEqual([{ field: 'action', issue: 'must not contain NUL characters' }]);
    expect(inspectQuery({ status: ['open', '\u0000'] })).toEqual([{ field: 'status', issue: 'must not contain NUL characters' }]);
    expect(inspectQuery({ filter: { name: '\u0000' } })).toEqual([{ field: 'filter[name]', issue: 'must not contain NUL characters' }]);
  });

  it('reports a NUL in a parameter name without echoing it', () => {
    expect(inspectQuery({ 'a\u0000': 'x' })).toEqual([{ field: 'query', issue: 'parameter names must not contain NUL characters' }]);
  });

  it('accepts ordinary queries', () => {
    expect(inspectQuery({ limit: '10', cursor: 'abc', status: ['a', 'b'] })).toEqual([]);
    expect(inspectQuery(undefined)).toEqual([]);
  });
});

describe('inspectPath', () => {
  const templates = ['/api/v1/workspaces', '/api/v1/workspaces/:id', '/api/v1/agents/:id/jobs/:job_id/complete'];

  it('names the route parameter holding a NUL', () => {
    expect(inspectPath('/api/v1/workspaces/wsp_%00x', templates)).toEqual([{ field: 'id', issue: 'must not contain NUL characters' }]);
    expect(inspectPath('/api/v1/agents/agt_1/jobs/job%00/complete', templates)).toEqual([{ field: 'job_id', issue: 'must not contain NUL characters' }]);
  });

  it('refuses broken percent-encoding (incomplete escapes, invalid UTF-8)', () => {
    expect(inspectPath('/api/v1/workspaces/%E0%A4%A', templates)).toEqual([{ field: 'id', issue: 'is not valid percent-encoded UTF-8' }]);
    expect(inspectPath('/api/v1/workspaces/%C0%80', templates)).toEqual([{ field: 'id', issue: 'is not valid percent-encoded UTF-8' }]);
  });

  it('says "path" when no route has the shape', () => {
    expect(inspectPath('/nowhere/%00', templates)).toEqual([{ field: 'path', issue: 'must not contain NUL characters' }]);
  });

  it('accepts ordinary and correctly encoded paths', () => {
    expect(inspectPath('/api/v1/workspaces/wsp_01JD3Z6Q8Y4K2M9V7T5R3P1N0B', templates)).toEqual([]);
    expect(inspectPath('/api/v1/workspaces/caf%C3%A9%20x', templates)).toEqual([]);
  });
});

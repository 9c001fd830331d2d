import { describe, expect, it } from '@jest/globals';
import { containing } from './admin.service.js';

describe('containing', () => {
  it('escapes the LIKE wildcards and the escape character itself, nothing else', () => {
    expect(containing('ada')).toBe('%ada%');
    expect(containing('100%')).toBe('%100\\%%');
    expect(containing('a_b')).toBe('%a\\_b%');
    expect(containing('back\\slash')).toBe('%back\\\\slash%');
    expect(containing(`O'Brien "x"`)).toBe(`%O'Brien "x"%`);
  });
});

import { bearerTokenMatches, secretMatches } from '../src/auth';

const token = 'a-very-secret-token-123';

describe('bearerTokenMatches', () => {
  it('accepts the configured token in a Bearer header', () => {
    expect(bearerTokenMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerTokenMatches(`bearer ${token}`, token)).toBe(true);
  });

  it('refuses a missing, malformed, wrong, prefixed or extended token', () => {
    expect(bearerTokenMatches(undefined, token)).toBe(false);
    expect(bearerTokenMatches(token, token)).toBe(false);
    expect(bearerTokenMatches(`Basic ${token}`, token)).toBe(false);
    expect(bearerTokenMatches('Bearer wrong-token-wrong-token', token)).toBe(false);
    expect(bearerTokenMatches(`Bearer ${token.slice(0, -1)}`, token)).toBe(false);
    expect(bearerTokenMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerTokenMatches('Bearer ', token)).toBe(false);
    expect(bearerTokenMatches([`Bearer ${token}`], token)).toBe(false);
  });
});

describe('secretMatches', () => {
  it('is equality, whatever the lengths', () => {
    expect(secretMatches(token, token)).toBe(true);
    expect(secretMatches('', token)).toBe(false);
    expect(secretMatches(`${token}${token}`, token)).toBe(false);
    expect(secretMatches('é', 'e\u0301')).toBe(false);
  });
});

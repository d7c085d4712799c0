import { describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { assertHostAllowed, isLoopback } from '../../../src/run/blast-radius.js';

function refusal(url: string, allow: string[] = []): string | undefined {
  try {
    assertHostAllowed(url, allow, 'target', 'scenarios/x.yaml');
    return undefined;
  } catch (error) {
    if (!isIdemproofError(error) || error.category !== 'usage') throw error;
    return error.message;
  }
}

describe('blast radius: hosts', () => {
  it('knows loopback when it sees it, and nothing else as loopback', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', 'api.localhost', '[::1]', '::1'])
      expect(isLoopback(host), host).toBe(true);
    for (const host of [
      '10.0.0.1',
      '0.0.0.0',
      'localhost.example.com',
      '::ffff:7f00:1',
      'example.com',
    ])
      expect(isLoopback(host), host).toBe(false);
  });

  it('refuses a host outside loopback, naming it, the file and both ways to allow it', () => {
    const message = refusal('https://api.example.com/v1');
    expect(message).toContain('scenarios/x.yaml');
    expect(message).toContain('api.example.com');
    expect(message).toContain('--allow-host api.example.com');
    expect(message).toContain('target.allowHosts');
    expect(refusal('http://127.0.0.1:3000')).toBeUndefined();
  });

  it('allows a host by name, name:port or *.domain, and nothing by partial match', () => {
    expect(refusal('https://api.example.com', ['API.example.com'])).toBeUndefined();
    expect(refusal('https://api.example.com', ['api.example.com:443'])).toBeUndefined();
    expect(refusal('https://api.example.com:8443', ['api.example.com:443'])).toBeDefined();
    expect(refusal('https://a.b.staging.example.com', ['*.staging.example.com'])).toBeUndefined();
    expect(
      refusal('https://staging.example.com.evil.net', ['*.staging.example.com']),
    ).toBeDefined();
    expect(refusal('https://evilstaging.example.com', ['*.staging.example.com'])).toBeDefined();
    expect(refusal('https://example.com', ['example.co'])).toBeDefined();
  });

  it('says so when the URL is not one', () => {
    expect(refusal('not a url')).toContain("target 'not a url' is not a URL");
  });
});

import { describe, expect, it } from 'vitest';
import type { RecordedResponse } from '../../../src/history/events.js';
import { REDACTED, Redactor, scrubUrls } from '../../../src/history/redact.js';

const response = (body: string, headers: [string, string][] = []): RecordedResponse => ({
  status: 200,
  headers,
  body,
  bodyBytes: body.length,
  bodySha256: 'x'.repeat(64),
  bodyTruncated: false,
});

describe('Redactor', () => {
  it('hides the always-sensitive headers and listed ones, whatever their case', () => {
    const redactor = new Redactor({ headers: ['X-Partner-Secret'] });
    const headers = redactor.headers([
      ['authorization', 'Bearer tok_abcdef123'],
      ['Proxy-Authorization', 'Basic dXNlcjpwYXNz'],
      ['cookie', 'session=cookie_value_1; theme=dark'],
      ['set-cookie', 'sid=server_sid_42; HttpOnly'],
      ['X-API-Key', 'key_live_123456'],
      ['x-partner-secret', 'partner_secret_9'],
      ['content-type', 'application/json'],
    ]);
    expect(headers.map(([, value]) => value)).toEqual([
      REDACTED,
      REDACTED,
      REDACTED,
      REDACTED,
      REDACTED,
      REDACTED,
      'application/json',
    ]);
  });

  it('remembers secret values and scrubs them anywhere later: echoed bodies, messages, URLs', () => {
    const redactor = new Redactor();
    redactor.headers([
      ['authorization', 'Bearer tok_abcdef123'],
      ['cookie', 'session=cookie_value_1; theme=dark'],
    ]);
    expect(redactor.scrub('{"seen":"Bearer tok_abcdef123","token":"tok_abcdef123"}')).toBe(
      `{"seen":"${REDACTED}","token":"${REDACTED}"}`,
    );
    expect(redactor.scrub('cookie_value_1 was rejected')).toBe(`${REDACTED} was rejected`);
    expect(redactor.scrub('nothing secret here')).toBe('nothing secret here');
    // Short values are not searched for: "dark" stays.
    expect(redactor.scrub('theme dark')).toBe('theme dark');
  });

  it('redacts listed JSON fields at any depth, learning their values', () => {
    const redactor = new Redactor({ jsonFields: ['card_number', 'cvc'] });
    const body = redactor.body(
      JSON.stringify({ amount: 10, card: { card_number: '4242424242424242', cvc: '987' } }),
    );
    expect(JSON.parse(body)).toEqual({
      amount: 10,
      card: { card_number: REDACTED, cvc: REDACTED },
    });
    expect(redactor.scrub('charged 4242424242424242')).toBe(`charged ${REDACTED}`);
  });

  it('redacts listed fields in a JSON body cut short, where it cannot be parsed', () => {
    const redactor = new Redactor({ jsonFields: ['card_number'] });
    const body = redactor.body('{"card_number": "4242424242424242", "items": [1, 2');
    expect(body).toBe(`{"card_number": "${REDACTED}", "items": [1, 2`);
  });

  it('redacts a response: headers, body, and the secrets it sets for later', () => {
    const redactor = new Redactor({ jsonFields: ['session'] });
    const redacted = redactor.response(
      response('{"id":"pay_1","session":"sess_secret_77"}', [['set-cookie', 'sid=sid_secret_99']]),
    );
    expect(redacted.headers).toEqual([['set-cookie', REDACTED]]);
    expect(redacted.body).toBe(`{"id":"pay_1","session":"${REDACTED}"}`);
    expect(redactor.scrub('sid_secret_99 sess_secret_77')).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('leaves requests without secrets exactly as they were', () => {
    const redactor = new Redactor({ jsonFields: ['card_number'] });
    const request = {
      method: 'POST',
      url: 'http://127.0.0.1:1/payments',
      targetUrl: 'http://127.0.0.1:2/payments',
      headers: [['content-type', 'application/json']] as const,
      body: '{ "amount": 1 }',
    };
    expect(redactor.request(request)).toEqual(request);
  });
});

describe('scrubUrls and the Redactor on URLs', () => {
  it('removes the userinfo of every URL in any text, and remembers the password', () => {
    const redactor = new Redactor();
    const text =
      'cannot connect to postgres://app:pg_Pass%2Fword99@db.internal:5432/app; target http://admin:hunter2secret@127.0.0.1:3000/x';
    expect(redactor.scrub(text)).toBe(
      `cannot connect to postgres://${REDACTED}@db.internal:5432/app; target http://${REDACTED}@127.0.0.1:3000/x`,
    );
    // Leftover copies elsewhere (a body that echoes it, decoded or not) are scrubbed too.
    expect(redactor.scrub('your password hunter2secret is wrong')).toBe(
      `your password ${REDACTED} is wrong`,
    );
    expect(redactor.scrub('pg_Pass/word99')).toBe(REDACTED);
    // A password holding a raw @ is cut at the last @ before the host, as URL parsers do.
    expect(scrubUrls('http://u:p@ss@host/x')).toBe(`http://${REDACTED}@host/x`);
    expect(scrubUrls('mail me at someone@example.com')).toBe('mail me at someone@example.com');
  });

  it('redacts credential query parameters, whatever their case, and nothing else', () => {
    expect(
      scrubUrls(
        'GET /cb?Token=abc123&page=2&access_token=xyz&API_KEY=k1&key=idp-1&sig=s&signature=t&password=p#frag',
      ),
    ).toBe(
      `GET /cb?Token=${REDACTED}&page=2&access_token=${REDACTED}&API_KEY=${REDACTED}&key=${REDACTED}&sig=${REDACTED}&signature=${REDACTED}&password=${REDACTED}#frag`,
    );
    expect(scrubUrls('/things?monkey=1&keys=2&tokens=3')).toBe('/things?monkey=1&keys=2&tokens=3');
    // Placeholders are not values: a scenario's template stays readable.
    expect(scrubUrls('/things?key={{key}}&token=${API_TOKEN}')).toBe(
      '/things?key={{key}}&token=${API_TOKEN}',
    );
  });

  it('follows the rules it is given: more parameters, or fewer', () => {
    const redactor = new Redactor({ queryParams: ['client_secret'] });
    expect(redactor.scrub('/x?client_secret=cs_1234567&key=idp-1')).toBe(
      `/x?client_secret=${REDACTED}&key=idp-1`,
    );
  });

  it('cleans recorded request URLs', () => {
    const redactor = new Redactor();
    const request = redactor.request({
      method: 'POST',
      url: 'http://127.0.0.1:1/pay?token=tok_in_query_1',
      targetUrl: 'http://user:pw_in_url_1@127.0.0.1:2/pay?token=tok_in_query_1',
      headers: [],
      body: null,
    });
    expect(request.url).toBe(`http://127.0.0.1:1/pay?token=${REDACTED}`);
    expect(request.targetUrl).toBe(`http://${REDACTED}@127.0.0.1:2/pay?token=${REDACTED}`);
  });
});
